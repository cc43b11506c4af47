import t from 'tap';
import { Feed, FEED_DRAIN_BATCH } from '../../src/lib/feed.js';
import { recordingLogger, silentLogger } from '../../src/lib/logger.js';

/** A feed whose drains run only when the test says so (`turn()`), one scheduled drain per call, like setImmediate. */
function manualFeed(logger = silentLogger): { feed: Feed<number>; turn(): number; readonly scheduled: number } {
  let pending: (() => void)[] = [];
  const feed = new Feed<number>({ logger, schedule: (drain) => pending.push(drain) });
  return {
    feed,
    turn() {
      const now = pending;
      pending = [];
      for (const drain of now) drain();
      return now.length;
    },
    get scheduled() {
      return pending.length;
    },
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('core listeners hear an event inside emit, in subscription order; observers only on a later turn', (t) => {
  const { feed, turn } = manualFeed();
  const heard: string[] = [];
  feed.core((e) => heard.push(`core1:${e}`));
  feed.subscribe((e) => void heard.push(`observer:${e}`));
  feed.core((e) => heard.push(`core2:${e}`));
  feed.emit(1);
  t.same(heard, ['core1:1', 'core2:1'], 'the observer has not run yet');
  turn();
  t.same(heard, ['core1:1', 'core2:1', 'observer:1']);
  t.end();
});

t.test('an observer sees events in emit order, causes before what core listeners emitted in reaction', (t) => {
  const { feed, turn } = manualFeed();
  const seen: number[] = [];
  feed.core((e) => {
    if (e < 10) feed.emit(e * 10);
  });
  feed.subscribe((e) => void seen.push(e));
  feed.emit(1);
  feed.emit(2);
  turn();
  t.same(seen, [1, 10, 2, 20]);
  t.end();
});

t.test('unsubscribing with the returned function stops delivery, of queued events too', (t) => {
  const { feed, turn } = manualFeed();
  const seen: number[] = [];
  const core: number[] = [];
  const stop = feed.subscribe((e) => void seen.push(e));
  const stopCore = feed.core((e) => core.push(e));
  feed.emit(1);
  turn();
  feed.emit(2);
  stop();
  stopCore();
  feed.emit(3);
  turn();
  t.same(seen, [1], 'the queued 2 was discarded and 3 never queued');
  t.same(core, [1, 2]);
  t.notOk(feed.listened, 'nobody listens any more');
  t.end();
});

t.test('unsubscribe(listener) removes an observer or a core listener by the function it subscribed with', (t) => {
  const { feed, turn } = manualFeed();
  const seen: string[] = [];
  const observer = (e: number): void => void seen.push(`o${e}`);
  const core = (e: number): void => void seen.push(`c${e}`);
  feed.subscribe(observer);
  feed.core(core);
  feed.unsubscribe(observer);
  feed.unsubscribe(core);
  feed.emit(1);
  turn();
  t.same(seen, []);
  t.end();
});

t.test('a listener may unsubscribe while an event is being delivered', (t) => {
  const { feed } = manualFeed();
  const seen: string[] = [];
  const stopA = feed.core(() => {
    seen.push('a');
    stopA();
  });
  feed.core(() => seen.push('b'));
  feed.emit(1);
  feed.emit(2);
  t.same(seen, ['a', 'b', 'b']);
  t.end();
});

t.test('an observer that does not keep up loses events beyond its capacity, is told how many, and the emitter never waits', (t) => {
  const { feed, turn } = manualFeed();
  const seen: (number | string)[] = [];
  feed.subscribe((e) => void seen.push(e), { capacity: 3, onMissed: (n) => seen.push(`missed ${n}`) });
  const other: number[] = [];
  feed.subscribe((e) => void other.push(e));
  for (let i = 1; i <= 10; i++) feed.emit(i);
  t.equal(feed.dropped, 7, 'seven dropped, counted');
  t.equal(feed.queued, 13, 'bounded: three waiting for the slow one, ten for the other');
  turn();
  feed.emit(11);
  turn();
  t.same(seen, [1, 2, 3, 'missed 7', 11], 'the mark sits where the events were lost');
  t.same(other, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'the other observer lost nothing');
  t.end();
});

t.test('a drop at the end of the queue is reported once the queue drains; a later drop opens a new mark', (t) => {
  const { feed, turn } = manualFeed();
  const seen: (number | string)[] = [];
  feed.subscribe((e) => void seen.push(e), { capacity: 2, onMissed: (n) => seen.push(`missed ${n}`) });
  for (let i = 1; i <= 4; i++) feed.emit(i);
  turn();
  for (let i = 5; i <= 8; i++) feed.emit(i);
  turn();
  t.same(seen, [1, 2, 'missed 2', 5, 6, 'missed 2']);
  t.end();
});

t.test('an observer returning a promise gets the next event only once it settles; one that never settles only fills its own queue', async (t) => {
  const { feed, turn } = manualFeed();
  let release!: () => void;
  const seen: (number | string)[] = [];
  feed.subscribe(
    (e) => {
      seen.push(e);
      if (e === 1) return new Promise<void>((resolve) => (release = resolve));
      return undefined;
    },
    { capacity: 4, onMissed: (n) => seen.push(`missed ${n}`) },
  );
  const fast: number[] = [];
  feed.subscribe((e) => void fast.push(e));
  feed.emit(1);
  turn();
  const started = performance.now();
  for (let i = 2; i <= 200; i++) feed.emit(i);
  const took = performance.now() - started;
  turn();
  t.same(seen, [1], 'held behind the unsettled promise');
  t.equal(fast.length, 200, 'the other observer was not held');
  t.equal(feed.dropped, 195, 'only four wait for the stuck one');
  t.ok(took < 50, `200 emits past a stuck observer took ${took.toFixed(1)} ms`);
  release();
  await settle();
  turn();
  t.same(seen, [1, 2, 3, 4, 5, 'missed 195']);
});

t.test('a failing observer or core listener is logged and neither the emitter nor the others notice', async (t) => {
  const logger = recordingLogger();
  const { feed, turn } = manualFeed(logger);
  const seen: string[] = [];
  feed.core((e) => {
    if (e === 1) throw new Error('core boom');
  });
  feed.core((e) => seen.push(`core${e}`));
  feed.subscribe((e) => {
    if (e === 1) throw new Error('observer boom');
    seen.push(`observer${e}`);
  });
  feed.subscribe((e) => (e === 1 ? Promise.reject(new Error('async boom')) : undefined));
  t.doesNotThrow(() => feed.emit(1));
  feed.emit(2);
  turn();
  await settle();
  turn();
  t.same(seen, ['core1', 'core2', 'observer2'], 'the next event still reaches the observer that threw');
  t.equal(logger.records.filter((r) => r.level === 'error').length, 3, 'each failure logged');
});

t.test('a long queue is handed over in batches, giving the event loop back between them', (t) => {
  const { feed, turn } = manualFeed();
  let seen = 0;
  feed.subscribe(() => void seen++, { capacity: 10_000 });
  for (let i = 0; i < FEED_DRAIN_BATCH * 2 + 1; i++) feed.emit(i);
  t.equal(turn(), 1, 'one drain scheduled for the whole burst');
  t.equal(seen, FEED_DRAIN_BATCH);
  turn();
  t.equal(seen, FEED_DRAIN_BATCH * 2);
  turn();
  t.equal(seen, FEED_DRAIN_BATCH * 2 + 1);
  t.equal(turn(), 0, 'nothing more scheduled once empty');
  t.end();
});

t.test('a filter keeps what an observer does not want out of its queue', (t) => {
  const { feed, turn } = manualFeed();
  const seen: number[] = [];
  feed.subscribe((e) => void seen.push(e), { capacity: 2, filter: (e) => e % 2 === 0 });
  for (let i = 1; i <= 4; i++) feed.emit(i);
  turn();
  t.same(seen, [2, 4]);
  t.equal(feed.dropped, 0, 'filtered events take no room');
  t.end();
});

t.test('by default observers are drained with setImmediate', async (t) => {
  const feed = new Feed<number>({ logger: silentLogger });
  const seen: number[] = [];
  feed.subscribe((e) => void seen.push(e));
  feed.emit(1);
  await Promise.resolve();
  t.same(seen, [], 'not in a microtask of the emitting turn');
  await settle();
  t.same(seen, [1]);
});
