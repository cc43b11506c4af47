import type { Config } from './config/config.js';
import type { Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import {
  createSipAuthPolicy,
  devicesWithoutDigest,
  loadNonceSecret,
  NonceService,
  StoreCredentialDirectory,
  type SipAuthPolicy,
  type TrustedPeerLookup,
} from './security/index.js';
import type { AdminDataStore } from './store/admin-data-port.js';

/**
 * The SIP side's authentication and authorization as main.ts wires it (security.md): undefined with
 * `PISTON_SIP_AUTH=off`. Names, once, the devices that cannot authenticate yet. Trusted peers (each account's list,
 * accounts/trusted-peer-index.ts) skip the challenge for their account's domains.
 */
export function sipAuthPolicy(
  config: Config,
  store: AdminDataStore,
  trustedPeers: TrustedPeerLookup,
  clock: Clock,
  logger: Logger,
  /** Cluster mode gives its own (sipNonceService), to rekey it; else made here. */
  nonces?: NonceService,
): SipAuthPolicy | undefined {
  if (config.sipAuth.mode === 'off') {
    logger.warn({ variable: 'PISTON_SIP_AUTH' }, 'SIP digest authentication is off: SUBSCRIBE and PUBLISH are accepted from anyone');
    return undefined;
  }
  const waiting = devicesWithoutDigest(store);
  if (waiting.length > 0) {
    logger.warn(
      { devices: waiting.map((d) => ({ account: d.accountId, realm: d.realm, device: d.deviceId, username: d.username })) },
      `${waiting.length} device(s) cannot authenticate until their SIP password is set again (set before digest secrets were kept, or before a realm change)`,
    );
  }
  return createSipAuthPolicy({
    directory: new StoreCredentialDirectory(store, clock),
    nonces: nonces ?? sipNonceService(config),
    clock,
    logger: logger.child({ module: 'sip-auth' }),
    trustedPeers,
  });
}

/**
 * The digest nonces over the secret kept with the data (made on first start). Cluster mode makes it first (main.ts),
 * so the cluster wiring can make it adopt the secret every node shares.
 */
export function sipNonceService(config: Config): NonceService {
  return new NonceService({ secret: loadNonceSecret(config.dataDir), lifetimeS: config.sipAuth.nonceLifetimeS });
}
