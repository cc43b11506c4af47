import t, { type Test } from 'tap';
import { startServerForFile } from '../support/server-process.js';
import { SipEndpoint } from '../support/sip-watcher.js';

/**
 * What the notifier does when a watcher answers a NOTIFY with an error or not at all (sip-behaviour.md, "Failure
 * policy"): 481 removes the subscription (RFC 6665 §4.2.2); over UDP three timeouts in a row remove it and a 2xx
 * resets the count, but a watcher that never answered any NOTIFY is removed at its first timeout (issue 19: bounded
 * retransmissions); over TCP one timeout removes it. Removal is observed from outside: after it, a state change
 * sends the watcher nothing, while a control watcher of the same resource does get its NOTIFY (so the change
 * really happened). T1 is 50 ms here, so Timer F (64·T1, RFC 3261 §17.1.2.2) fires after 3.2 s.
 */

const T1 = 50;
const TIMER_F = 64 * T1;
/** Slack after Timer F for the server to act on the timeout before the test looks. */
const SETTLE = 1500;

const etags = new Map<string, string>();
let changes = 0;

const server = await startServerForFile(t, { env: { PISTON_SIP_T1_MS: String(T1), PISTON_LOG_LEVEL: 'debug' } });
const publisher = await SipEndpoint.udp(server.sipPort);
t.teardown(() => publisher.close());

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** Publishes a new confirmed call for the resource, replacing the previous one (RFC 3903 §4.4), so its state changes. */
async function changeState(t: Test, resource: string): Promise<void> {
  changes++;
  const n = changes;
  const dialog = { id: `d${n}`, callId: `call-${n}`, localTag: `l${n}`, remoteTag: `r${n}`, state: 'confirmed', direction: 'recipient' as const, remote: `caller${n}` };
  let r = await publisher.publishDialog({ resource, dialog, etag: etags.get(resource), expires: 600 });
  if (r.response.status === 412) r = await publisher.publishDialog({ resource, dialog, expires: 600 });
  if (r.response.status !== 200) t.fail(`PUBLISH got ${r.response.status}`);
  if (r.etag) etags.set(resource, r.etag);
}

async function subscribed(t: Test, ep: SipEndpoint, resource: string, user: string): Promise<string> {
  const r = await ep.subscribe({ resource, user, event: 'dialog', expires: 600 });
  t.equal(r.response.status, 200, `${user} subscribed to ${resource}`);
  return r.callId;
}

/** NOTIFY transactions that still reported an active subscription (a final `terminated` one is not counted). */
function active(ep: SipEndpoint, callId: string): number {
  return ep.transactions(callId).filter((n) => !/^terminated/i.test(n.subscriptionState)).length;
}

/** NOTIFY transactions that began at or after `since` (ms epoch). */
function since(ep: SipEndpoint, callId: string, at: number): number {
  return ep.transactions(callId).filter((n) => n.at >= at).length;
}

/**
 * Removals the server logged (at debug) for subscriptions to a resource, or undefined when it logs no creations at
 * all (then the test relies on the missing NOTIFYs alone).
 */
function loggedRemovals(resource: string): number | undefined {
  const records = server.lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  const ids = new Set(records.filter((r) => r.msg === 'subscription created' && String(r.resource).includes(resource)).map((r) => String(r.id)));
  if (ids.size === 0) return undefined;
  return records.filter((r) => /^subscription removed$|removing/.test(String(r.msg)) && ids.has(String(r.id))).length;
}

function checkRemovalLogged(t: Test, resource: string, expected: number): void {
  const n = loggedRemovals(resource);
  if (n === undefined) t.comment('the server logs no subscription creations; removal checked by missing NOTIFYs only');
  else t.ok(n >= expected && (expected > 0 || n === 0), `server log: ${n} removal line(s) for ${resource}, expected ${expected > 0 ? 'some' : 'none'}`);
}

t.test('a watcher that answers NOTIFY with 481 is removed (RFC 6665 §4.2.2)', async (t) => {
  const resource = '4001';
  const control = await SipEndpoint.udp(server.sipPort);
  const gone = await SipEndpoint.udp(server.sipPort);
  gone.defaultPolicy = () => 481;
  const ctl = await subscribed(t, control, resource, 'ctl4001');
  const cid = await subscribed(t, gone, resource, 'gone4001');
  t.ok(await gone.waitUntil(() => gone.transactions(cid).length >= 1, 5000), 'the watcher got its first NOTIFY and answered 481');
  t.ok(await control.waitUntil(() => control.transactions(ctl).length >= 1, 5000), 'the control watcher got its first NOTIFY');
  await sleep(300);

  const changedAt = Date.now();
  await changeState(t, resource);
  t.ok(await control.waitUntil(() => control.transactions(ctl).length >= 2, 5000), 'the control watcher is told of the change');
  await sleep(SETTLE);
  t.equal(active(gone, cid), 1, 'the watcher that answered 481 got only its first NOTIFY');
  t.equal(since(gone, cid, changedAt), 0, 'and nothing for the later change');
  checkRemovalLogged(t, resource, 1);
  await control.close();
  await gone.close();
});

t.test('a UDP watcher that answered and then falls silent is removed after three NOTIFY transactions time out (Timer F, RFC 3261 §17.1.2.2)', async (t) => {
  // This test changed (issue 19): the watcher answers its first NOTIFY, since one that never answers at all is now
  // removed at its first timeout (the next test).
  const resource = '4002';
  const control = await SipEndpoint.udp(server.sipPort);
  const silent = await SipEndpoint.udp(server.sipPort);
  silent.defaultPolicy = (_n, k) => (k === 1 ? 200 : null);
  const ctl = await subscribed(t, control, resource, 'ctl4002');
  const cid = await subscribed(t, silent, resource, 'silent4002');

  // Each time a NOTIFY transaction starts, change the state, so a further NOTIFY is queued behind it (one in flight).
  for (let k = 1; k <= 3; k++) {
    t.ok(await silent.waitUntil(() => silent.transactions(cid).length >= k, TIMER_F + 5000), `NOTIFY transaction ${k} arrived`);
    await changeState(t, resource);
  }
  t.ok(await silent.waitUntil(() => silent.transactions(cid).length >= 4, TIMER_F + 5000), 'NOTIFY transaction 4 arrived');
  const last = silent.transactions(cid)[3];
  t.ok((silent.notifies.get(cid) ?? []).some((n) => n.retransmission), 'the server retransmitted over UDP (Timer E)');
  if (last) await sleep(Math.max(0, last.at + TIMER_F + SETTLE - Date.now()));

  const before = control.transactions(ctl).length;
  const changedAt = Date.now();
  await changeState(t, resource);
  t.ok(await control.waitUntil(() => control.transactions(ctl).length > before, 5000), 'the control watcher is told of the later change');
  await sleep(SETTLE);
  t.equal(active(silent, cid), 4, 'the answered one and three unanswered NOTIFY transactions, no fifth');
  t.equal(since(silent, cid, changedAt), 0, 'nothing for the later change');
  checkRemovalLogged(t, resource, 1);
  await control.close();
  await silent.close();
});

t.test('a UDP watcher that never answers any NOTIFY is removed after its first NOTIFY transaction times out: retransmissions bounded (issue 19, RFC 6665 §4.2.2)', async (t) => {
  const resource = '4005';
  const control = await SipEndpoint.udp(server.sipPort);
  const silent = await SipEndpoint.udp(server.sipPort);
  silent.defaultPolicy = () => null;
  const ctl = await subscribed(t, control, resource, 'ctl4005');
  const cid = await subscribed(t, silent, resource, 'silent4005');
  t.ok(await silent.waitUntil(() => silent.transactions(cid).length >= 1, 5000), 'the first NOTIFY arrived');
  // A change while it is out: a second NOTIFY waits behind it, and must never leave.
  await changeState(t, resource);
  const first = silent.transactions(cid)[0];
  if (first) await sleep(Math.max(0, first.at + TIMER_F + SETTLE - Date.now()));
  const copies = (silent.notifies.get(cid) ?? []).length;
  t.ok(copies > 1 && copies <= 11, `one transaction's copies only: Timer E until Timer F (${copies})`);

  const before = control.transactions(ctl).length;
  const changedAt = Date.now();
  await changeState(t, resource);
  t.ok(await control.waitUntil(() => control.transactions(ctl).length > before, 5000), 'the control watcher is told of the later change');
  await sleep(SETTLE);
  t.equal(silent.transactions(cid).length, 1, 'one NOTIFY transaction, no second');
  t.equal(since(silent, cid, changedAt), 0, 'nothing for the later change');
  checkRemovalLogged(t, resource, 1);
  await control.close();
  await silent.close();
});

t.test('a TCP watcher that never answers is removed after one NOTIFY transaction times out (sip-behaviour.md)', async (t) => {
  const resource = '4003';
  const control = await SipEndpoint.udp(server.sipPort);
  const silent = await SipEndpoint.tcp(server.sipPort);
  silent.defaultPolicy = () => null;
  const ctl = await subscribed(t, control, resource, 'ctl4003');
  const cid = await subscribed(t, silent, resource, 'silent4003');
  t.ok(await silent.waitUntil(() => silent.transactions(cid).length >= 1, 5000), 'the first NOTIFY arrived over TCP');
  const first = silent.transactions(cid)[0];
  if (first) await sleep(Math.max(0, first.at + TIMER_F + SETTLE - Date.now()));

  const before = control.transactions(ctl).length;
  const changedAt = Date.now();
  await changeState(t, resource);
  t.ok(await control.waitUntil(() => control.transactions(ctl).length > before, 5000), 'the control watcher is told of the change');
  await sleep(SETTLE);
  t.equal(active(silent, cid), 1, 'one NOTIFY transaction only over TCP');
  t.equal(since(silent, cid, changedAt), 0, 'nothing for the later change');
  t.equal((silent.notifies.get(cid) ?? []).filter((n) => n.retransmission).length, 0, 'and no retransmission over TCP (RFC 3261 §17.1.2.2)');
  checkRemovalLogged(t, resource, 1);
  await control.close();
  await silent.close();
});

t.test('a UDP watcher that misses two NOTIFYs and answers the third keeps its subscription: 2xx resets the strikes', async (t) => {
  const resource = '4004';
  const flaky = await SipEndpoint.udp(server.sipPort);
  // Answer 1, miss 2 and 3, answer 4, miss 5 and 6, answer 7: without the reset, the timeout of 5 would be the third
  // strike. (This test changed, issue 19: it used to miss the first two, and a watcher that never answered is now
  // removed at its first timeout.)
  flaky.defaultPolicy = (_n, k) => (k === 1 || k === 4 || k >= 7 ? 200 : null);
  const cid = await subscribed(t, flaky, resource, 'flaky4004');
  for (let k = 1; k <= 6; k++) {
    const arrived = await flaky.waitUntil(() => flaky.transactions(cid).length >= k, TIMER_F + 5000);
    t.ok(arrived, `NOTIFY transaction ${k} arrived`);
    if (!arrived) break;
    await changeState(t, resource);
  }
  t.ok(await flaky.waitUntil(() => flaky.transactions(cid).length >= 7, TIMER_F + 5000), 'NOTIFY transaction 7 arrived: the subscription survived');
  const got = flaky.transactions(cid);
  t.same(got.map((n) => n.answeredWith), [200, null, null, 200, null, null, 200].slice(0, got.length), 'answered as planned');
  const cseqs = got.map((n) => n.cseq);
  t.ok(cseqs.every((c, i) => i === 0 || c === cseqs[i - 1]! + 1), `CSeq rises by one per transaction: ${cseqs.join(', ')}`);
  const versions = got.map((n) => n.version ?? -1);
  t.ok(versions.every((v, i) => i === 0 || v === versions[i - 1]! + 1), `version rises by one per document: ${versions.join(', ')}`);
  checkRemovalLogged(t, resource, 0);
  await flaky.close();
});
