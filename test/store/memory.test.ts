import { ManualClock } from '../../src/lib/clock.js';
import { createMemoryStore } from '../../src/store/memory/index.js';
import type { StoreBackend } from '../../src/store/ports.js';
import { adminContract } from './admin-contract.js';
import type { StoreHarness } from './helpers/contract-harness.js';
import { presenceContract } from './presence-contract.js';

// One memory store serves both ports; each contract tests its side.
const open = (): StoreHarness<StoreBackend> => {
  const store = createMemoryStore();
  return { store, clock: new ManualClock(), cleanup: () => store.close() };
};
presenceContract('memory', open);
adminContract('memory', open);
