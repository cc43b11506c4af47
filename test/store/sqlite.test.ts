import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/lib/clock.js';
import type { StoreBackend } from '../../src/store/ports.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { adminContract } from './admin-contract.js';
import type { StoreHarness } from './helpers/contract-harness.js';
import { presenceContract } from './presence-contract.js';

// One SQLite file and connection serves both ports; each contract tests its side.
const open = (): StoreHarness<StoreBackend> => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'piston-store-'));
  const clock = new ManualClock();
  let current: StoreBackend = openSqliteStore({ dataDir, clock });
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
};
presenceContract('sqlite', open);
adminContract('sqlite', open);
