/**
 * startClusterDirectory as main.ts will use it, two nodes on the in-memory twin: one node's subscriptions reach the
 * other's list; after the first node stops, its entries leave the list within the heartbeat TTL and the directory
 * after the janitor's grace (cluster.md §8 "A node dies").
 */
import t from 'tap';
import { startClusterDirectory } from '../../../src/cluster/directory/cluster-directory.js';
import { directoryEntryOf } from '../../../src/cluster/directory/directory-record.js';
import { ClusterDirectoryPart } from '../../../src/cluster/directory/directory-part.js';
import type { ClusterEngine } from '../../../src/cluster/engine-port.js';
import { MemoryClusterData } from '../../../src/cluster/memory/memory-cluster-data.js';
import { MemoryClusterEngine } from '../../../src/cluster/memory/memory-cluster-engine.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { loadConfig } from '../../../src/config/config.js';
import { FakeNode, faultyEngine } from './directory-support.js';

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Advances the manual clock by `ms` in 50 ms steps, letting the timers' async work run a few turns after each. */
async function passTime(clock: ManualClock, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 50) {
    clock.advance(Math.min(50, left));
    await turns(3);
  }
}

t.test("a node's subscriptions reach the other node's list; when it dies they leave the list within the TTL and the directory after the grace", async (t) => {
  const clock = new ManualClock();
  const data = new MemoryClusterData();
  const pass = (ms: number): Promise<void> => passTime(clock, ms);
  const start = (name: string) => {
    const fake = new FakeNode(name, clock);
    const engine = new MemoryClusterEngine(data, clock);
    const dir = startClusterDirectory({
      engine,
      node: name,
      clock,
      logger: silentLogger,
      feed: fake.feed,
      liveRecords: fake.records,
      info: { sip: `${name}:5060` },
      renderBody: () => '<dialog-info/>',
      janitor: { graceMs: 30_000 },
    });
    return { fake, engine, dir };
  };
  const a = start('A');
  const b = start('B');
  t.teardown(async () => {
    await a.dir.stop();
    await b.dir.stop();
  });
  for (let i = 0; i < 5; i++) a.fake.create();
  b.fake.create();
  await pass(500);
  let listed = await b.dir.listing.list();
  t.equal(listed.partial, false);
  t.same(listed.records.map((r) => r.node).sort(), ['A', 'A', 'A', 'A', 'A', 'B']);
  t.match(b.dir.status(), { mirror: { degraded: false, pending: 0 }, heartbeat: { ok: true } });

  await a.dir.stop();
  await pass(3000 + 1000);
  listed = await b.dir.listing.list();
  t.same(listed.records.map((r) => r.node), ['B'], "A's beat lapsed (3 s TTL): its subscriptions are hidden");
  t.equal((await b.engine.listNode('A', clock.now())).length, 5, 'still in the directory during the grace');
  await pass(30_000 + 5_000);
  t.same(await b.engine.listNode('A', clock.now()), [], "the janitor removed A's entries after the 30 s grace");
  t.notOk((await b.engine.nodes()).some((n) => n.node === 'A'), 'and forgot A');
});

t.test('as a part of the cluster node: a partial local list before start, the whole list once started, a re-mirror on a new epoch', async (t) => {
  const clock = new ManualClock();
  const data = new MemoryClusterData();
  const pass = (ms: number): Promise<void> => passTime(clock, ms);
  const peer = new MemoryClusterEngine(data, clock);
  await peer.heartbeat('B', {}, 3_600_000, clock.now());
  const fake = new FakeNode('A', clock);
  const remote = new FakeNode('B', clock).create();
  await peer.mirrorSubscription(directoryEntryOf(remote, 'B', clock.now()));
  fake.create();
  const part = new ClusterDirectoryPart({ feed: fake.feed, liveRecords: fake.records, info: {} });
  t.teardown(() => part.stop());

  let listed = await part.clusterList.list();
  t.equal(listed.partial, true, 'before the node starts: this node only, partial');
  t.equal(listed.records.length, 1);

  const engine: ClusterEngine = new MemoryClusterEngine(data, clock);
  part.start({ engine, node: 'A', clock, logger: silentLogger });
  await pass(300);
  listed = await part.clusterList.list();
  t.equal(listed.partial, false);
  t.same(listed.records.map((r) => r.node).sort(), ['A', 'B']);

  data.wipe();
  await peer.heartbeat('B', {}, 3_600_000, clock.now());
  part.onEpochChange();
  await pass(300);
  t.equal((await engine.listNode('A', clock.now())).length, 1, 'a new epoch: A wrote its subscription again');
  t.equal(part.status()?.mirror.remirroring, false);

  await part.stop();
  t.equal((await part.clusterList.list()).partial, true, 'stopped: local and partial again');
});

t.test('a heartbeat that fails and recovers re-mirrors only when the engine lost its data (a new epoch), not after a hiccup', async (t) => {
  const clock = new ManualClock();
  const data = new MemoryClusterData();
  const pass = (ms: number): Promise<void> => passTime(clock, ms);
  const ctl = faultyEngine(new MemoryClusterEngine(data, clock));
  const fake = new FakeNode('A', clock);
  for (let i = 0; i < 3; i++) fake.create();
  const dir = startClusterDirectory({ engine: ctl.engine, node: 'A', clock, logger: silentLogger, feed: fake.feed, liveRecords: fake.records, info: {} });
  t.teardown(() => dir.stop());
  await pass(500);
  const written = dir.status().mirror.written;
  t.ok(written >= 3);

  ctl.fault = 'down';
  await pass(2500);
  t.equal(dir.status().heartbeat.ok, false, 'beats fail while the engine is away');
  ctl.fault = 'none';
  await pass(1500);
  t.equal(dir.status().heartbeat.ok, true);
  t.equal(dir.status().mirror.written, written, 'a hiccup: nothing written again');

  ctl.fault = 'down';
  await pass(2500);
  data.wipe();
  ctl.fault = 'none';
  await pass(1500);
  t.equal(dir.status().mirror.written, written + 3, 'a data loss (new epoch): the three written again');
  t.equal((await ctl.engine.listNode('A', clock.now())).length, 3);
});

/** Whether `node` is in the registry with a live beat. */
async function aliveIn(engine: ClusterEngine, node: string): Promise<boolean> {
  return (await engine.nodes()).some((n) => n.node === node && n.alive);
}

/** Node A's directory part, started on an engine that can be made to fail, with three live subscriptions. */
function partAWithThree(t: { teardown(fn: () => unknown): void }) {
  const clock = new ManualClock();
  const data = new MemoryClusterData();
  const pass = (ms: number): Promise<void> => passTime(clock, ms);
  const ctl = faultyEngine(new MemoryClusterEngine(data, clock));
  const fake = new FakeNode('A', clock);
  for (let i = 0; i < 3; i++) fake.create();
  const part = new ClusterDirectoryPart({ feed: fake.feed, liveRecords: fake.records, info: {} });
  t.teardown(() => part.stop());
  part.start({ engine: ctl.engine, node: 'A', clock, logger: silentLogger });
  return { clock, data, pass, ctl, part };
}

t.test("the engine lost its data: the node beats at once on the new epoch, before its next period, and its re-mirrored entries are listed as soon as they are back (cluster.md §8)", async (t) => {
  const clock = new ManualClock();
  const data = new MemoryClusterData();
  const pass = (ms: number): Promise<void> => passTime(clock, ms);
  const fake = new FakeNode('A', clock);
  for (let i = 0; i < 3; i++) fake.create();
  const part = new ClusterDirectoryPart({ feed: fake.feed, liveRecords: fake.records, info: {} });
  t.teardown(() => part.stop());
  const engine = new MemoryClusterEngine(data, clock);
  part.start({ engine, node: 'A', clock, logger: silentLogger });
  const other = new FakeNode('B', clock);
  const b = startClusterDirectory({ engine: new MemoryClusterEngine(data, clock), node: 'B', clock, logger: silentLogger, feed: other.feed, liveRecords: other.records, info: {} });
  t.teardown(() => b.stop());
  await pass(1050); // just past A's second beat: its next one is ~950 ms away
  t.equal((await b.listing.list()).records.length, 3);

  data.wipe();
  t.equal(await aliveIn(engine, 'A'), false, 'the wipe took the beat');
  t.equal((await b.listing.list()).records.length, 0, "and B's list hides A");
  const beats = part.status()!.heartbeat.beats;
  const at = clock.now();
  part.onEpochChange();
  await turns(5);
  t.equal(clock.now(), at, 'no time passed');
  t.equal(await aliveIn(engine, 'A'), true, "A's beat is back before any timer ran");
  t.equal(part.status()!.heartbeat.beats, beats + 1);
  clock.advance(0); // the re-mirror leaves on a 0 ms timer
  await turns(5);
  t.equal((await b.listing.list()).records.filter((r) => r.node === 'A').length, 3, "B lists A's entries as soon as they are written again");

  await pass(5000);
  t.equal(part.status()!.heartbeat.beats, beats + 1 + 5, 'the period goes on from the early beat, once a second (no second beat loop)');
});

t.test('a node back from island mode beats at once, so its entries (still in the directory) are listed again without waiting for the period (cluster.md §8)', async (t) => {
  const { clock, data, pass, ctl, part } = partAWithThree(t);
  const other = new FakeNode('B', clock);
  const b = startClusterDirectory({ engine: new MemoryClusterEngine(data, clock), node: 'B', clock, logger: silentLogger, feed: other.feed, liveRecords: other.records, info: {} });
  t.teardown(() => b.stop());
  await pass(500);
  t.equal((await b.listing.list()).records.length, 3);

  ctl.fault = 'down';
  await pass(3550); // A's beats fail; its last good one lapses (3 s TTL)
  t.equal((await b.listing.list()).records.length, 0, "A's beat lapsed: B hides its entries");
  ctl.fault = 'none';
  const at = clock.now();
  part.onReturn();
  await turns(5);
  t.equal(clock.now(), at);
  t.equal(await aliveIn(ctl.engine, 'A'), true, 'A beat at once on return');
  t.equal((await b.listing.list()).records.filter((r) => r.node === 'A').length, 3, "B lists A's entries again");
});

t.test('a data loss seen both by the heartbeat recovering and by the node\'s epoch watch re-mirrors once', async (t) => {
  const { clock, data, pass, ctl, part } = partAWithThree(t);
  await pass(500);
  const written = part.status()!.mirror.written;
  t.equal(written, 3);

  ctl.fault = 'down';
  await pass(2500);
  data.wipe();
  ctl.fault = 'none';
  part.onEpochChange(); // the node's epoch watch; its beat at once is also the heartbeat's recovery
  await pass(1500);
  t.equal(part.status()!.mirror.written, written + 3, 'the three written again, once');
  t.equal((await ctl.engine.listNode('A', clock.now())).length, 3);
});

t.test("PISTON_CLUSTER_JANITOR_GRACE_S=10: a dead node's entries leave the directory 10 s after its last beat, not 30 (cluster.md §8 'A node dies')", async (t) => {
  const graceS = loadConfig({ PISTON_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6390', PISTON_CLUSTER_JANITOR_GRACE_S: '10' }).cluster!.janitorGraceS!;
  t.equal(graceS, 10);
  const clock = new ManualClock();
  const data = new MemoryClusterData();
  const pass = (ms: number): Promise<void> => passTime(clock, ms);
  const start = (name: string): { fake: FakeNode; part: ClusterDirectoryPart; engine: MemoryClusterEngine } => {
    const fake = new FakeNode(name, clock);
    // As main-cluster.ts builds the part from the configuration.
    const part = new ClusterDirectoryPart({ feed: fake.feed, liveRecords: fake.records, info: {}, janitor: { graceMs: graceS * 1000 } });
    const engine = new MemoryClusterEngine(data, clock);
    part.start({ engine, node: name, clock, logger: silentLogger });
    return { fake, part, engine };
  };
  const a = start('A');
  const b = start('B');
  t.teardown(async () => {
    await a.part.stop();
    await b.part.stop();
  });
  for (let i = 0; i < 4; i++) a.fake.create();
  await pass(500);
  t.equal((await b.engine.listNode('A', clock.now())).length, 4);

  await a.part.stop(); // A's last beat was at most 1 s ago
  await pass(8000);
  t.equal((await b.engine.listNode('A', clock.now())).length, 4, 'within the 10 s grace the entries stay');
  await pass(8000); // past the grace, and a janitor run (every 5 s) since
  t.same(await b.engine.listNode('A', clock.now()), [], "16 s after A stopped its entries are gone, long before the default 30 s");
  t.notOk((await b.engine.nodes()).some((n) => n.node === 'A'), 'and A is forgotten');
});
