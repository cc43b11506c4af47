import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_FILE_NAME } from '../../../src/store/sqlite/index.js';

/** A fresh directory under the OS temp dir, removed when the test ends. */
export function tempDataDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'piston-store-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function dbFile(dataDir: string): string {
  return path.join(dataDir, SQLITE_FILE_NAME);
}

/**
 * Runs `fn` on a second connection to the store's file. It sees only committed transactions, which is exactly
 * "what is on disk" for the write-behind tests.
 */
export function onDisk<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(dbFile(dataDir));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
