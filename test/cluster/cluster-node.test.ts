import t, { type Test } from 'tap';
import { ListAccountResolver } from '../../src/accounts/account-resolver.js';
import type { ClusterEngine, CommitRequest } from '../../src/cluster/engine-port.js';
import { MemoryClusterData } from '../../src/cluster/memory/memory-cluster-data.js';
import { MemoryClusterEngine } from '../../src/cluster/memory/memory-cluster-engine.js';
import { ClusterDirectoryPart } from '../../src/cluster/directory/directory-part.js';
import { ClusterNode } from '../../src/cluster/node/index.js';
import type { ClusterPart } from '../../src/cluster/node/cluster-node.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import type { ResourceChange } from '../../src/presentity/index.js';
import { createPresenceStack, type PresenceStack } from '../../src/stack/index.js';
import { buildPublish, FakeIncoming } from '../support/sip-builders.js';
import { dialogPublish, DOMAIN } from '../presentity/helpers/harness.js';

/**
 * A cluster node's shared presence state (cluster.md §7, §8) on the in-memory engine twin: two or three stacks
 * without a network, each with its ClusterNode, sharing one MemoryClusterData. What a node's notifier would NOTIFY is
 * what its presentity service announces, so announcements per node stand for NOTIFYs per watcher.
 */

const R = `1001@${DOMAIN}`;

/** The twin with switches: `down` fails every call (island mode), `conflicts` makes commits lose, reads can be held. */
class Switched implements ClusterEngine {
  down = false;
  conflicts = 0;
  reads = 0;
  private held: Promise<void> | undefined;
  private releaseHeld: (() => void) | undefined;
  /** Stream reads wait (before reaching the engine) until `release`. */
  hold(): void {
    this.held = new Promise((res) => (this.releaseHeld = res));
  }
  release(): void {
    this.held = undefined;
    this.releaseHeld?.();
    this.snapshotsHeld = undefined;
    this.releaseSnapshots?.();
  }
  private snapshotsHeld: Promise<void> | undefined;
  private releaseSnapshots: (() => void) | undefined;
  /** Resource reads (getResource: resyncs, fresh reads) wait until `release` too: a resync that takes its time. */
  holdSnapshots(): void {
    this.snapshotsHeld = new Promise((res) => (this.releaseSnapshots = res));
  }
  constructor(private readonly inner: MemoryClusterEngine) {}
  private gate(): void {
    if (this.down) throw new Error('engine unreachable');
  }
  get connected(): boolean {
    return !this.down;
  }
  async getResource(r: string) {
    if (this.snapshotsHeld) await this.snapshotsHeld;
    this.gate();
    this.reads++;
    return this.inner.getResource(r);
  }
  async commit(req: CommitRequest) {
    this.gate();
    if (this.conflicts > 0) {
      this.conflicts--;
      return { ok: false as const, rev: (await this.inner.getResource(req.resource)).rev + 1000 };
    }
    return this.inner.commit(req);
  }
  dueExpiries(now: number, limit: number) {
    this.gate();
    return this.inner.dueExpiries(now, limit);
  }
  latestCursor() {
    this.gate();
    return this.inner.latestCursor();
  }
  async readChanges(...args: Parameters<ClusterEngine['readChanges']>) {
    if (this.held) await this.held;
    this.gate();
    return this.inner.readChanges(...args);
  }
  mirrorSubscription(...a: Parameters<ClusterEngine['mirrorSubscription']>) {
    return this.inner.mirrorSubscription(...a);
  }
  removeSubscription(...a: Parameters<ClusterEngine['removeSubscription']>) {
    return this.inner.removeSubscription(a[0]);
  }
  listDomain(...a: Parameters<ClusterEngine['listDomain']>) {
    return this.inner.listDomain(...a);
  }
  listNode(...a: Parameters<ClusterEngine['listNode']>) {
    return this.inner.listNode(...a);
  }
  heartbeat(...a: Parameters<ClusterEngine['heartbeat']>) {
    return this.inner.heartbeat(...a);
  }
  nodes() {
    return this.inner.nodes();
  }
  forgetNode(n: string) {
    return this.inner.forgetNode(n);
  }
  epoch(c: string) {
    this.gate();
    return this.inner.epoch(c);
  }
  sharedValue(name: string, c: string) {
    this.gate();
    return this.inner.sharedValue(name, c);
  }
  close() {
    return this.inner.close();
  }
}

interface TestNode {
  name: string;
  stack: PresenceStack;
  engine: Switched;
  cluster: ClusterNode;
  changes: ResourceChange[];
  publish(spec: Parameters<typeof dialogPublish>[1] & { dialogs?: Parameters<typeof dialogPublish>[0] }): FakeIncoming;
  dialogs(): string[];
}

/** Lets promise chains and the twin's blocking reads run: a few turns of the event loop. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
}

async function cluster(t: Test, names: string[], opts: { onlyWatched?: boolean; parts?: (stack: PresenceStack) => ClusterPart[] } = {}) {
  const clock = new ManualClock();
  const data = new MemoryClusterData();
  const nodes: TestNode[] = [];
  for (const name of names) {
    const stack = createPresenceStack({
      clock,
      logger: silentLogger,
      nodeName: name,
      minPublishExpires: 1,
      accounts: new ListAccountResolver(() => [{ id: 'a'.repeat(32), realm: DOMAIN }], true),
    });
    const engine = new Switched(new MemoryClusterEngine(data, clock));
    const node = new ClusterNode({
      engine,
      presentity: stack.presentity,
      feed: stack.feed,
      watched: () => [],
      ...(opts.onlyWatched ? { isWatched: (r: string) => stack.notifier.isWatched(r) } : {}),
      node: name,
      clock,
      logger: silentLogger,
    });
    const changes: ResourceChange[] = [];
    stack.presentity.onChange((c) => changes.push(c));
    for (const part of opts.parts?.(stack) ?? []) node.attach(part);
    await node.start();
    nodes.push({
      name,
      stack,
      engine,
      cluster: node,
      changes,
      publish: (spec) => {
        const incoming = new FakeIncoming(buildPublish(dialogPublish(spec.dialogs ?? [{ id: 'd1', state: 'confirmed' }], spec)));
        stack.presentity.handlePublish(incoming);
        return incoming;
      },
      dialogs: () => (stack.presentity.state(R, 'dialog') as unknown as { dialogs: { id: string; state: string }[] }).dialogs.map((d) => `${d.id}:${d.state}`),
    });
  }
  t.teardown(async () => {
    for (const n of nodes) n.engine.release();
    for (const n of nodes) {
      // The stream reader's blocking read ends on the clock; attached parts stop first, so time may have to pass again.
      let stopped = false;
      const stopping = n.cluster.stop().then(() => (stopped = true));
      for (let i = 0; i < 10 && !stopped; i++) {
        clock.advance(2000);
        await settle();
      }
      await stopping;
      n.stack.dispose();
    }
  });
  const pass = async (ms: number): Promise<void> => {
    for (let left = ms; left > 0; left -= 100) {
      clock.advance(Math.min(100, left));
      await settle();
    }
  };
  return { clock, data, nodes, pass };
}

t.test('a PUBLISH on one node is answered after its commit and reaches the other node once (cluster.md §7)', async (t) => {
  const { nodes, data } = await cluster(t, ['a', 'b']);
  const [a, b] = nodes as [TestNode, TestNode];
  const incoming = a.publish({ dialogs: [{ id: 'd1', state: 'confirmed' }] });
  t.equal(incoming.responses.length, 0, 'not answered before the commit');
  await settle();
  t.equal(incoming.last.status, 200);
  const etag = incoming.last.headers.get('SIP-ETag');
  t.equal(data.resources.get(R)?.rev, data.lastRev, 'committed to the engine');
  t.same(b.dialogs(), ['d1:confirmed'], 'node b holds the new state');
  t.equal(b.changes.length, 1, 'announced once on node b');
  t.equal(a.changes.length, 1, 'announced once on node a');
  t.same(
    b.stack.presentity.describe(R).publications.map((p) => p.etag),
    [etag],
    'node b knows the entity-tag',
  );
});

t.test('SIP-If-Match works on a node whose copy is behind: 412 only after a fresh read (RFC 3903 §6, cluster.md §7)', async (t) => {
  const { nodes, pass } = await cluster(t, ['a', 'b']);
  const [a, b] = nodes as [TestNode, TestNode];
  // Node b hears nothing from the stream: its blocking read times out and the next one waits.
  b.engine.hold();
  await pass(1100);
  const created = a.publish({});
  await settle();
  const etag = created.last.headers.get('SIP-ETag')!;
  t.same(b.dialogs(), [], 'node b has not heard of it');
  const readsBefore = b.engine.reads;
  const refresh = b.publish({ ifMatch: etag, body: undefined as unknown as string, contentType: undefined as unknown as string, expires: 60 });
  await settle();
  t.equal(refresh.last.status, 200, 'the refresh on node b succeeds');
  t.ok(b.engine.reads > readsBefore, 'after a fresh read');
  t.same(b.dialogs(), ['d1:confirmed'], 'and node b now shows the state');
  const unknown = b.publish({ ifMatch: 'nosuchtag', body: undefined as unknown as string, contentType: undefined as unknown as string, expires: 60 });
  const reads = b.engine.reads;
  await settle();
  t.equal(unknown.last.status, 412, 'an unknown entity-tag: 412');
  t.ok(b.engine.reads > reads, '412 only after a fresh read');
});

t.test('two nodes publish for one resource at once: both commit, in turn, and both nodes end equal (cluster.md §3 #6)', async (t) => {
  const { nodes, data } = await cluster(t, ['a', 'b']);
  const [a, b] = nodes as [TestNode, TestNode];
  a.publish({ dialogs: [{ id: 'seed', state: 'terminated' }] });
  await settle();
  const x = a.publish({ dialogs: [{ id: 'x', state: 'early' }] });
  const y = b.publish({ dialogs: [{ id: 'y', state: 'confirmed' }] });
  await settle();
  t.equal(x.last.status, 200);
  t.equal(y.last.status, 200, 'the loser re-read and committed on the new rev');
  t.same(a.dialogs().sort(), b.dialogs().sort(), 'both nodes show the same dialogs');
  t.same(a.dialogs().filter((d) => !d.startsWith('seed')).sort(), ['x:early', 'y:confirmed'], 'both changes kept');
  const shared = data.resources.get(R)!;
  t.equal(shared.rev, data.lastRev);
  t.equal(JSON.parse(shared.docJson).publications.length, 3, 'three publications in the shared document');
});

t.test('a PUBLISH that loses every compare-and-set gets 500 with Retry-After and changes nothing (cluster.md §7)', async (t) => {
  const { nodes } = await cluster(t, ['a', 'b']);
  const [a] = nodes as [TestNode];
  a.engine.conflicts = 3;
  const incoming = a.publish({});
  await settle();
  t.equal(incoming.last.status, 500);
  t.equal(incoming.last.headers.get('Retry-After'), '1');
  t.same(a.dialogs(), [], 'the change was undone');
  t.equal(a.changes.length, 0, 'and never announced');
});

t.test('island mode: a PUBLISH is served and announced locally, waits in the outbox, and reaches the other node on return (cluster.md §8)', async (t) => {
  const { nodes, pass } = await cluster(t, ['a', 'b']);
  const [a, b] = nodes as [TestNode, TestNode];
  a.engine.down = true;
  await pass(1500); // a's epoch probe fails: island mode
  t.equal(a.cluster.health(), 'degraded');
  const incoming = a.publish({});
  await settle();
  t.equal(incoming.last.status, 200, 'answered in island mode');
  t.equal(a.changes.length, 1, 'announced to node a\'s watchers');
  t.equal(a.cluster.outboxSize, 1, 'waits in the outbox');
  t.same(b.dialogs(), [], 'node b cannot know yet');
  a.engine.down = false;
  await pass(1500);
  t.equal(a.cluster.health(), 'ok');
  t.equal(a.cluster.outboxSize, 0, 'the outbox replayed');
  t.same(b.dialogs(), ['d1:confirmed'], 'node b converged');
  t.equal(a.changes.length, 1, 'node a announced nothing twice');
});

t.test('an admin reset on one node reaches the other with force (every watcher gets a full NOTIFY)', async (t) => {
  const { nodes } = await cluster(t, ['a', 'b']);
  const [a, b] = nodes as [TestNode, TestNode];
  a.publish({});
  await settle();
  b.cluster.control.setManualState(R, 'early');
  await settle();
  t.equal(a.stack.presentity.describe(R).manualState, 'early', 'manual state set on b shows on a');
  a.cluster.control.reset(R);
  await settle();
  t.same(b.dialogs(), [], 'reset on a cleared b');
  t.equal(b.stack.presentity.describe(R).manualState, null);
  t.equal(b.changes.at(-1)?.force, true, 'with force');
});

t.test('a publication expires once for the cluster: one announcement per node, one removal commit (cluster.md §7)', async (t) => {
  const { nodes, data, pass } = await cluster(t, ['a', 'b', 'c']);
  nodes[0]!.publish({ expires: 2 });
  await settle();
  const revAfterPublish = data.lastRev;
  await pass(4000);
  for (const n of nodes) t.equal(n.changes.length, 2, `node ${n.name}: announced when published and once when it expired`);
  t.equal(data.lastRev, revAfterPublish + 1, 'one removal committed, whichever sweeper came first');
  t.equal(data.resources.has(R), false, 'the emptied resource is deleted (cluster.md §6)');
  t.equal(data.pubexp.size, 0, 'nothing left in the expiry index');
});

t.test('a gap in the stream makes a node resync from snapshots (cluster.md §7)', async (t) => {
  const { nodes, data, pass } = await cluster(t, ['a', 'b']);
  const [a, b] = nodes as [TestNode, TestNode];
  a.publish({ dialogs: [{ id: 'd0', state: 'early' }] });
  await settle();
  t.same(b.dialogs(), ['d0:early']);
  b.engine.hold();
  await pass(1100);
  a.publish({ dialogs: [{ id: 'd1', state: 'confirmed' }] });
  await settle();
  data.trimChanges();
  b.engine.release();
  await settle();
  t.same(b.dialogs().sort(), ['d0:early', 'd1:confirmed'].sort(), 'node b caught up through a snapshot');
});

t.test('the engine lost its data: nodes push their state again and converge (cluster.md §8)', async (t) => {
  const { nodes, data, pass } = await cluster(t, ['a', 'b']);
  const [a, b] = nodes as [TestNode, TestNode];
  a.publish({});
  await settle();
  data.wipe();
  await pass(1500);
  t.ok(data.resources.has(R), 'the resource is back in the engine');
  const doc = JSON.parse(data.resources.get(R)!.docJson) as { publications: unknown[] };
  t.equal(doc.publications.length, 1, 'once, though both nodes pushed it');
  t.same(b.dialogs(), ['d1:confirmed']);
  t.equal(b.changes.length, 1, 'node b announced nothing new');
});

t.test('a node keeps copies only of resources watched there; an unwatched one is read afresh when needed (cluster.md §7)', async (t) => {
  const { nodes } = await cluster(t, ['a', 'b'], { onlyWatched: true });
  const [a, b] = nodes as [TestNode, TestNode];
  const created = a.publish({});
  await settle();
  t.same(b.dialogs(), [], 'node b, with no watcher of it, did not apply the change');
  t.equal(b.changes.length, 0, 'nor announce anything');
  const refresh = b.publish({ ifMatch: created.last.headers.get('SIP-ETag')!, body: undefined as unknown as string, contentType: undefined as unknown as string, expires: 60 });
  await settle();
  t.equal(refresh.last.status, 200, 'a refresh on node b still finds the publication (fresh read)');
  const again = a.publish({ dialogs: [{ id: 'd2', state: 'early' }] });
  await settle();
  t.equal(again.last.status, 200);
  t.same(b.dialogs(), ['d1:confirmed'], 'node b\'s copy went stale again rather than following');
});

t.test('each stream entry a node reads is counted by what became of it: applied, own, unwatched (piston_cluster_changes_total)', async (t) => {
  const full = await cluster(t, ['a', 'b']);
  const [a, b] = full.nodes as [TestNode, TestNode];
  const created = a.publish({});
  await settle();
  a.publish({ ifMatch: created.last.headers.get('SIP-ETag')!, dialogs: [{ id: 'd1', state: 'terminated' }] });
  await settle();
  t.equal(b.changes.length, 2, 'node b announced both changes');
  t.equal(b.cluster.changeCounts.applied, 2, 'node b applied both entries');
  t.equal(a.cluster.changeCounts.own, 2, 'node a skipped its own two entries: it installed them when it committed');
  t.equal(a.cluster.changeCounts.applied + b.cluster.changeCounts.own, 0, 'nothing else counted');

  const partial = await cluster(t, ['c', 'd'], { onlyWatched: true });
  const [c, d] = partial.nodes as [TestNode, TestNode];
  c.publish({});
  await settle();
  t.equal(d.cluster.changeCounts.unwatched, 1, 'a node without watchers of the resource only notes the entry');
  t.equal(d.cluster.changeCounts.applied, 0);
});

t.test("a node that sees a new epoch, or leaves island mode, beats at once, not after its resync nor at its heartbeat's next period, so the list shows it again (cluster.md §8)", async (t) => {
  // A heartbeat period of 10 s with a 60 s TTL: within the test only the beat at once can bring the node back.
  const { nodes, data, pass } = await cluster(t, ['a'], {
    parts: (stack) => [
      new ClusterDirectoryPart({ feed: stack.feed, liveRecords: () => stack.notifier.liveRecords(), info: {}, heartbeat: { everyMs: 10_000, ttlMs: 60_000 } }),
    ],
  });
  const [a] = nodes as [TestNode];
  const alive = (): boolean => data.beats.has('a');
  a.publish({});
  await pass(200);
  t.ok(alive(), 'the first beat at start');

  // The node's resync (one read per resource: seconds on a large node) is held: the beat must not wait for it.
  a.engine.holdSnapshots();
  data.wipe();
  t.notOk(alive(), 'the wipe took the beat');
  await pass(1000); // the epoch probe (every second) sees the new epoch
  t.ok(alive(), 'beat again on the new epoch, while the resync still waits');
  a.engine.release();
  await pass(200);
  t.ok(data.resources.has(R), 'and the resync pushed the state again');

  a.engine.down = true;
  await pass(1500); // island mode
  t.equal(a.cluster.health(), 'degraded', 'island mode');
  data.beats.delete('a'); // its beat lapsed meanwhile
  a.engine.holdSnapshots();
  a.engine.down = false;
  await pass(1000); // the epoch probe answers: island mode ends
  t.equal(a.cluster.health(), 'ok', 'island mode ended');
  t.ok(alive(), 'beat again on return, while the resync still waits');
  a.engine.release();
});
