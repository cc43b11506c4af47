import { MemoryClusterData } from '../../../src/cluster/memory/memory-cluster-data.js';
import { MemoryClusterEngine } from '../../../src/cluster/memory/memory-cluster-engine.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { directorySuite } from './directory-suite.js';

/** Lets the feed's drains (setImmediate) and the promises they start run. */
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

directorySuite('memory', async () => {
  const clock = new ManualClock();
  const data = new MemoryClusterData();
  const engines: MemoryClusterEngine[] = [];
  return {
    engine: () => {
      const e = new MemoryClusterEngine(data, clock);
      engines.push(e);
      return e;
    },
    clock,
    now: () => clock.now(),
    pass: async (ms) => {
      await turns(3);
      for (let left = ms; left > 0; left -= 10) {
        clock.advance(Math.min(10, left));
        await turns(3);
      }
    },
    wipe: async () => data.wipe(),
    cleanup: async () => {
      for (const e of engines) await e.close();
    },
  };
});
