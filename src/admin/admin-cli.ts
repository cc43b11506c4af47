import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/config.js';
import { ID_PATTERN } from '../accounts/schemas.js';
import { issueApiKey, tokenCommand } from '../accounts/index.js';
import type { Clock } from '../lib/clock.js';
import { openSqliteStore, SQLITE_FILE_NAME } from '../store/sqlite/sqlite-store.js';
import type { AdminDataStore, StoreBackend } from '../store/ports.js';
import type { AccountRecord } from '../store/records.js';

/**
 * `npm run admin -- <command>`: operator commands that work on the data directory's SQLite store directly, without
 * the admin API (which needs a key to begin with). Today one command, `create-api-key`: the way back in for an
 * operator who lost the first-start key, or whose first start's key was never shown.
 *
 * Running it beside a running server is safe, so it does not ask for the server to be stopped. The database is in
 * WAL mode, which lets a second connection write while the server's is open; SQLite's file locks serialise the two
 * writers (this connection waits up to BUSY_TIMEOUT_MS for a write lock, and holds it for one single-row insert, far
 * below the server's own 200 ms wait). The command writes only the API-key table, which the server does not cache
 * (written through, read from SQLite on every `PUT /v2/api_auth`), so the new key works at once, with no restart.
 * It never creates a database: with no `piston.sqlite` (or an empty one) it refuses and leaves the directory as it
 * is, so a typo in PISTON_DATA_DIR cannot make a store that a later start would take for a first start.
 */

export interface AdminOutcome {
  /** Exit status: 0 done, 1 refused (nothing changed), 2 usage or configuration error. */
  code: number;
  /** For standard output: what the operator asked for (the key and the token command). */
  out: string;
  /** For standard error: why nothing was done. */
  err: string;
}

export interface AdminDeps {
  clock: Clock;
}

/** How long this connection waits for the server's write lock before giving up. */
const BUSY_TIMEOUT_MS = 5000;

export const ADMIN_USAGE = `usage: npm run admin -- <command> [options]

commands:
  create-api-key [--account <id>]
      Adds a new API key to an account (default: the first account, the one the first start made) and prints it
      once, with a curl command that exchanges it for a token. Reads PISTON_DATA_DIR like the server, and
      PISTON_API_HOST / PISTON_API_PORT for the printed command. Safe while the server runs; old keys stay valid.
`;

interface Parsed {
  command: 'create-api-key' | 'help';
  account?: string;
}

/** Runs one admin command. `argv` is what follows `npm run admin --`; `env` holds the PISTON_* variables. */
export function runAdmin(argv: readonly string[], env: Record<string, string | undefined>, deps: AdminDeps): AdminOutcome {
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') return { code: 2, out: '', err: `${parsed}\n\n${ADMIN_USAGE}` };
  if (parsed.command === 'help') return { code: 0, out: ADMIN_USAGE, err: '' };
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return { code: 2, out: '', err: `${err.message}\n` };
    throw err;
  }
  const file = join(config.dataDir, SQLITE_FILE_NAME);
  const size = fileSize(file);
  if (size === undefined) {
    return refuse(
      `no database at ${file} (PISTON_DATA_DIR=${config.dataDir}): nothing to add a key to. Check PISTON_DATA_DIR, ` +
        'or start the server: a first start creates the master account and prints its API key.',
    );
  }
  if (size === 0) {
    // Opening it would write a fresh schema into it, hiding that the database was lost.
    return refuse(`${file} is empty (0 bytes): its accounts are gone. Restore it from a backup; it was left as it is.`);
  }
  let store: StoreBackend;
  try {
    store = openSqliteStore({ dataDir: config.dataDir, clock: deps.clock, busyTimeoutMs: BUSY_TIMEOUT_MS, checkpointIntervalMs: 0 });
  } catch (err) {
    return refuse(`cannot open ${file}: ${(err as Error).message}`);
  }
  try {
    const account = pickAccount(store, parsed.account);
    if (typeof account === 'string') return refuse(account);
    const apiKey = issueApiKey(store, deps.clock, account.id);
    const out =
      `created an API key for account ${account.id} (name "${account.name}", realm "${account.realm}") in ${file}; ` +
      `it is shown only this once:\n${apiKey}\nget a token with:\n${tokenCommand(apiKey, { ...config.api, secure: config.api.tls !== undefined })}\n`;
    return { code: 0, out, err: '' };
  } catch (err) {
    return refuse(`could not add the key to ${file}: ${(err as Error).message}`);
  } finally {
    store.close();
  }
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

function refuse(why: string): AdminOutcome {
  return { code: 1, out: '', err: `create-api-key: ${why}\n` };
}

function parseArgs(argv: readonly string[]): Parsed | string {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command !== 'create-api-key') return `unknown command ${JSON.stringify(command)}`;
  const parsed: Parsed = { command };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const inline = arg.startsWith('--account=') ? arg.slice('--account='.length) : undefined;
    if (arg !== '--account' && inline === undefined) return `unknown option ${JSON.stringify(arg)}`;
    const value = inline ?? rest[++i];
    if (value === undefined || !ID_PATTERN.test(value.toLowerCase())) {
      return `--account needs an account id (32 hexadecimal characters), got ${JSON.stringify(value ?? '')}`;
    }
    parsed.account = value.toLowerCase();
  }
  return parsed;
}

/** The named account, or the first (oldest) one, which the first start made; a reason to refuse otherwise. */
function pickAccount(store: AdminDataStore, id: string | undefined): AccountRecord | string {
  const all = store.accounts.loadAll();
  if (all.length === 0) {
    return 'the database has no account yet: start the server, and its first start creates the master account and prints its API key.';
  }
  if (id === undefined) return all[0]!;
  const found = all.find((a) => a.id === id);
  if (found) return found;
  const known = all.slice(0, 10).map((a) => `  ${a.id}  ${a.name}  ${a.realm}`);
  const more = all.length > known.length ? [`  … and ${all.length - known.length} more`] : [];
  return `no account ${id} in this database; its accounts (id, name, realm):\n${[...known, ...more].join('\n')}`;
}
