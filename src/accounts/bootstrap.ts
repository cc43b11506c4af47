import type { Clock } from '../lib/clock.js';
import { parseCidr } from '../lib/cidr.js';
import { newId32 } from '../lib/ids.js';
import type { AdminDataStore } from '../store/ports.js';
import type { TrustedPeerTransport } from '../store/records.js';
import { isStoredApiKey, issueApiKey } from './api-keys.js';

export interface BootstrapOptions {
  clock: Clock;
  /** Realm of the first account. Default `localhost`; change it later with `POST /v2/accounts/{id}`. */
  realm?: string;
  /** Name of the first account. Default `master`. */
  name?: string;
  /** PISTON_BOOTSTRAP_API_KEY: 64 hex chosen by automation; default a random one. */
  apiKey?: string;
  /**
   * PISTON_SIP_TRUSTED_PEERS: the master account's first trusted peers (a PBX, a Kamailio in front), written only on
   * a first start; later the API owns the list. Refresh the trusted-peer index afterwards.
   */
  trustedPeers?: readonly { cidr: string; transport?: TrustedPeerTransport }[];
}

export interface BootstrapResult {
  /** True when the store was empty and the first account was made now. */
  created: boolean;
  /** The first account's id (the oldest account when nothing was created). */
  accountId: string;
  /** Present only when `created`: the new account's realm and name, for the first-start line. */
  realm?: string;
  name?: string;
  /** Present only when `created`: the account's API key, generated or supplied, for the first-start line. */
  apiKey?: string;
  /** Present only when `created`: whether the key came from PISTON_BOOTSTRAP_API_KEY. */
  keySupplied?: boolean;
  /**
   * True when a key was supplied, the store already had accounts, and the key is not one of its keys: it was not
   * used (keys are made only on a first start) and the operator must be told so, not left with 401s.
   */
  suppliedKeyUnused?: boolean;
}

export const DEFAULT_BOOTSTRAP_REALM = 'localhost';
const API_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** How an operator gets a new key for an existing data directory without the API (src/admin.ts). */
export const CREATE_API_KEY_COMMAND = 'npm run admin -- create-api-key';
const DEFAULT_DATA_DIR = './data';

/**
 * First start (api-contract.md, authentication): with no account in the store, create the first account ("master",
 * a root) and an API key for it, so a fresh install is usable at once. Nothing happens when any account exists, even
 * if a different bootstrap key is configured later: keys are not added behind the operator's back (the result says
 * so, for a warning). The composition root calls it once the listeners are up, so a start that fails to listen
 * leaves no account behind and the next start is again a first start; refresh the account resolver afterwards.
 */
export function bootstrap(store: AdminDataStore, opts: BootstrapOptions): BootstrapResult {
  const supplied = opts.apiKey?.toLowerCase();
  if (supplied !== undefined && !API_KEY_PATTERN.test(supplied)) {
    throw new Error('the bootstrap API key must be 64 hexadecimal characters');
  }
  const existing = store.accounts.loadAll();
  if (existing.length > 0) {
    const found = { created: false, accountId: existing[0]!.id };
    return supplied !== undefined && !isStoredApiKey(store, supplied) ? { ...found, suppliedKeyUnused: true } : found;
  }
  const now = opts.clock.now();
  const accountId = newId32();
  const name = opts.name ?? 'master';
  const realm = (opts.realm ?? DEFAULT_BOOTSTRAP_REALM).toLowerCase();
  store.accounts.put({ id: accountId, name, realm, parentId: null, createdAt: now, updatedAt: now });
  const apiKey = issueApiKey(store, opts.clock, accountId, supplied);
  const seen = new Set<string>();
  for (const peer of opts.trustedPeers ?? []) {
    const cidr = parseCidr(peer.cidr);
    if (!cidr) throw new Error(`PISTON_SIP_TRUSTED_PEERS: ${JSON.stringify(peer.cidr)} is not an IP address or CIDR block`);
    const transport = peer.transport ?? null;
    // A repeated entry would be refused by the API as a duplicate; here it is simply written once.
    if (seen.has(`${cidr.text};${transport}`)) continue;
    seen.add(`${cidr.text};${transport}`);
    const name = 'PISTON_SIP_TRUSTED_PEERS';
    store.trustedPeers.put({ id: newId32(), accountId, cidr: cidr.text, transport, fingerprint: null, name, createdAt: now, updatedAt: now });
  }
  return { created: true, accountId, realm, name, apiKey, keySupplied: supplied !== undefined };
}

/** Where a client on this host reaches the API: a wildcard bind address is reached through loopback. */
export function apiUrl(api: { host: string; port: number; secure?: boolean }, path: string): string {
  const host = api.host === '0.0.0.0' || api.host === '::' || api.host === '' ? '127.0.0.1' : api.host;
  return `${api.secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${api.port}${path}`;
}

/**
 * A shell command that exchanges `apiKey` for a token, pasteable as it is: the key itself inside single quotes
 * (never a variable the shell would not expand there), JSON with plain double quotes, the URL quoted because an
 * IPv6 literal's brackets are glob characters. Keys are hex and the URL has no quote, so nothing needs escaping.
 */
export function tokenCommand(apiKey: string, api: { host: string; port: number; secure?: boolean }): string {
  return `curl -X PUT -d '${JSON.stringify({ data: { api_key: apiKey } })}' '${apiUrl(api, '/v2/api_auth')}'`;
}

/**
 * The first-start notice, plain text for standard error: what was created, then the token command alone on its
 * own line so that it can be copied whole. It holds the key; it is printed once, never logged.
 */
export function firstStartMessage(result: BootstrapResult, api: { host: string; port: number; secure?: boolean }): string {
  const key = result.keySupplied ? 'the API key from PISTON_BOOTSTRAP_API_KEY' : 'a new API key (shown only this once)';
  return (
    `first start: created account ${result.accountId} (name "${result.name}", realm "${result.realm}") with ${key}; ` +
    `get a token with:\n${tokenCommand(result.apiKey ?? '', api)}\n`
  );
}

/** The command that makes a new API key for `dataDir`, with PISTON_DATA_DIR when it is not the default. */
export function createApiKeyCommand(dataDir: string): string {
  return dataDir === DEFAULT_DATA_DIR ? CREATE_API_KEY_COMMAND : `PISTON_DATA_DIR=${shellWord(dataDir)} ${CREATE_API_KEY_COMMAND}`;
}

/** The warning for a PISTON_BOOTSTRAP_API_KEY that this data directory does not know (BootstrapResult.suppliedKeyUnused). */
export function unusedBootstrapKeyMessage(dataDir: string): string {
  return (
    `PISTON_BOOTSTRAP_API_KEY is set but is not an API key of the data directory ${dataDir}: it is used only on a ` +
    `first start (no account yet), and this directory has accounts, so the variable was ignored. ` +
    `Get a new key with: ${createApiKeyCommand(dataDir)}`
  );
}

/** A word the shell reads back as `s`: as it is when it holds only safe characters, else single-quoted. */
function shellWord(s: string): string {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
