import t, { type Test } from 'tap';
import { STORE_RETRY_AFTER_SECONDS } from '../../src/presentity/store-refusal.js';
import { CORRUPT, FaultyStore, WRITABLE } from '../store/helpers/faulty-store.js';
import { NotifierHarness } from './helpers/notifier-harness.js';

/**
 * While the store cannot write, a new subscription would be acknowledged and then be gone after a restart; it is
 * refused with 503 and Retry-After instead (RFC 3261 §21.5.4, §20.33). What the notifier already holds goes on.
 */

function setup(t: Test): { h: NotifierHarness; store: FaultyStore } {
  const store = new FaultyStore();
  const h = new NotifierHarness({ store });
  t.teardown(() => h.dispose());
  return { h, store };
}

t.test('a new SUBSCRIBE while the store cannot write is 503 with Retry-After, and nothing is kept or sent (RFC 3261 §21.5.4, §20.33)', async (t) => {
  const { h, store } = setup(t);
  store.health = CORRUPT;
  const d = await h.subscribe();
  t.equal(d.response.status, 503);
  t.equal(d.response.reason, 'Service Unavailable');
  t.equal(d.response.headers.get('retry-after'), String(STORE_RETRY_AFTER_SECONDS));
  t.match(d.response.headers.get('warning'), /^399 piston "presence store cannot save new state; retry later"$/);
  t.equal(h.notifier.count(), 0, 'no live subscription');
  t.equal(store.subscriptions.count(), 0, 'nothing stored');
  await h.tick(1000);
  t.equal(h.notifies.length, 0, 'no NOTIFY');
});

t.test('a SUBSCRIBE with something else wrong gets that answer, not 503 (RFC 6665 §4.2.1.1)', async (t) => {
  const { h, store } = setup(t);
  store.health = CORRUPT;
  t.equal((await h.subscribe({ event: 'conference' })).response.status, 489);
  t.equal((await h.subscribe({ expires: 5 })).response.status, 423);
});

t.test('a refresh and an unsubscribe of a subscription already held are answered while the store cannot write (RFC 6665 §4.2.1.2, §4.2.1.4)', async (t) => {
  const { h, store } = setup(t);
  const d = await h.subscribe({ expires: 600 });
  t.equal(d.response.status, 200);
  store.health = CORRUPT;
  const refreshed = await h.resubscribe(d, { expires: 600 });
  t.equal(refreshed.status, 200, 'the dialog lives in memory: refusing the refresh would only let it lapse');
  t.equal(h.notifies.length, 2, 'and it gets its full-state NOTIFY');
  const ended = await h.resubscribe(d, { expires: 0 });
  t.equal(ended.status, 200, 'an unsubscribe keeps nothing');
  t.equal(h.notifier.count(), 0);
});

t.test('a fetch (Expires 0 outside a dialog) is answered while the store cannot write: it keeps nothing (RFC 6665 §4.4.3)', async (t) => {
  const { h, store } = setup(t);
  store.health = CORRUPT;
  const d = await h.subscribe({ expires: 0 });
  t.equal(d.response.status, 200);
  t.equal(h.notifies.length, 1);
});

t.test('once the store writes again, a new SUBSCRIBE is accepted', async (t) => {
  const { h, store } = setup(t);
  store.health = CORRUPT;
  t.equal((await h.subscribe()).response.status, 503);
  store.health = WRITABLE;
  t.equal((await h.subscribe()).response.status, 200);
  t.equal(h.notifier.count(), 1);
});
