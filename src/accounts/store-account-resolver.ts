import type { AdminDataStore } from '../store/ports.js';
import { ListAccountResolver } from './account-resolver.js';

export interface StoreAccountResolverOptions {
  /** The first (oldest) account serves SIP domains no account claims (PISTON_DEFAULT_ACCOUNT_FOR_UNKNOWN_DOMAINS). */
  defaultForUnknown: boolean;
}

/**
 * The SIP side's AccountResolver over the accounts store. Realms are cached (SUBSCRIBE and PUBLISH ask on every
 * request); the accounts service calls `refresh()` after each change, and so must whoever writes accounts directly.
 */
export function createStoreAccountResolver(store: AdminDataStore, opts: StoreAccountResolverOptions): ListAccountResolver {
  return new ListAccountResolver(
    () => store.accounts.loadAll().map((a) => ({ id: a.id, realm: a.realm })),
    opts.defaultForUnknown,
  );
}
