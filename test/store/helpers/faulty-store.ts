import { MemoryStore } from '../../../src/store/memory/index.js';
import type { StoreWriteHealth } from '../../../src/store/ports.js';

/** What a SQLite store reports while its flushes fail on a damaged page (test/store/sqlite/store-faults.test.ts). */
export const CORRUPT: StoreWriteHealth = Object.freeze({
  writable: false,
  fault: Object.freeze({ code: 'SQLITE_CORRUPT', message: 'database disk image is malformed', since: 1_700_000_000_000 }),
  failedFlushes: 3,
});

export const WRITABLE: StoreWriteHealth = Object.freeze({ writable: true, fault: null, failedFlushes: 0 });

/** A memory store whose write health the test sets, for the code that must act on a store that cannot write. */
export class FaultyStore extends MemoryStore {
  health: StoreWriteHealth = WRITABLE;

  override writeHealth(): StoreWriteHealth {
    return this.health;
  }
}
