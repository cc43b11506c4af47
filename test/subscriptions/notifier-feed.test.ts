import t, { type Test } from 'tap';
import type { PresenceEvent } from '../../src/feed/presence-feed.js';
import type { ClientResult, Destination } from '../../src/sip/transaction/non-invite-client-transaction.js';
import type { SipRequest } from '../../src/sip/message/message.js';
import { DOMAIN, NotifierHarness } from './helpers/notifier-harness.js';

const RESOURCE = `1001@${DOMAIN}`;
const WATCHERS = 20;

function setup(t: Test): NotifierHarness {
  const h = new NotifierHarness();
  t.teardown(() => h.dispose());
  return h;
}

/** Counts NOTIFYs as they are handed to the transaction layer, synchronously. */
function countHandedOver(h: NotifierHarness): { count: number } {
  const seen = { count: 0 };
  const layer = h.layer as unknown as { request(req: SipRequest, d: Destination): Promise<ClientResult> };
  const original = layer.request.bind(h.layer);
  layer.request = (req, d) => {
    if (req.method === 'NOTIFY') seen.count++;
    return original(req, d);
  };
  return seen;
}

t.test('the feed tells a subscription\'s life in order: created, NOTIFY sent and answered, refreshed, removed with its reason', async (t) => {
  const h = setup(t);
  const kinds: string[] = [];
  h.feed.subscribe((e) => {
    if (e.kind === 'notify-answered') kinds.push(`${e.kind} ${e.answer.ok ? e.answer.status : e.answer.failure}`);
    else if (e.kind === 'subscription-removed') kinds.push(`${e.kind} ${e.reason}`);
    else if (e.kind === 'notify-sent') kinds.push(`${e.kind}${e.final ? ' final' : ''}`);
    else kinds.push(e.kind);
  });
  const d = await h.subscribe();
  h.presentity.setManualState(RESOURCE, 'early');
  await h.tick();
  await h.resubscribe(d);
  await h.resubscribe(d, { expires: 0 });
  await h.tick();
  t.same(kinds, [
    'subscription-created',
    'notify-sent',
    'notify-answered 200',
    'resource-changed',
    'notify-sent',
    'notify-answered 200',
    'subscription-refreshed',
    'notify-sent',
    'notify-answered 200',
    'subscription-removed unsubscribed',
    'notify-sent final',
    'notify-answered 200',
  ]);
});

t.test('an observer that never drains does not delay NOTIFYs: a fan-out goes out at once and the observer is told what it missed', async (t) => {
  const h = setup(t);
  for (let i = 0; i < WATCHERS; i++) await h.subscribe({ fromUser: `${3000 + i}` });
  t.equal(h.notifies.length, WATCHERS);
  const seen: (PresenceEvent | string)[] = [];
  let release!: () => void;
  h.feed.subscribe(
    (e) => {
      seen.push(e);
      // Stuck on its first event (a live view whose socket stopped reading).
      if (seen.length === 1) return new Promise<void>((resolve) => (release = resolve));
      return undefined;
    },
    { capacity: 5, onMissed: (n) => seen.push(`missed ${n}`) },
  );
  const handed = countHandedOver(h);
  h.presentity.setManualState(RESOURCE, 'early');
  t.equal(handed.count, WATCHERS, 'every NOTIFY of the fan-out was handed to the transaction layer before setManualState returned');
  t.equal(seen.length, 0, 'and the observer had not run yet');
  await h.tick();
  t.equal(h.notifies.length, WATCHERS * 2, 'every watcher received its NOTIFY');
  t.equal(seen.length, 1, 'the observer is still on its first event');
  // resource-changed, 20 notify-sent, 20 notify-answered, all emitted before its first drain: five were queued.
  const emitted = 1 + WATCHERS * 2;
  t.equal(h.feed.dropped, emitted - 5, 'bounded: the rest was dropped, and counted');
  release();
  await h.tick();
  t.match(seen[0], { kind: 'resource-changed', resource: RESOURCE });
  t.same(
    seen.slice(1, 5).map((e) => (e as PresenceEvent).kind),
    ['notify-sent', 'notify-sent', 'notify-sent', 'notify-sent'],
    'then what was queued',
  );
  t.same(seen.slice(5), [`missed ${emitted - 5}`], 'then the drop is marked, so the observer knows to re-read');
  h.presentity.setManualState(RESOURCE, 'confirmed');
  await h.tick();
  t.match(seen[6], { kind: 'resource-changed' }, 'once it keeps up again it hears the next change');
});

t.test('a slow observer runs after the fan-out has been handed over, never inside it', async (t) => {
  const h = setup(t);
  for (let i = 0; i < WATCHERS; i++) await h.subscribe({ fromUser: `${3000 + i}` });
  const handed = countHandedOver(h);
  const handedWhenObserved: number[] = [];
  h.feed.subscribe(() => {
    handedWhenObserved.push(handed.count);
    const until = performance.now() + 2;
    while (performance.now() < until);
  });
  h.presentity.setManualState(RESOURCE, 'early');
  t.equal(handed.count, WATCHERS);
  await h.tick();
  t.ok(handedWhenObserved.length > WATCHERS, 'the observer heard the fan-out');
  t.ok(
    handedWhenObserved.every((n) => n === WATCHERS),
    'every NOTIFY had left before the observer first ran',
  );
});

t.test('a removed observer hears nothing more; the notifier keeps notifying', async (t) => {
  const h = setup(t);
  await h.subscribe();
  const seen: string[] = [];
  const stop = h.feed.subscribe((e) => void seen.push(e.kind));
  h.presentity.setManualState(RESOURCE, 'early');
  await h.tick();
  const heard = seen.length;
  t.ok(heard > 0);
  stop();
  h.presentity.setManualState(RESOURCE, 'confirmed');
  await h.tick();
  t.equal(seen.length, heard, 'nothing after unsubscribe');
  t.equal(h.notifies.length, 3, 'the watcher still got its NOTIFY');
});

t.test('PresentityService.onChange returns its unsubscribe; the notifier\'s own listener stays', async (t) => {
  const h = setup(t);
  await h.subscribe();
  const changes: string[] = [];
  const stop = h.presentity.onChange((c) => changes.push(c.resource));
  h.presentity.setManualState(RESOURCE, 'early');
  t.same(changes, [RESOURCE], 'heard synchronously');
  stop();
  h.presentity.setManualState(RESOURCE, 'confirmed');
  await h.tick();
  t.same(changes, [RESOURCE]);
  t.equal(h.notifies.length, 3);
});
