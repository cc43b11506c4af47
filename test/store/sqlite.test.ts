import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/lib/clock.js';
import type { PresenceStore } from '../../src/store/ports.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { storeContract } from './contract.js';

storeContract('sqlite', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'piston-store-'));
  const clock = new ManualClock();
  let current: PresenceStore = openSqliteStore({ dataDir, clock });
  return {
    store: current,
    clock,
    reopen: () => {
      current.close();
      current = openSqliteStore({ dataDir, clock });
      return current;
    },
    cleanup: () => {
      current.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
