import type { Database } from 'better-sqlite3';
import { StoreError } from '../store-error.js';

/** One schema step. Step i (0-based) takes the file from `user_version` i to i + 1. Never edit a released step: append. */
export interface Migration {
  description: string;
  up(db: Database): void;
}

/**
 * The schema history, oldest first. JSON columns (route_set, flow, accept_types, last_notify, document, history)
 * hold nested values the store never queries into; bodies are BLOBs so they come back byte-exact.
 */
export const migrations: readonly Migration[] = [
  {
    description: 'subscriptions, publications, resource states, mailboxes',
    up(db) {
      db.exec(`
        CREATE TABLE subscriptions (
          id              TEXT PRIMARY KEY,
          call_id         TEXT NOT NULL,
          local_tag       TEXT NOT NULL,
          remote_tag      TEXT NOT NULL,
          event           TEXT NOT NULL,
          event_id        TEXT,
          resource        TEXT NOT NULL,
          domain          TEXT NOT NULL,
          account_id      TEXT,
          watcher_user    TEXT NOT NULL,
          watcher_domain  TEXT NOT NULL,
          watcher_uri     TEXT NOT NULL,
          resource_uri    TEXT NOT NULL,
          contact         TEXT NOT NULL,
          route_set       TEXT NOT NULL,
          flow            TEXT NOT NULL,
          local_cseq      INTEGER NOT NULL,
          remote_cseq     INTEGER NOT NULL,
          version         INTEGER NOT NULL,
          accept_types    TEXT NOT NULL,
          granted_expires INTEGER NOT NULL,
          expires_at      INTEGER NOT NULL,
          created_at      INTEGER NOT NULL,
          refreshed_at    INTEGER NOT NULL,
          strikes         INTEGER NOT NULL,
          last_notify     TEXT,
          node            TEXT NOT NULL
        );
        CREATE INDEX subscriptions_expires_at ON subscriptions (expires_at);
        CREATE INDEX subscriptions_resource ON subscriptions (resource, domain, event);
        CREATE INDEX subscriptions_watcher ON subscriptions (watcher_user, watcher_domain, resource, domain, event);
        CREATE INDEX subscriptions_domain ON subscriptions (domain, event);

        CREATE TABLE publications (
          resource     TEXT NOT NULL,
          event        TEXT NOT NULL,
          etag         TEXT NOT NULL,
          seq          INTEGER NOT NULL,
          content_type TEXT NOT NULL,
          body         BLOB NOT NULL,
          document     TEXT,
          expires_at   INTEGER NOT NULL,
          updated_at   INTEGER NOT NULL,
          PRIMARY KEY (resource, event, etag)
        );
        CREATE INDEX publications_expires_at ON publications (expires_at);

        CREATE TABLE resource_states (
          resource     TEXT PRIMARY KEY,
          manual_state TEXT CHECK (manual_state IN ('early', 'confirmed', 'terminated')),
          history      TEXT NOT NULL,
          updated_at   INTEGER NOT NULL
        );

        CREATE TABLE mailboxes (
          mailbox      TEXT PRIMARY KEY,
          new_messages INTEGER NOT NULL,
          old_messages INTEGER NOT NULL,
          urgent_new   INTEGER NOT NULL,
          urgent_old   INTEGER NOT NULL,
          updated_at   INTEGER NOT NULL
        );
      `);
    },
  },
  {
    description: 'accounts, devices, users, API keys, auth tokens (admin API)',
    up(db) {
      // No UNIQUE constraints: the accounts services enforce realm and SIP user name uniqueness case-insensitively,
      // and the memory backend behaves the same way.
      db.exec(`
        CREATE TABLE accounts (
          id         TEXT PRIMARY KEY,
          name       TEXT NOT NULL,
          realm      TEXT NOT NULL,
          parent_id  TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX accounts_realm ON accounts (realm);
        CREATE INDEX accounts_parent ON accounts (parent_id);

        CREATE TABLE devices (
          id                TEXT PRIMARY KEY,
          account_id        TEXT NOT NULL,
          name              TEXT NOT NULL,
          sip_username      TEXT NOT NULL,
          sip_password_hash TEXT NOT NULL,
          presence_id       TEXT,
          owner_id          TEXT,
          created_at        INTEGER NOT NULL,
          updated_at        INTEGER NOT NULL
        );
        CREATE INDEX devices_account ON devices (account_id);

        CREATE TABLE users (
          id               TEXT PRIMARY KEY,
          account_id       TEXT NOT NULL,
          first_name       TEXT NOT NULL,
          last_name        TEXT NOT NULL,
          presence_id      TEXT,
          username         TEXT,
          password_hash    TEXT,
          credentials_hash TEXT,
          created_at       INTEGER NOT NULL,
          updated_at       INTEGER NOT NULL
        );
        CREATE INDEX users_account ON users (account_id);

        CREATE TABLE api_keys (
          key_hash   TEXT PRIMARY KEY,
          account_id TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX api_keys_account ON api_keys (account_id);

        CREATE TABLE auth_tokens (
          token_hash   TEXT PRIMARY KEY,
          account_id   TEXT NOT NULL,
          owner_id     TEXT,
          method       TEXT NOT NULL CHECK (method IN ('api_key', 'credentials')),
          created_at   INTEGER NOT NULL,
          last_used_at INTEGER NOT NULL
        );
        CREATE INDEX auth_tokens_account ON auth_tokens (account_id);
        CREATE INDEX auth_tokens_last_used ON auth_tokens (last_used_at);
      `);
    },
  },
  {
    // The notifier serves every lookup from its live set (restore loads them all), so these three indexes only slowed
    // each subscription write: three more B-tree inserts per row. Their queries (admin and test paths) still work by scan.
    description: 'drop the subscription indexes the live set made unused',
    up(db) {
      db.exec(`
        DROP INDEX subscriptions_resource;
        DROP INDEX subscriptions_watcher;
        DROP INDEX subscriptions_domain;
      `);
    },
  },
  {
    // security.md §2.4: the HA1s a device's SIP password gives (JSON, null for devices from before: "password
    // required"), and an account's digest algorithms (JSON list, null: MD5 only).
    description: 'device digest secrets, account digest algorithms',
    up(db) {
      db.exec(`
        ALTER TABLE devices ADD COLUMN sip_digest TEXT;
        ALTER TABLE accounts ADD COLUMN digest_algorithms TEXT;
      `);
    },
  },
  {
    // Issue 19: trusted peers per account (security.md §3.3). Transport and fingerprint are checked by the accounts
    // service; the CHECK keeps a hand-edited row from holding a transport no listener has.
    description: 'trusted peers (admin API)',
    up(db) {
      db.exec(`
        CREATE TABLE trusted_peers (
          id          TEXT PRIMARY KEY,
          account_id  TEXT NOT NULL,
          cidr        TEXT NOT NULL,
          transport   TEXT CHECK (transport IN ('udp', 'tcp', 'tls', 'ws', 'wss')),
          fingerprint TEXT,
          name        TEXT,
          created_at  INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL
        );
        CREATE INDEX trusted_peers_account ON trusted_peers (account_id);
      `);
    },
  },
  {
    // Issue 19: the digest path looks a device up by (account, SIP user name lower-cased) instead of reading the
    // whole account (devices.findBySipUsername). Not UNIQUE: uniqueness stays the devices service's job, and a
    // hand-edited file holding two spellings of one name must still open.
    description: 'index devices by account and lower-cased SIP user name',
    up(db) {
      db.exec(`CREATE INDEX devices_account_sip_username ON devices (account_id, lower(sip_username));`);
    },
  },
];

export interface MigrationResult {
  /** user_version found on opening. */
  from: number;
  /** user_version now. */
  to: number;
}

/**
 * Brings the file to `steps.length` by running the steps it has not seen, each in its own transaction together
 * with its `user_version` bump, so a crash mid-way leaves a file at a clean earlier version. A file newer than
 * this build is refused: its tables may mean something this code would misread or destroy.
 */
export function migrate(db: Database, steps: readonly Migration[], location: string): MigrationResult {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (!Number.isInteger(from) || from < 0 || from > steps.length) {
    throw new StoreError(
      'store_version_too_new',
      `${location} has schema version ${String(from)}, but this build knows versions up to ${steps.length}; ` +
        'upgrade Piston or point it at another data directory',
    );
  }
  for (let v = from; v < steps.length; v++) {
    const step = steps[v]!;
    db.transaction(() => {
      step.up(db);
      // PRAGMA takes no bound parameters; v is an integer we computed, not input.
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return { from, to: steps.length };
}
