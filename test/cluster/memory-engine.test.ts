import { ManualClock } from '../../src/lib/clock.js';
import { MemoryClusterData } from '../../src/cluster/memory/memory-cluster-data.js';
import { MemoryClusterEngine } from '../../src/cluster/memory/memory-cluster-engine.js';
import { engineContract } from './engine-contract.js';

engineContract('memory', async () => {
  const clock = new ManualClock();
  const data = new MemoryClusterData();
  const engines: MemoryClusterEngine[] = [new MemoryClusterEngine(data, clock)];
  return {
    engine: engines[0]!,
    peer: () => {
      const e = new MemoryClusterEngine(data, clock);
      engines.push(e);
      return e;
    },
    now: () => clock.now(),
    pass: async (ms) => {
      clock.advance(ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
    trimChanges: async () => data.trimChanges(),
    wipe: async () => data.wipe(),
    cleanup: async () => {
      for (const e of engines) await e.close();
    },
  };
});
