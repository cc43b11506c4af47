import type { Clock } from '../lib/clock.js';
import type { AdminDataStore } from '../store/ports.js';
import type { ListAccountResolver } from './account-resolver.js';
import { AccountService } from './account-service.js';
import { AuthService } from './auth-service.js';
import { DeviceService } from './device-service.js';
import { SecretHasher } from './secrets.js';
import { createStoreAccountResolver } from './store-account-resolver.js';
import { TrustedPeerService } from './trusted-peer-service.js';
import { UserService } from './user-service.js';

export interface AccountServicesOptions {
  store: AdminDataStore;
  clock: Clock;
  /** See StoreAccountResolverOptions. */
  defaultAccountForUnknownDomains: boolean;
  /** scrypt cost for passwords; tests pass a small one. */
  scryptCost?: number;
  /** Token idle lifetime; default one hour. */
  tokenIdleMs?: number;
}

/** Everything the admin API needs about accounts, and the resolver the SIP side needs, built over one store. */
export interface AccountServices {
  accounts: AccountService;
  devices: DeviceService;
  users: UserService;
  auth: AuthService;
  /** Trusted peers per account; `trustedPeers.index.lookup` is the SIP side's TrustedPeerLookup. */
  trustedPeers: TrustedPeerService;
  /** Pass to PresentityService and Notifier as `accounts`; kept current by the accounts service. */
  resolver: ListAccountResolver;
}

export function createAccountServices(opts: AccountServicesOptions): AccountServices {
  const { store, clock } = opts;
  const hasher = new SecretHasher(opts.scryptCost === undefined ? {} : { scryptCost: opts.scryptCost });
  const resolver = createStoreAccountResolver(store, { defaultForUnknown: opts.defaultAccountForUnknownDomains });
  const trustedPeers = new TrustedPeerService({ store, clock });
  return {
    accounts: new AccountService({ store, clock, onChange: () => resolver.refresh(), onDelete: (id) => trustedPeers.deleteAccount(id) }),
    devices: new DeviceService({ store, clock, hasher }),
    users: new UserService({ store, clock, hasher }),
    auth: new AuthService({ store, clock, hasher, ...(opts.tokenIdleMs === undefined ? {} : { idleMs: opts.tokenIdleMs }) }),
    trustedPeers,
    resolver,
  };
}
