import { ManualClock } from '../../src/lib/clock.js';
import { createMemoryStore } from '../../src/store/memory/index.js';
import { withDeferredReads } from './helpers/deferred-reads.js';
import { presenceContract } from './presence-contract.js';

// The presence contract holds for an engine whose reads settle later (the cluster's Redis): the contract waits for
// every answer, and "as of its call" (rule 2) is checked where the answer arrives after later writes.
presenceContract('memory behind deferred reads', () => {
  const store = withDeferredReads(createMemoryStore());
  return { store, clock: new ManualClock(), cleanup: () => store.close() };
});
