import t, { type Test } from 'tap';
import type { PresenceEvent } from '../../src/feed/presence-feed.js';
import { PistonError } from '../../src/lib/errors.js';
import type { LiveSubscription } from '../../src/subscriptions/live-subscription.js';
import { SubscriptionState, transition } from '../../src/subscriptions/subscription-state.js';
import { DOMAIN, NotifierHarness } from './helpers/notifier-harness.js';

const RESOURCE = `1001@${DOMAIN}`;
const ALL = Object.values(SubscriptionState);

t.test('the legal path: pending, active, terminating, terminated (RFC 6665 §4.1.2, §4.2.2)', (t) => {
  const sub = { id: 's1', state: SubscriptionState.Pending as SubscriptionState };
  transition(sub, SubscriptionState.Active);
  t.equal(sub.state, 'active');
  transition(sub, SubscriptionState.Terminating);
  t.equal(sub.state, 'terminating');
  transition(sub, SubscriptionState.Terminated);
  t.equal(sub.state, 'terminated');
  t.end();
});

t.test('the short cuts that exist: a fetch ends from pending, a given-up watcher ends without a final NOTIFY', (t) => {
  for (const [from, to] of [
    ['pending', 'terminating'],
    ['pending', 'terminated'],
    ['active', 'terminated'],
  ] as const) {
    const sub = { id: 's', state: from as SubscriptionState };
    transition(sub, to);
    t.equal(sub.state, to, `${from} → ${to}`);
  }
  t.end();
});

t.test('an illegal transition throws and leaves the state as it was', (t) => {
  const legal = new Set(['pending>active', 'pending>terminating', 'pending>terminated', 'active>terminating', 'active>terminated', 'terminating>terminated']);
  let illegal = 0;
  for (const from of ALL) {
    for (const to of ALL) {
      if (legal.has(`${from}>${to}`)) continue;
      illegal++;
      const sub = { id: 's9', state: from as SubscriptionState };
      t.throws(() => transition(sub, to), PistonError, `${from} → ${to}`);
      t.equal(sub.state, from);
    }
  }
  t.equal(illegal, 10, 'every other pair, staying put included, is refused');
  try {
    transition({ id: 's9', state: SubscriptionState.Terminated }, SubscriptionState.Active);
  } catch (err) {
    t.equal((err as PistonError).code, 'subscription-state');
    t.match((err as Error).message, /s9 cannot go from terminated to active/);
  }
  t.end();
});

/** The notifier's live records as the feed hands them out, to read their state. */
function watchStates(t: Test): { h: NotifierHarness; created: LiveSubscription[]; removed: LiveSubscription[] } {
  const h = new NotifierHarness();
  t.teardown(() => h.dispose());
  const created: LiveSubscription[] = [];
  const removed: LiveSubscription[] = [];
  h.feed.core((e: PresenceEvent) => {
    if (e.kind === 'subscription-created') created.push(e.subscription as LiveSubscription);
    if (e.kind === 'subscription-removed') removed.push(e.subscription as LiveSubscription);
  });
  return { h, created, removed };
}

t.test('the notifier: active once created; an unsubscribe is terminating until its final NOTIFY is answered (RFC 6665 §4.2.1.4)', async (t) => {
  const { h, created, removed } = watchStates(t);
  const d = await h.subscribe();
  t.equal(created[0]!.state, 'active');
  h.answer = () => 'ignore';
  await h.resubscribe(d, { expires: 0 });
  t.equal(removed[0], created[0]);
  t.equal(removed[0]!.state, 'terminating', 'the final NOTIFY is out, unanswered');
  await h.reply(h.notifies.at(-1)!, 200);
  t.equal(removed[0]!.state, 'terminated');
});

t.test('the notifier: an unsubscribe behind a NOTIFY in flight is terminating, and its final NOTIFY follows the answer (RFC 6665 §4.2.2)', async (t) => {
  const { h, created } = watchStates(t);
  const d = await h.subscribe();
  h.answer = () => 'ignore';
  h.presentity.setManualState(RESOURCE, 'early');
  await h.tick();
  await h.resubscribe(d, { expires: 0 });
  t.equal(created[0]!.state, 'terminating');
  t.equal(h.notifies.length, 2, 'the final NOTIFY waits its turn (one at a time)');
  await h.reply(h.notifies[1]!, 200);
  t.equal(h.notifies.length, 3);
  t.equal(h.notifies[2]!.headers.get('subscription-state'), 'terminated');
  t.equal(created[0]!.state, 'terminating', 'until the final one is answered');
  await h.reply(h.notifies[2]!, 200);
  t.equal(created[0]!.state, 'terminated');
});

t.test('the notifier: a replaced or refused subscription is terminated at once, with no final NOTIFY (RFC 6665 §4.2.2)', async (t) => {
  const { h, created } = watchStates(t);
  await h.subscribe();
  await h.subscribe();
  t.equal(created[0]!.state, 'terminated', 'replaced by the second');
  t.equal(created[1]!.state, 'active');
  h.answer = () => 481;
  h.presentity.setManualState(RESOURCE, 'early');
  await h.tick();
  t.equal(created[1]!.state, 'terminated', '481: gone');
  t.equal(h.notifies.length, 3, 'no final NOTIFY to either');
});
