import t, { type Test } from 'tap';
import { ListAccountResolver } from '../../src/accounts/account-resolver.js';
import type { ClusterEngine } from '../../src/cluster/engine-port.js';
import { MemoryClusterData } from '../../src/cluster/memory/memory-cluster-data.js';
import { MemoryClusterEngine } from '../../src/cluster/memory/memory-cluster-engine.js';
import { ClusterNode } from '../../src/cluster/node/index.js';
import type { ClusterPart } from '../../src/cluster/node/cluster-node.js';
import type { NodeContext } from '../../src/cluster/node/node-context.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createPresenceStack } from '../../src/stack/index.js';
import { DOMAIN } from '../presentity/helpers/harness.js';

/**
 * A cluster node's start while its engine is down (issue 22, cluster.md §8): one probe with a deadline bounds the
 * start; past it (or on a refusal) the node is an island at once and its parts start without holding it; it joins
 * when the engine answers. On the twin with a ManualClock: the engine's calls hang (a frozen Redis: nothing answers)
 * or fail at once (refused), and hung calls fail when it thaws or closes, as ioredis's do on timeout or disconnect.
 */

type Mode = 'up' | 'frozen' | 'refused';

/** The twin behind a switch: frozen calls hang until `thaw`/`close`, refused calls fail at once. */
function switchedEngine(inner: MemoryClusterEngine): { engine: ClusterEngine; set(mode: Mode): void; calls: string[] } {
  let mode: Mode = 'up';
  const hung: ((err: Error) => void)[] = [];
  const calls: string[] = [];
  const failHung = (why: string): void => {
    for (const reject of hung.splice(0)) reject(new Error(why));
  };
  const engine = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'connected') return mode === 'up' && (value as boolean);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        if (prop === 'close') {
          failHung('closed');
          return fn.apply(target, args);
        }
        if (mode === 'refused') return Promise.reject(new Error('connect ECONNREFUSED'));
        if (mode === 'frozen') return new Promise((_, reject) => hung.push(reject));
        return fn.apply(target, args);
      };
    },
  }) as unknown as ClusterEngine;
  return {
    engine,
    calls,
    set(next) {
      mode = next;
      if (next !== 'frozen') failHung('Command timed out');
    },
  };
}

/** A part whose start waits for its first engine call, as the admin mirror's and the nonce secret's do. */
class WaitingPart implements ClusterPart {
  started = false;
  startDone = false;
  returns = 0;
  async start(ctx: NodeContext): Promise<void> {
    this.started = true;
    await ctx.engine.sharedValue('test-secret', 'ab'.repeat(32)).catch(() => undefined);
    this.startDone = true;
  }
  stop(): void {}
  onReturn(): void {
    this.returns++;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
}

function oneNode(t: Test, mode: Mode) {
  const clock = new ManualClock();
  const stack = createPresenceStack({
    clock,
    logger: silentLogger,
    nodeName: 'a',
    minPublishExpires: 1,
    accounts: new ListAccountResolver(() => [{ id: 'a'.repeat(32), realm: DOMAIN }], true),
  });
  const sw = switchedEngine(new MemoryClusterEngine(new MemoryClusterData(), clock));
  sw.set(mode);
  const part = new WaitingPart();
  const node = new ClusterNode({
    engine: sw.engine,
    presentity: stack.presentity,
    feed: stack.feed,
    watched: () => [],
    node: 'a',
    clock,
    logger: silentLogger,
  });
  node.attach(part);
  let startedAt: number | undefined;
  const starting = node.start().then(() => (startedAt = clock.now()));
  t.teardown(async () => {
    sw.set('up');
    let stopped = false;
    const stopping = node.stop().then(() => (stopped = true));
    for (let i = 0; i < 10 && !stopped; i++) {
      clock.advance(2000);
      await settle();
    }
    await stopping;
    stack.dispose();
  });
  const pass = async (ms: number): Promise<void> => {
    for (let left = ms; left > 0; left -= 100) {
      clock.advance(Math.min(100, left));
      await settle();
    }
  };
  return { clock, sw, node, part, starting, startedAt: () => startedAt, since: clock.now(), pass };
}

t.test('engine frozen at start: the node starts as an island after one 1.5 s probe, without waiting for its parts, and joins when the engine answers (issue 22)', async (t) => {
  const n = oneNode(t, 'frozen');
  await n.pass(1400);
  t.equal(n.startedAt(), undefined, 'still probing at 1.4 s');
  await n.pass(200);
  await n.starting;
  t.equal(n.startedAt()! - n.since, 1500, 'started at the probe deadline, 1.5 s');
  t.equal(n.node.health(), 'degraded', 'as an island');
  t.ok(n.part.started, 'the part was started');
  t.notOk(n.part.startDone, 'and the start did not wait for its first engine call');
  n.sw.set('up');
  await n.pass(1000);
  t.equal(n.node.health(), 'ok', 'the engine answers: island mode ends within the epoch probe period');
  t.ok(n.part.startDone, "the part's first call ended (failed) on its own");
  t.ok(n.part.returns >= 1, 'and the part was told of the return (onReturn), which redoes that call');
});

t.test('engine refusing connections at start: the node starts as an island at once, not after the deadline (issue 22)', async (t) => {
  const n = oneNode(t, 'refused');
  await settle();
  await n.starting;
  t.equal(n.startedAt()! - n.since, 0, 'started without waiting for the deadline');
  t.equal(n.node.health(), 'degraded', 'as an island');
  n.sw.set('up');
  await n.pass(1000);
  t.equal(n.node.health(), 'ok', 'joined once the engine answers');
  t.ok(n.part.returns >= 1, 'the part was told of the return');
});

t.test('engine up at start: the start waits for its parts as before (the engine state first, then the listeners)', async (t) => {
  const n = oneNode(t, 'up');
  await settle();
  await n.starting;
  t.equal(n.node.health(), 'ok', 'connected');
  t.ok(n.part.startDone, "the part's start, with its first engine call, was awaited");
  t.ok(n.sw.calls.includes('epoch') && n.sw.calls.includes('sharedValue'), 'the probe and the part both reached the engine');
  t.equal(n.part.returns, 0, 'no return: it never left');
});
