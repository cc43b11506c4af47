import type { ApiDeps } from '../../../src/api/api-deps.js';
import { ClusterListing } from '../../../src/cluster/directory/cluster-listing.js';
import { MemoryClusterData } from '../../../src/cluster/memory/memory-cluster-data.js';
import { MemoryClusterEngine } from '../../../src/cluster/memory/memory-cluster-engine.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { subscriptionId } from '../../../src/store/keys.js';
import type { SubscriptionRecord } from '../../../src/store/records.js';
import { faultyEngine } from '../../cluster/directory/directory-support.js';
import { subscriptionRecord } from '../../store/helpers/records.js';
import { apiHarness, MASTER_REALM, type ApiHarness } from './api-harness.js';

/** A live subscription of the master account held on `node`. */
export const clusterSub = (node: string, callId: string, over: Partial<SubscriptionRecord> = {}): SubscriptionRecord =>
  subscriptionRecord({ domain: MASTER_REALM, callId, id: subscriptionId(callId, 'l1', 'r1'), node, expiresAt: Date.now() + 600_000, ...over });

/**
 * The admin API of node n1 in cluster mode over the in-memory twin: its list reads the directory through an engine
 * the test can break (`ctl`), and `peer` is node n2's engine, beating with `peerDomains` announced.
 */
export async function clusterApi(
  t: { teardown(fn: () => unknown): void },
  opts: { peerDomains: string[]; operator?: (clock: ManualClock) => ApiDeps['operator'] },
) {
  const clock = new ManualClock(Date.now());
  const data = new MemoryClusterData();
  const ctl = faultyEngine(new MemoryClusterEngine(data, clock));
  const peer = new MemoryClusterEngine(data, clock);
  let api: ApiHarness | undefined;
  const listing = new ClusterListing({
    engine: ctl.engine,
    node: 'n1',
    clock,
    logger: silentLogger,
    local: () => api!.notifier.liveRecords(),
    renderBody: (e) => `<dialog-info entity="${e.fields.resource}"/>`,
    timeoutMs: 100,
  });
  api = await apiHarness(t, { clusterList: listing, ...(opts.operator ? { operator: opts.operator(clock) } : {}) });
  await peer.heartbeat('n2', { domains: opts.peerDomains }, 60_000, clock.now());
  return { api, clock, peer, ctl };
}
