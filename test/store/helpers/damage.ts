import fs from 'node:fs';
import Database from 'better-sqlite3';
import { dbFile } from './temp-dir.js';

/**
 * Overwrites the root page of one table or index (by its name in sqlite_master) with 0xff bytes, in a database that
 * is not open. In a small file that root is the only page, so every write that reaches the b-tree meets the damage
 * and SQLite reports SQLITE_CORRUPT; reads that never touch it go on working, which is how a damaged page looks.
 */
export function damagePage(dataDir: string, name: string): void {
  const file = dbFile(dataDir);
  const db = new Database(file);
  let root: number;
  let pageSize: number;
  try {
    pageSize = db.pragma('page_size', { simple: true }) as number;
    const row = db.prepare('SELECT rootpage FROM sqlite_master WHERE name = ?').get(name) as { rootpage: number } | undefined;
    if (!row) throw new Error(`no ${name} in ${file}`);
    root = row.rootpage;
  } finally {
    db.close();
  }
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, Buffer.alloc(pageSize, 0xff), 0, pageSize, (root - 1) * pageSize);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The subscriptions table's primary-key index: every subscription write goes through it, while start-up reads the
 * table itself (loadAll) and counts through another index, so a server with this page damaged starts as if all were
 * well and fails on its first flush.
 */
export const SUBSCRIPTION_ID_INDEX = 'sqlite_autoindex_subscriptions_1';
