import type { Clock } from '../lib/clock.js';
import { newId32 } from '../lib/ids.js';
import type { PresenceStore } from '../store/ports.js';
import { newApiKey, sha256Hex } from './secrets.js';

export interface BootstrapOptions {
  clock: Clock;
  /** Realm of the first account. Default `localhost`; change it later with `POST /v2/accounts/{id}`. */
  realm?: string;
  /** Name of the first account. Default `master`. */
  name?: string;
  /** PISTON_BOOTSTRAP_API_KEY: 64 hex chosen by automation; default a random one. */
  apiKey?: string;
}

export interface BootstrapResult {
  /** True when the store was empty and the first account was made now. */
  created: boolean;
  /** The first account's id (the oldest account when nothing was created). */
  accountId: string;
  /** The generated API key, present only when `created` and no key was supplied (a supplied one is not repeated). */
  apiKey?: string;
}

export const DEFAULT_BOOTSTRAP_REALM = 'localhost';
const API_KEY_PATTERN = /^[0-9a-f]{64}$/;

/**
 * First start (api-contract.md, authentication): with no account in the store, create the first account ("master",
 * a root) and an API key for it, so a fresh install is usable at once. Nothing happens when any account exists, even
 * if a different bootstrap key is configured later: keys are not added behind the operator's back.
 * Call it before building the account resolver (or refresh the resolver afterwards).
 */
export function bootstrap(store: PresenceStore, opts: BootstrapOptions): BootstrapResult {
  const existing = store.accounts.loadAll();
  if (existing.length > 0) return { created: false, accountId: existing[0]!.id };
  const supplied = opts.apiKey?.toLowerCase();
  if (supplied !== undefined && !API_KEY_PATTERN.test(supplied)) {
    throw new Error('the bootstrap API key must be 64 hexadecimal characters');
  }
  const apiKey = supplied ?? newApiKey();
  const now = opts.clock.now();
  const accountId = newId32();
  store.accounts.put({
    id: accountId,
    name: opts.name ?? 'master',
    realm: (opts.realm ?? DEFAULT_BOOTSTRAP_REALM).toLowerCase(),
    parentId: null,
    createdAt: now,
    updatedAt: now,
  });
  store.apiKeys.put({ keyHash: sha256Hex(apiKey), accountId, createdAt: now });
  return supplied === undefined ? { created: true, accountId, apiKey } : { created: true, accountId };
}

/**
 * The one log line that tells a new operator how to get a token. With a supplied key it names the variable instead
 * of repeating the secret. Wildcard bind addresses are replaced by loopback, which is what works from the same host.
 */
export function firstStartMessage(result: BootstrapResult, api: { host: string; port: number }): string {
  const host = api.host === '0.0.0.0' || api.host === '::' || api.host === '' ? '127.0.0.1' : api.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${api.port}/v2/api_auth`;
  const key = result.apiKey ?? '$PISTON_BOOTSTRAP_API_KEY';
  return (
    `first start: created account ${result.accountId}; get a token with: ` +
    `curl -X PUT -d '{"data":{"api_key":"${key}"}}' ${url}`
  );
}
