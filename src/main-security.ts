import type { Config } from './config/config.js';
import type { Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import {
  cidrPeerLookup,
  createSipAuthPolicy,
  devicesWithoutDigest,
  loadNonceSecret,
  NonceService,
  StoreCredentialDirectory,
  type SipAuthPolicy,
} from './security/index.js';
import type { AdminDataStore } from './store/admin-data-port.js';

/**
 * The SIP side's authentication and authorization as main.ts wires it (security.md): undefined with
 * `PISTON_SIP_AUTH=off`. Names, once, the devices that cannot authenticate yet. `PISTON_SIP_TRUSTED_PEERS` trusts
 * its addresses for the first account (the one made on first start) until trusted peers are kept per account.
 */
export function sipAuthPolicy(config: Config, store: AdminDataStore, clock: Clock, logger: Logger): SipAuthPolicy | undefined {
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
  let firstAccount: string | null = null;
  const first = (): string | null => (firstAccount ??= store.accounts.loadAll()[0]?.id ?? null);
  return createSipAuthPolicy({
    directory: new StoreCredentialDirectory(store, clock),
    nonces: new NonceService({ secret: loadNonceSecret(config.dataDir), lifetimeS: config.sipAuth.nonceLifetimeS }),
    clock,
    logger: logger.child({ module: 'sip-auth' }),
    trustedPeers: cidrPeerLookup(first, config.sipAuth.trustedPeers),
  });
}
