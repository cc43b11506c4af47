/**
 * The send window shared fairly between sources (issue 19 item 4): one source's thousands of unanswered NOTIFYs
 * cannot delay another source's NOTIFYs by more than a turn. Through the in-process stack (createPresenceStack) on the
 * loop network, with the default window of 512.
 */
import t, { type Test } from 'tap';
import type { LoopTransport } from '../support/loop-transport.js';
import { createResponse } from '../../src/sip/message/response-factory.js';
import { DEFAULT_NOTIFY_WINDOW, NOTIFY_SLOT_HOLD_MS } from '../../src/subscriptions/notifier.js';
import { defaultSourceShare } from '../../src/subscriptions/notify-pacer.js';
import { DOMAIN, NotifierHarness, PHONE_ADDRESS, subscribeBytes, type HarnessOptions } from './helpers/notifier-harness.js';

const FLOOD = 3000;

function setup(t: Test, opts: HarnessOptions = {}): NotifierHarness {
  const h = new NotifierHarness(opts);
  t.teardown(() => h.dispose());
  return h;
}

/** `count` subscriptions from one address that never answers a NOTIFY, each to its own resource. */
async function flood(h: NotifierHarness, address: string, count: number, prefix: string): Promise<LoopTransport> {
  const ep = h.net.endpoint(address, 5060);
  const flow = ep.flowTo(h.server, 'udp');
  for (let i = 0; i < count; i++) {
    await ep.send(subscribeBytes({ user: `${prefix}${i}`, fromUser: `f${prefix}${i}`, callId: `flood-${address}-${i}`, fromTag: `t${i}` }, 'udp'), flow);
    if (i % 500 === 499) await h.tick();
  }
  await h.tick();
  return ep;
}

/** NOTIFYs the server sent to an address, first copies only, with the clock time they left. */
function notifiesTo(h: NotifierHarness, address: string): { at: number; callId: string }[] {
  const seen = new Set<string>();
  const out: { at: number; callId: string }[] = [];
  for (const s of h.server.sent) {
    if (s.flow.remoteAddress !== address) continue;
    const text = s.bytes.toString('latin1');
    if (!text.startsWith('NOTIFY ')) continue;
    const branch = /branch=([^;\s]+)/.exec(text)![1]!;
    if (seen.has(branch)) continue;
    seen.add(branch);
    out.push({ at: s.at, callId: /\r\nCall-ID: ([^\r]+)/i.exec(text)![1]! });
  }
  return out;
}

t.test(`one source with ${FLOOD} unanswered NOTIFYs never holds more than its share of the window (issue 19)`, async (t) => {
  const h = setup(t);
  await flood(h, '10.6.6.6', FLOOD, '7');
  const share = defaultSourceShare(DEFAULT_NOTIFY_WINDOW);
  t.equal(share, 384, 'three quarters of 512');
  t.equal(notifiesTo(h, '10.6.6.6').length, share, 'its first NOTIFYs up to its share, the rest wait');
  t.equal(h.notifier.count(), FLOOD, 'every subscription was taken');
  await h.tick(NOTIFY_SLOT_HOLD_MS);
  t.equal(notifiesTo(h, '10.6.6.6').length, 2 * share, 'a share more once the slots are given back: it is paced, not stopped');
});

t.test(`another source's NOTIFY goes at once while one source has ${FLOOD} unanswered NOTIFYs waiting (issue 19)`, async (t) => {
  const h = setup(t);
  const victim = await h.subscribe({ user: '1001' });
  t.equal(victim.response.status, 200);
  t.equal(h.notifies.length, 1);
  await flood(h, '10.6.6.6', FLOOD, '7');
  const waiting = FLOOD - notifiesTo(h, '10.6.6.6').length;
  t.ok(waiting > 2000, `the flooder has NOTIFYs waiting (${waiting})`);

  // Before issue 19 this NOTIFY queued behind every waiting one: FLOOD / 512 slot holds, about 5 s here, 40 s for 20,000.
  const changedAt = h.clock.now();
  h.presentity.setManualState(`1001@${DOMAIN}`, 'early');
  await h.tick();
  const mine = notifiesTo(h, PHONE_ADDRESS);
  t.equal(mine.length, 2, 'the change reached the watcher');
  t.equal(mine[1]!.at - changedAt, 0, 'with no delay at all');
  t.match(h.notifies[1]!.body.toString(), /<state>early<\/state>/);

  const other = await h.subscribe({ user: '1002', fromUser: '2002' });
  t.equal(other.response.status, 200);
  t.equal(h.notifies.length, 3, 'a new subscription of the same source gets its first NOTIFY at once too');
});

t.test('with two sources flooding and the window full, a third source\'s NOTIFY waits one turn, not behind their backlog (issue 19)', async (t) => {
  const h = setup(t);
  await h.subscribe({ user: '1001' });
  await flood(h, '10.6.6.6', FLOOD, '7');
  await flood(h, '10.6.6.7', FLOOD, '8');
  const out = notifiesTo(h, '10.6.6.6').length + notifiesTo(h, '10.6.6.7').length;
  t.equal(out, DEFAULT_NOTIFY_WINDOW, 'the two of them fill the window');
  const changedAt = h.clock.now();
  h.presentity.setManualState(`1001@${DOMAIN}`, 'early');
  await h.tick();
  t.equal(notifiesTo(h, PHONE_ADDRESS).length, 1, 'no room at this instant');
  await h.tick(NOTIFY_SLOT_HOLD_MS);
  const mine = notifiesTo(h, PHONE_ADDRESS);
  t.equal(mine.length, 2, 'it went with the first slots given back');
  t.ok(mine[1]!.at - changedAt <= NOTIFY_SLOT_HOLD_MS, `within one slot hold (${mine[1]!.at - changedAt} ms), not ${Math.round((2 * FLOOD) / DEFAULT_NOTIFY_WINDOW)} of them`);
});

t.test('a fan-out reaches every source\'s watchers: one source past its share waits in its own lane, the others go (issue 19)', async (t) => {
  const h = setup(t, { notifyWindow: 8 });
  t.equal(defaultSourceShare(8), 6);
  // Twenty watchers of 1001 behind one address, answering their first NOTIFYs and nothing after; the phone's
  // subscription sits in the middle of the watcher set.
  const ep = h.net.endpoint('10.6.6.6', 5060);
  let answering = true;
  ep.onMessage((msg, f) => {
    if (answering && msg.isRequest()) void ep.send(createResponse(msg, 200), f);
  });
  const flow = ep.flowTo(h.server, 'udp');
  const subscribeFlooder = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) await ep.send(subscribeBytes({ user: '1001', fromUser: `f${i}`, callId: `fan-${i}`, fromTag: `t${i}` }, 'udp'), flow);
    await h.tick();
  };
  await subscribeFlooder(0, 10);
  await h.subscribe({ user: '1001' });
  await subscribeFlooder(10, 20);
  t.equal(h.notifier.count(), 21);
  answering = false;
  const before = notifiesTo(h, '10.6.6.6').length;
  h.presentity.setManualState(`1001@${DOMAIN}`, 'early');
  await h.tick();
  t.equal(notifiesTo(h, '10.6.6.6').length - before, 6, 'the busy source sends its share');
  t.equal(h.notifies.length, 2, 'the phone, eleventh in the watcher set, is reached at once');
  await h.tick(NOTIFY_SLOT_HOLD_MS);
  t.equal(notifiesTo(h, '10.6.6.6').length - before, 12, 'the rest of that source follow as its slots come back');
});
