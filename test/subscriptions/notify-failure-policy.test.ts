import t, { type Test } from 'tap';
import { DOMAIN, NotifierHarness, type HarnessOptions } from './helpers/notifier-harness.js';

const RESOURCE = `1001@${DOMAIN}`;
/** Timer F = 64·T1 with T1 = 500 ms (RFC 3261 §17.1.2.2). */
const TIMER_F = 32_000;

function setup(t: Test, opts: HarnessOptions = {}): NotifierHarness {
  const h = new NotifierHarness(opts);
  t.teardown(() => h.dispose());
  return h;
}

/** Makes the resource change so every watcher gets a NOTIFY. */
let flip = false;
async function change(h: NotifierHarness): Promise<void> {
  flip = !flip;
  h.presentity.setManualState(RESOURCE, flip ? 'early' : 'confirmed');
  await h.tick();
}

t.test('a NOTIFY answered 481 removes the subscription (RFC 6665 §4.2.2)', async (t) => {
  const h = setup(t);
  await h.subscribe();
  h.answer = () => 481;
  await change(h);
  t.equal(h.notifier.count(), 0);
  t.equal(await h.store.subscriptions.count(), 0, 'gone from the store too');
  t.same(h.removed.map((r) => r.reason), ['gone']);
  await change(h);
  t.equal(h.notifies.length, 2, 'no NOTIFY after it');
});

t.test('a 481 to the very first NOTIFY removes the new subscription (RFC 6665 §4.2.2)', async (t) => {
  const h = setup(t);
  h.answer = () => 481;
  await h.subscribe();
  t.equal(h.notifier.count(), 0);
});

t.test('over UDP a NOTIFY timeout is a strike; the third in a row removes the subscription (sip-behaviour.md, RFC 3261 §17.1.2.2 Timer F)', async (t) => {
  const h = setup(t);
  await h.subscribe({ expires: 3600 });
  h.answer = () => 'ignore';
  await change(h);
  await h.tick(TIMER_F);
  t.equal(h.record()!.strikes, 1, 'one strike after Timer F');
  t.ok(h.notifyCopies > h.notifies.length, 'Timer E retransmitted the NOTIFY meanwhile');
  await change(h);
  await h.tick(TIMER_F);
  t.equal(h.record()!.strikes, 2);
  t.equal(h.notifier.count(), 1, 'two strikes are survived');
  await change(h);
  await h.tick(TIMER_F - 1);
  t.equal(h.notifier.count(), 1, 'not before Timer F');
  await h.tick(1);
  t.equal(h.notifier.count(), 0, 'the third timeout removes it');
  t.same(h.removed.map((r) => r.reason), ['unreachable']);
});

t.test('over UDP a 2xx between timeouts resets the strikes (sip-behaviour.md)', async (t) => {
  const h = setup(t);
  await h.subscribe();
  h.answer = () => 'ignore';
  await change(h);
  await h.tick(TIMER_F);
  await change(h);
  await h.tick(TIMER_F);
  t.equal(h.record()!.strikes, 2);
  h.answer = () => 200;
  await change(h);
  t.equal(h.record()!.strikes, 0, 'reset by the 200');
  h.answer = () => 'ignore';
  await change(h);
  await h.tick(TIMER_F);
  await change(h);
  await h.tick(TIMER_F);
  t.equal(h.notifier.count(), 1, 'two new strikes are survived');
  await change(h);
  await h.tick(TIMER_F);
  t.equal(h.notifier.count(), 0, 'the third in a row removes it');
});

t.test('over UDP a 408 counts as a strike, not a removal (sip-behaviour.md)', async (t) => {
  const h = setup(t);
  await h.subscribe();
  h.answer = () => 408;
  await change(h);
  t.equal(h.record()!.strikes, 1);
  t.equal(h.record()!.lastNotify!.reply, 408);
  await change(h);
  await change(h);
  t.equal(h.notifier.count(), 0, 'three 408s remove it');
});

t.test('over TCP one NOTIFY timeout removes the subscription (sip-behaviour.md)', async (t) => {
  const h = setup(t, { protocol: 'tcp' });
  const d = await h.subscribe();
  t.equal(d.response.headers.get('contact'), '<sip:10.0.0.1:5060;transport=tcp>', 'our Contact says TCP');
  t.equal(h.notifies[0]!.headers.get('via')!.startsWith('SIP/2.0/TCP '), true, 'the NOTIFY Via says TCP');
  h.answer = () => 'ignore';
  await change(h);
  t.equal(h.notifyCopies, h.notifies.length, 'no retransmission over TCP (RFC 3261 §17.1.2.2)');
  await h.tick(TIMER_F);
  t.equal(h.notifier.count(), 0);
  t.same(h.removed.map((r) => r.reason), ['unreachable']);
});

t.test('over TCP a 408 removes the subscription (sip-behaviour.md)', async (t) => {
  const h = setup(t, { protocol: 'tcp' });
  await h.subscribe();
  h.answer = () => 408;
  await change(h);
  t.equal(h.notifier.count(), 0);
});

t.test('any other final failure to a NOTIFY, such as 500, removes the subscription (sip-behaviour.md)', async (t) => {
  const h = setup(t);
  await h.subscribe();
  h.answer = () => 500;
  await change(h);
  t.equal(h.notifier.count(), 0);
  t.same(h.removed.map((r) => r.reason), ['rejected']);
  const h2 = setup(t);
  h2.answer = () => 603;
  await h2.subscribe({ fromUser: '2002' });
  t.equal(h2.notifier.count(), 0, '603 too');
});

t.test('the last NOTIFY is recorded: its CSeq, the reply (0 until answered) and the body (api-contract.md, notify)', async (t) => {
  const h = setup(t);
  await h.subscribe();
  const first = h.record()!;
  t.equal(first.lastNotify!.cseq, 1);
  t.equal(first.lastNotify!.reply, 200);
  t.equal(first.lastNotify!.body, h.notifies[0]!.body.toString('utf8'));
  h.answer = () => 'ignore';
  await change(h);
  const pending = h.record()!;
  t.equal(pending.lastNotify!.cseq, 2, 'recorded before the answer');
  t.equal(pending.lastNotify!.reply, 0, 'no answer yet');
  t.equal(pending.lastNotify!.body, h.notifies[1]!.body.toString('utf8'));
  t.equal(pending.localCseq, 2, 'CSeq counted before the NOTIFY left');
  t.equal(pending.version, 2);
  await h.reply(h.notifies[1]!, 202);
  t.equal(h.record()!.lastNotify!.reply, 202, 'any 2xx is recorded and accepted');
  t.equal(h.record()!.strikes, 0);
});

t.test('for a trusted peer a TCP NOTIFY falls back to the Contact when the SUBSCRIBE connection is gone (RFC 3261 §18.1.1)', async (t) => {
  // This test changed (issue 19): only a trusted peer's Contact is dialled; notify-route.test.ts has the untrusted case.
  const h = setup(t, { protocol: 'tcp', policy: { authenticate: () => ({ ok: true, identity: { kind: 'peer', id: 'pbx', accountId: 'a'.repeat(32) } }) } });
  await h.subscribe();
  h.closeConnection();
  await change(h);
  t.equal(h.notifies.length, 2, 'delivered over a new connection');
  const last = h.server.sent.at(-1)!;
  t.not(last.flow.connectionId, h.server.sent[0]!.flow.connectionId, 'on another connection');
  t.equal(h.notifier.count(), 1);
});

t.test('the final NOTIFY follows the one in flight, with the next CSeq (RFC 6665 §4.2.2, RFC 3261 §12.2.1.1)', async (t) => {
  const h = setup(t);
  const d = await h.subscribe();
  h.answer = () => 'ignore';
  await change(h);
  t.equal(h.notifier.inFlight, 1);
  const res = await h.resubscribe(d, { expires: 0 });
  t.equal(res.status, 200);
  t.equal(h.notifies.length, 2, 'the final one waits');
  t.equal(h.notifier.count(), 0, 'the subscription is already gone');
  h.answer = () => 200;
  await h.reply(h.notifies[1]!, 200);
  t.equal(h.notifies.length, 3);
  t.equal(h.notifies[2]!.headers.get('subscription-state'), 'terminated');
  t.equal(h.notifies[2]!.cseq.seq, 3);
  t.equal(h.notifier.inFlight, 0);
});
