import { ManualClock } from '../../src/lib/clock.js';
import { createMemoryStore } from '../../src/store/memory/index.js';
import { storeContract } from './contract.js';

storeContract('memory', () => {
  const store = createMemoryStore();
  return { store, clock: new ManualClock(), cleanup: () => store.close() };
});
