import type { Clock } from '../lib/clock.js';
import type { AdminDataStore } from '../store/ports.js';
import { UnknownIdError } from './account-errors.js';
import { newApiKey, sha256Hex } from './secrets.js';

/**
 * A new API key for an account (api-contract.md: 64 lower-case hex, kept only as its SHA-256). The clear key is
 * returned once and never stored. Used by the first start and by `npm run admin -- create-api-key`.
 */
export function issueApiKey(store: AdminDataStore, clock: Clock, accountId: string, chosen?: string): string {
  if (!store.accounts.get(accountId)) throw new UnknownIdError(accountId);
  const apiKey = chosen ?? newApiKey();
  store.apiKeys.put({ keyHash: sha256Hex(apiKey), accountId, createdAt: clock.now() });
  return apiKey;
}

/** True when `apiKey` is one of the store's keys (of an account that still exists). */
export function isStoredApiKey(store: AdminDataStore, apiKey: string): boolean {
  const rec = store.apiKeys.get(sha256Hex(apiKey.toLowerCase()));
  return rec !== undefined && store.accounts.get(rec.accountId) !== undefined;
}
