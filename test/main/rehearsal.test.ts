import t from 'tap';
import { createDefaultRegistry } from '../../src/events/default-registry.js';
import { Rehearsal, REHEARSAL_ROUNDS } from '../../src/main-rehearsal.js';

t.test('the start-up rehearsal subscribes, publishes and is notified on its scratch stack (RFC 6665 §4.2.1, RFC 3903 §4)', async (t) => {
  const r = new Rehearsal(createDefaultRegistry());
  // As in main.ts, each round runs in its own turn of the event loop, so answered NOTIFYs settle in between.
  for (let i = 0; i < 650; i++) {
    r.round(i);
    await new Promise((res) => setImmediate(res));
  }
  t.same(r.done.refused, 0, 'no request was refused');
  t.equal(r.done.subscribed, 250, 'every SUBSCRIBE was accepted');
  t.equal(r.done.published, 400, 'every PUBLISH was accepted, the idle ones by their entity-tag');
  t.equal(r.done.notified, 250 + 400 * 4, `${r.done.notified} NOTIFYs answered: one per subscription, then one per dialog and presence watcher of each changed line`);
  r.dispose();
});

t.test('the rehearsal stops after REHEARSAL_ROUNDS and after dispose, so its cost after a start is bounded', async (t) => {
  const r = new Rehearsal(createDefaultRegistry());
  for (let i = 0; i < REHEARSAL_ROUNDS + 100; i++) {
    r.round(i);
    if (i % 50 === 0) await new Promise((res) => setImmediate(res));
  }
  await new Promise((res) => setImmediate(res));
  const atLimit = { ...r.done };
  t.equal(atLimit.subscribed + atLimit.published, REHEARSAL_ROUNDS, 'one request a round, every one accepted');
  r.round(REHEARSAL_ROUNDS + 200);
  t.same(r.done, atLimit, 'nothing after the last round');
  r.dispose();
  r.round(10);
  r.dispose(); // twice is harmless
  t.same(r.done, atLimit, 'nothing after dispose');
});
