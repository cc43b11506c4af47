import t from 'tap';
import { MemoryAdminSync, MemoryAdminSyncData } from '../../src/cluster/memory/memory-admin-sync.js';
import { SystemClock } from '../../src/lib/clock.js';
import { adminSyncSuite } from './admin-sync-suite.js';

adminSyncSuite(t, 'memory', async () => {
  const data = new MemoryAdminSyncData();
  const clock = new SystemClock();
  return {
    open: () => new MemoryAdminSync(data, clock),
    wipe: async () => data.wipe(),
    setDown: (down) => void (data.down = down),
    cleanup: async () => undefined,
  };
});
