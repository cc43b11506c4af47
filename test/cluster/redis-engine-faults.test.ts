/**
 * The Redis adapter when the engine freezes or goes away (cluster.md §8, tests 7 and 8 at the engine level): calls
 * fail within a bound instead of hanging, so the node can act as an island, and work again once Redis is back.
 */
import t from 'tap';
import { RedisClusterEngine } from '../../src/cluster/redis/redis-cluster-engine.js';
import { startRedisProcess, type RedisProcess } from '../support/redis-process.js';
import { pollUntil } from '../support/poll-until.js';

const doc = { publications: [], history: null, manualState: 'early' as const, mailbox: null };
const commit = (e: RedisClusterEngine, expectedRev: number) =>
  e.commit({ resource: 'r@x', expectedRev, doc, state: null, origin: 'n1', force: false });

/** How long a promise took to settle, and whether it failed. */
async function timed(p: Promise<unknown>): Promise<{ ms: number; failed: boolean }> {
  const start = Date.now();
  try {
    await p;
    return { ms: Date.now() - start, failed: false };
  } catch {
    return { ms: Date.now() - start, failed: true };
  }
}

t.test('a frozen engine (SIGSTOP) makes calls fail within the command timeout; after SIGCONT they work', async (t) => {
  const redis = await startRedisProcess();
  t.teardown(() => redis.stop());
  const engine = new RedisClusterEngine({ url: redis.url, commandTimeoutMs: 300 });
  t.teardown(() => engine.close());
  t.equal((await commit(engine, 0)).ok, true);
  redis.pause();
  const frozen = await timed(commit(engine, 1));
  t.equal(frozen.failed, true, 'the commit fails rather than waits');
  t.ok(frozen.ms < 2000, `it fails within the bound (${frozen.ms} ms)`);
  const read = await timed(engine.getResource('r@x'));
  t.equal(read.failed, true);
  redis.resume();
  // The timed-out commit may have been applied once Redis ran again: the rev says which.
  const snap = await engine.getResource('r@x');
  t.ok(snap.rev >= 1);
  t.equal((await commit(engine, snap.rev)).ok, true, 'a commit on the re-read rev succeeds');
});

t.test('an engine gone (kill -9) flips connected and fails calls fast; a fresh one on the same port is used again', async (t) => {
  let redis: RedisProcess = await startRedisProcess();
  t.teardown(() => redis.stop());
  const errors: Error[] = [];
  const engine = new RedisClusterEngine({ url: redis.url, commandTimeoutMs: 500, onConnectionError: (e) => errors.push(e) });
  t.teardown(() => engine.close());
  t.equal((await commit(engine, 0)).ok, true);
  t.equal(engine.connected, true);
  const port = redis.port;
  await redis.kill9();
  t.ok(await pollUntil(() => !engine.connected, 2000), 'connected turns false');
  t.ok(await pollUntil(() => errors.length > 0, 2000), 'the connection errors reach onConnectionError');
  const down = await timed(engine.getResource('r@x'));
  t.equal(down.failed, true);
  t.ok(down.ms < 3000, `a call while down fails within the bound (${down.ms} ms)`);
  redis = await startRedisProcess({ port });
  t.ok(await pollUntil(() => engine.connected, 5000), 'it reconnects to the fresh engine');
  t.strictSame(await engine.getResource('r@x'), { resource: 'r@x', rev: 0, doc: null }, 'the fresh engine holds nothing');
  t.equal(await engine.epoch('after-loss'), 'after-loss', 'its epoch is new (cluster.md §8: re-mirror and resync)');
});

t.test('close() does not wait out a blocking read in flight; the read fails', async (t) => {
  const redis = await startRedisProcess();
  t.teardown(() => redis.stop());
  const engine = new RedisClusterEngine({ url: redis.url });
  const reading = timed(engine.readChanges(await engine.latestCursor(), 10, 5000));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closing = await timed(engine.close());
  t.ok(closing.ms < 1000, `close took ${closing.ms} ms`);
  const read = await reading;
  t.equal(read.failed, true);
  t.ok(read.ms < 2000, `the read ended with the close (${read.ms} ms)`);
});
