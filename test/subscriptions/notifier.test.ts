import t, { type Test } from 'tap';
import { ListAccountResolver } from '../../src/accounts/account-resolver.js';
import { DOMAIN, NotifierHarness, PHONE_ADDRESS, PHONE_PORT, bodyText, dialogVersion } from './helpers/notifier-harness.js';

const RESOURCE = `1001@${DOMAIN}`;

function setup(t: Test, opts: ConstructorParameters<typeof NotifierHarness>[0] = {}): NotifierHarness {
  const h = new NotifierHarness(opts);
  t.teardown(() => h.dispose());
  return h;
}

t.test('a new subscription gets 200 with our To-tag, our Contact and the granted Expires (RFC 6665 §4.2.1.2, §3.1.1)', async (t) => {
  const h = setup(t);
  const d = await h.subscribe({ expires: 1800 });
  t.equal(d.response.status, 200, '200, not 202 (RFC 6665 §8.3.1)');
  t.match(d.toTag, /^[0-9a-f]{8,}$/, 'a To tag of ours');
  t.equal(d.response.headers.get('contact'), '<sip:10.0.0.1:5060>', 'our Contact from the flow');
  t.equal(d.response.headers.get('expires'), '1800', 'granted what was asked');
  t.equal(h.notifier.count(), 1);
});

t.test('a new subscription is followed at once by a NOTIFY with the full state, version 0, idle dummy dialog (RFC 6665 §4.2.1.2, RFC 4235 §4.1)', async (t) => {
  const h = setup(t);
  const d = await h.subscribe();
  t.equal(h.notifies.length, 1, 'exactly one NOTIFY');
  const n = h.notifies[0]!;
  t.equal(n.uri, `sip:2001@${PHONE_ADDRESS}:${PHONE_PORT}`, 'Request-URI is the remote target (RFC 3261 §12.2.1.1)');
  t.equal(n.callId, d.callId, 'same Call-ID');
  t.equal(n.from.params.get('tag'), d.toTag, 'our tag in From');
  t.equal(n.to.params.get('tag'), d.fromTag, 'theirs in To');
  t.equal(n.from.uri.user, '1001');
  t.equal(n.headers.get('contact'), '<sip:10.0.0.1:5060>', 'our Contact');
  t.equal(n.headers.get('event'), 'dialog');
  t.equal(n.headers.get('subscription-state'), 'active;expires=3600');
  t.equal(n.headers.get('content-type'), 'application/dialog-info+xml', 'exact Content-Type, no charset');
  t.equal(n.cseq.seq, 1);
  t.equal(dialogVersion(n), 0);
  const body = bodyText(n);
  t.match(body, /state="full"/);
  t.match(body, /entity="sip:1001@example\.com"/);
  t.match(body, /<dialog id="[^"]+">\s*<state>terminated<\/state>/, 'one terminated dialog with an id when idle');
});

t.test('an unknown event package is 489 with Allow-Events (RFC 6665 §4.2.1.1, §8.2.2)', async (t) => {
  const h = setup(t);
  const res = await h.send({ event: 'conference' });
  t.equal(res.status, 489);
  t.equal(res.headers.get('allow-events'), 'dialog, presence, message-summary');
  const noEvent = await h.send({ event: null });
  t.equal(noEvent.status, 489, 'no Event header at all');
  t.equal(h.notifier.count(), 0);
  t.equal(h.notifies.length, 0);
});

t.test('an Accept header without the package type is 406; absent Accept takes the default (RFC 6665 §3.1.1)', async (t) => {
  const h = setup(t);
  const res = await h.send({ accept: 'application/pidf+xml' });
  t.equal(res.status, 406);
  t.equal(h.notifier.count(), 0);
  const ok = await h.subscribe({ accept: 'application/dialog-info+xml, application/rlmi+xml' });
  t.equal(ok.response.status, 200, 'listing the type is fine');
  const none = await h.subscribe({ fromUser: '2002' });
  t.equal(none.response.status, 200, 'no Accept is fine');
});

t.test('Expires between 1 and the minimum is 423 with Min-Expires (RFC 6665 §4.2.1.1)', async (t) => {
  const h = setup(t);
  const res = await h.send({ expires: 30 });
  t.equal(res.status, 423);
  t.equal(res.headers.get('min-expires'), '60');
  t.equal(h.notifier.count(), 0);
});

t.test('Expires above the maximum is lowered, and absent Expires takes the package default (RFC 6665 §3.1.1)', async (t) => {
  const h = setup(t);
  const high = await h.subscribe({ expires: 86400 });
  t.equal(high.response.headers.get('expires'), '3600', 'lowered to the maximum');
  t.equal(h.notifies[0]!.headers.get('subscription-state'), 'active;expires=3600');
  const none = await h.subscribe({ fromUser: '2002', expires: null });
  t.equal(none.response.headers.get('expires'), '3600', 'default');
  t.equal(h.record(high.callId)!.grantedExpires, 3600);
});

t.test('a SUBSCRIBE in an unknown dialog is 481 (RFC 6665 §4.2.1.2, RFC 3261 §12.2.2)', async (t) => {
  const h = setup(t);
  const res = await h.send({ toTag: 'nosuchtag', callId: 'stale@phone' });
  t.equal(res.status, 481);
  t.equal(h.notifies.length, 0);
});

t.test('a SUBSCRIBE in the dialog whose CSeq does not rise is 500 (RFC 3261 §12.2.2)', async (t) => {
  const h = setup(t);
  const d = await h.subscribe({ cseq: 5 });
  const res = await h.send({ ...d.spec, toTag: d.toTag, cseq: 5 });
  t.equal(res.status, 500);
  const lower = await h.send({ ...d.spec, toTag: d.toTag, cseq: 4 });
  t.equal(lower.status, 500);
  t.equal(h.notifies.length, 1, 'no NOTIFY for the rejected refreshes');
  t.equal(h.notifier.count(), 1, 'the subscription stays');
});

t.test('a SUBSCRIBE without a user to watch, or from no user, is 400 (sip-behaviour.md)', async (t) => {
  const h = setup(t);
  const noUser = await h.send({ requestUri: `sip:${DOMAIN}`, user: '' });
  t.equal(noUser.status, 400, 'neither Request-URI nor To has a user');
  const noFrom = await h.send({ fromUser: '' });
  t.equal(noFrom.status, 400, 'From has no user');
  t.equal(h.notifier.count(), 0);
});

t.test('the watched user falls back to To when the Request-URI has none (notifier-contract.md)', async (t) => {
  const h = setup(t);
  const d = await h.subscribe({ requestUri: `sip:${DOMAIN}` });
  t.equal(d.response.status, 200);
  t.equal(h.record()!.resource, '1001');
});

t.test('a domain no account serves is 404 (sip-behaviour.md)', async (t) => {
  const h = setup(t, { accounts: new ListAccountResolver(() => [{ id: 'b'.repeat(32), realm: 'other.example' }], false) });
  const res = await h.send({});
  t.equal(res.status, 404);
  t.equal(h.notifier.count(), 0);
});

t.test('a new subscription without Contact is 400 (RFC 3261 §8.1.1.8)', async (t) => {
  const h = setup(t);
  const res = await h.send({ contact: null });
  t.equal(res.status, 400);
  t.equal(h.notifier.count(), 0);
});

t.test('Expires 0 outside a dialog is a fetch: 200 and one terminated NOTIFY with the state, nothing kept (RFC 6665 §4.4.3)', async (t) => {
  const h = setup(t);
  h.presentity.setManualState(RESOURCE, 'confirmed');
  const d = await h.subscribe({ expires: 0 });
  t.equal(d.response.status, 200);
  t.equal(d.response.headers.get('expires'), '0');
  t.equal(h.notifies.length, 1);
  const n = h.notifies[0]!;
  t.equal(n.headers.get('subscription-state'), 'terminated');
  t.match(bodyText(n), /<state>confirmed<\/state>/, 'the current state');
  t.equal(h.notifier.count(), 0, 'nothing kept');
  t.equal(await h.store.subscriptions.count(), 0, 'nothing stored');
  h.presentity.setManualState(RESOURCE, 'early');
  await h.tick();
  t.equal(h.notifies.length, 1, 'no later NOTIFY');
});

t.test('Expires 0 in the dialog unsubscribes: 200, a final NOTIFY "terminated" with CSeq+1, removal (RFC 6665 §4.2.1.4)', async (t) => {
  const h = setup(t);
  const d = await h.subscribe();
  const res = await h.resubscribe(d, { expires: 0 });
  t.equal(res.status, 200);
  t.equal(res.headers.get('expires'), '0');
  t.equal(h.notifies.length, 2);
  const last = h.notifies[1]!;
  t.equal(last.headers.get('subscription-state'), 'terminated', 'plain terminated for an unsubscribe');
  t.equal(last.cseq.seq, 2, 'the final NOTIFY takes the next CSeq');
  t.equal(dialogVersion(last), 1);
  t.equal(h.notifier.count(), 0);
  t.equal(await h.store.subscriptions.count(), 0);
  t.same(h.removed.map((r) => r.reason), ['unsubscribed']);
  const again = await h.resubscribe(d);
  t.equal(again.status, 481, 'the dialog is gone');
});

t.test('an unrefreshed subscription ends with a NOTIFY "terminated;reason=timeout", then removal (RFC 6665 §4.2.2)', async (t) => {
  const h = setup(t);
  await h.subscribe({ expires: 120 });
  await h.tick(119_000);
  t.equal(h.notifier.count(), 1, 'still there a second before');
  await h.tick(1_000);
  t.equal(h.notifies.length, 2);
  t.equal(h.notifies[1]!.headers.get('subscription-state'), 'terminated;reason=timeout');
  t.equal(h.notifier.count(), 0);
  t.equal(await h.store.subscriptions.count(), 0);
  t.same(h.removed.map((r) => r.reason), ['expired']);
});

t.test('a refresh gets 200 and a full-state NOTIFY, and moves the expiry (RFC 6665 §4.2.1.2)', async (t) => {
  const h = setup(t);
  const d = await h.subscribe({ expires: 120 });
  await h.tick(100_000);
  const res = await h.resubscribe(d, { expires: 120 });
  t.equal(res.status, 200);
  t.equal(res.headers.get('expires'), '120');
  t.equal(h.notifies.length, 2);
  t.equal(h.notifies[1]!.headers.get('subscription-state'), 'active;expires=120');
  t.equal(h.notifies[1]!.cseq.seq, 2);
  t.equal(dialogVersion(h.notifies[1]!), 1);
  await h.tick(100_000);
  t.equal(h.notifier.count(), 1, 'the old deadline did not end it');
  await h.tick(20_000);
  t.equal(h.notifier.count(), 0, 'the new one did');
});

t.test('a re-subscription from the same watcher with a new Call-ID replaces the old one silently (sip-behaviour.md)', async (t) => {
  const h = setup(t);
  const first = await h.subscribe();
  const second = await h.subscribe();
  t.not(first.callId, second.callId);
  t.equal(h.notifier.count(), 1, 'one subscription');
  t.equal(h.record()!.callId, second.callId, 'the new one');
  t.equal(h.notifies.length, 2, 'no NOTIFY to the old dialog');
  t.same(h.removed.map((r) => r.reason), ['replaced']);
  h.presentity.setManualState(RESOURCE, 'early');
  await h.tick();
  t.equal(h.notifies.length, 3, 'one NOTIFY stream');
  t.equal(h.notifies[2]!.callId, second.callId);
  const other = await h.subscribe({ fromUser: '2002' });
  t.equal(other.response.status, 200);
  t.equal(h.notifier.count(), 2, 'another watcher is another subscription');
  const presence = await h.subscribe({ event: 'presence' });
  t.equal(presence.response.status, 200);
  t.equal(h.notifier.count(), 3, 'another event is another subscription');
});

t.test('the Event id parameter is echoed in every NOTIFY (RFC 6665 §8.2.1)', async (t) => {
  const h = setup(t);
  const d = await h.subscribe({ event: 'dialog;id=blf7' });
  h.presentity.setManualState(RESOURCE, 'confirmed');
  await h.tick();
  await h.resubscribe(d, { expires: 0 });
  t.equal(h.notifies.length, 3);
  for (const n of h.notifies) t.equal(n.headers.get('event'), 'dialog;id=blf7');
  t.equal(h.notifies[2]!.headers.get('subscription-state'), 'terminated');
});

t.test('a refresh naming another event id is not this subscription: 481 (RFC 6665 §4.2.1.2)', async (t) => {
  const h = setup(t);
  const d = await h.subscribe({ event: 'dialog;id=1' });
  const res = await h.resubscribe(d, { event: 'dialog;id=2' });
  t.equal(res.status, 481);
});

t.test('a state change sends a NOTIFY with version+1 and CSeq+1 to every watcher of that resource and event (RFC 6665 §4.2.2, RFC 4235 §4.1)', async (t) => {
  const h = setup(t);
  await h.subscribe();
  await h.subscribe({ fromUser: '2002' });
  await h.subscribe({ user: '1002' });
  t.equal(h.notifies.length, 3);
  h.presentity.setManualState(RESOURCE, 'early');
  await h.tick();
  const after = h.notifies.slice(3);
  t.equal(after.length, 2, 'both watchers of 1001, not the watcher of 1002');
  for (const n of after) {
    t.equal(n.cseq.seq, 2);
    t.equal(dialogVersion(n), 1);
    t.match(bodyText(n), /<state>early<\/state>/);
  }
  h.presentity.setManualState(RESOURCE, 'confirmed');
  await h.tick();
  t.same(h.notifies.slice(5).map((n) => [n.cseq.seq, dialogVersion(n)]), [[3, 2], [3, 2]]);
  t.equal(h.record(h.notifies[5]!.callId)!.version, 3, 'the next version is stored');
});

t.test('a forced change (reset) sends every watcher a full-state NOTIFY even when the state is the same (api-contract.md reset)', async (t) => {
  const h = setup(t);
  // A change announced on the feed as the presentity announces one, with nothing changed behind it.
  const announce = (events: string[]): void => h.feed.emit({ kind: 'resource-changed', resource: RESOURCE, events, force: true });
  await h.subscribe();
  t.equal(h.notifies.length, 1);
  announce(['dialog']);
  await h.tick();
  t.equal(h.notifies.length, 2, 'forced: a full-state NOTIFY');
  announce(['presence']);
  await h.tick();
  t.equal(h.notifies.length, 2, 'a change to another package does not reach a dialog watcher');
});

t.test('changes while a NOTIFY is in flight coalesce into exactly one more NOTIFY with the newest state (RFC 6665 §4.2.2)', async (t) => {
  const h = setup(t);
  await h.subscribe();
  // The phone holds back its answer to the next NOTIFY.
  h.answer = () => 'ignore';
  h.presentity.setManualState(RESOURCE, 'early');
  await h.tick();
  t.equal(h.notifies.length, 2, 'the first change went out');
  t.equal(h.notifier.inFlight, 1);
  h.presentity.setManualState(RESOURCE, 'confirmed');
  h.presentity.setManualState(RESOURCE, 'early');
  h.presentity.setManualState(RESOURCE, 'terminated');
  await h.tick(1_000);
  t.equal(h.notifies.length, 2, 'nothing more while one is in flight');
  h.answer = () => 200;
  await h.reply(h.notifies[1]!, 200);
  t.equal(h.notifies.length, 3, 'exactly one more NOTIFY');
  const last = h.notifies[2]!;
  t.match(bodyText(last), /<state>terminated<\/state>/, 'carrying the newest state');
  t.notMatch(bodyText(last), /early|confirmed/);
  t.equal(last.cseq.seq, 3);
  t.equal(dialogVersion(last), 2);
  await h.tick(60_000);
  t.equal(h.notifies.length, 3, 'and nothing after it');
  t.equal(h.notifier.inFlight, 0);
});

t.test('a fan-out keeps at most the send window of NOTIFYs in flight and delivers the rest in order as answers come (RFC 3261 §17.1.2.2 Timer E)', async (t) => {
  const h = setup(t, { notifyWindow: 2 });
  const watchers = [];
  for (const user of ['3001', '3002', '3003', '3004', '3005']) watchers.push(await h.subscribe({ fromUser: user }));
  t.equal(h.notifies.length, 5, 'initial NOTIFYs, each answered at once');
  h.answer = () => 'ignore';
  h.presentity.setManualState(RESOURCE, 'confirmed');
  await h.tick();
  t.equal(h.notifies.length, 7, 'two NOTIFYs leave, three wait for the window');
  t.equal(h.notifier.inFlight, 3, 'two NOTIFYs out, and the change waiting whole for the other three');
  h.presentity.setManualState(RESOURCE, 'early');
  await h.tick();
  t.equal(h.notifies.length, 7, 'a newer change does not overtake the window');
  h.answer = () => 200;
  await h.reply(h.notifies[5]!, 200);
  await h.reply(h.notifies[6]!, 200);
  await h.tick();
  const waited = h.notifies.slice(7);
  t.ok(waited.length >= 3, `the waiting watchers are served once answers free the window (${waited.length})`);
  for (const n of waited.slice(0, 3)) t.match(bodyText(n), /<state>early<\/state>/, 'a waiting watcher gets the newest state, coalesced');
  await h.tick(60_000);
  t.equal(h.notifier.inFlight, 0, 'everything settles');
  const perWatcher = new Map<string, number[]>();
  for (const n of h.notifies) perWatcher.set(n.callId, [...(perWatcher.get(n.callId) ?? []), n.cseq.seq]);
  for (const [, seqs] of perWatcher) t.same(seqs, seqs.map((_, i) => i + 1), 'CSeq rises by one per watcher');
});

t.test('a change waiting for the window reaches watchers as they are when its turn comes: an unsubscribed one gets only its final NOTIFY, a new one is included (RFC 6665 §4.2.2)', async (t) => {
  const h = setup(t, { notifyWindow: 1 });
  const a = await h.subscribe({ fromUser: '3001' });
  const b = await h.subscribe({ fromUser: '3002' });
  const c = await h.subscribe({ fromUser: '3003' });
  h.answer = () => 'ignore';
  h.presentity.setManualState(RESOURCE, 'confirmed');
  await h.tick();
  t.equal(h.notifies.length, 4, 'the window holds one NOTIFY; the change waits for the other two');
  h.answer = () => 200;
  await h.resubscribe(b, { expires: 0 });
  const d = await h.subscribe({ fromUser: '3004' });
  await h.reply(h.notifies[3]!, 200);
  await h.tick(60_000);
  const after = (callId: string): string[] =>
    h.notifies.filter((n) => n.callId === callId).slice(1).map((n) => `${n.headers.get('subscription-state')!.split(';')[0]} ${/<state>(\w+)</.exec(bodyText(n))?.[1] ?? 'none'}`);
  t.same(after(a.callId), ['active confirmed'], 'the first watcher: one NOTIFY');
  t.same(after(b.callId), ['terminated confirmed'], 'the unsubscribed watcher: its final NOTIFY only, with the newest state');
  t.same(after(c.callId), ['active confirmed'], 'the third watcher: reached when its turn came');
  t.ok(after(d.callId).every((s) => s === 'active confirmed'), 'the watcher that arrived meanwhile sees the new state');
  t.equal(h.notifier.inFlight, 0, 'nothing left waiting');
});

t.test('a burst of changes to many widely watched resources reaches every watcher once per change, within the window (RFC 3261 §17.1.2.2)', async (t) => {
  const h = setup(t, { notifyWindow: 3 });
  const resources = ['1001', '1002', '1003'];
  const dialogs = [];
  for (const user of resources) for (let w = 0; w < 4; w++) dialogs.push(await h.subscribe({ user, fromUser: `4${user}${w}` }));
  const initial = h.notifies.length;
  let out = 0;
  let most = 0;
  h.answer = () => 'ignore';
  for (const user of resources) h.presentity.setManualState(`${user}@${DOMAIN}`, 'early');
  await h.tick();
  // Answer NOTIFYs one at a time, counting how many were ever out at once.
  for (let guard = 0; guard < 100; guard++) {
    const pending = h.notifies.slice(initial + out);
    most = Math.max(most, pending.length);
    if (pending.length === 0) break;
    await h.reply(pending[0]!, 200);
    out++;
    await h.tick();
  }
  t.equal(h.notifies.length - initial, 12, 'one NOTIFY per watcher');
  t.ok(most <= 3, `never more than the window unanswered (${most})`);
  t.same(new Set(h.notifies.slice(initial).map((n) => n.callId)).size, 12, 'every watcher once');
});

t.test('an unanswered NOTIFY gives its window slot back after a second, so a dead watcher does not stall live ones (RFC 6665 §4.2.2)', async (t) => {
  const h = setup(t, { notifyWindow: 1 });
  await h.subscribe({ fromUser: '3001' });
  await h.subscribe({ fromUser: '3002' });
  t.equal(h.notifies.length, 2);
  h.answer = () => 'ignore';
  h.presentity.setManualState(RESOURCE, 'confirmed');
  await h.tick();
  t.equal(h.notifies.length, 3, 'one NOTIFY out, the other waits for the only slot');
  await h.tick(999);
  t.equal(h.notifies.length, 3, 'still waiting just before the slot is released');
  await h.tick(1);
  t.equal(h.notifies.length, 4, 'the second watcher is served once the first NOTIFY has gone unanswered for 1 s');
});

t.test('presence and message-summary watchers get their own package bodies through the same notifier (RFC 6665 §7)', async (t) => {
  const h = setup(t);
  await h.subscribe({ event: 'presence' });
  await h.subscribe({ event: 'message-summary', fromUser: '2002' });
  t.equal(h.notifies[0]!.headers.get('content-type'), 'application/pidf+xml');
  t.equal(h.notifies[1]!.headers.get('content-type'), 'application/simple-message-summary');
  h.presentity.setMailbox(RESOURCE, { newMessages: 2, oldMessages: 1, urgentNew: 0, urgentOld: 0 });
  await h.tick();
  t.equal(h.notifies.length, 3, 'only the message-summary watcher');
  t.match(bodyText(h.notifies[2]!), /Messages-Waiting: yes/);
  h.presentity.setManualState(RESOURCE, 'confirmed');
  await h.tick();
  t.equal(h.notifies.length, 4, 'dialog state reaches the presence watcher');
  t.equal(h.notifies[3]!.headers.get('event'), 'presence');
});

t.test('listWhere lists every domain an account serves; watchedDomains finds a user part in each (issue 17)', async (t) => {
  // The default account: every domain no other account claims.
  const h = setup(t, { accounts: new ListAccountResolver(() => [{ id: 'a'.repeat(32), realm: DOMAIN }], true) });
  await h.subscribe();
  await h.subscribe({ domain: 'Other.Example' });
  await h.subscribe({ domain: 'third.example', event: 'presence' });
  t.equal(h.notifier.listWhere((d) => d === DOMAIN || d === 'other.example').length, 2, 'what the predicate serves');
  t.same(h.notifier.listWhere((d) => d === 'other.example').map((r) => r.domain), ['other.example'], 'domains are offered lower-cased');
  t.equal(h.notifier.listWhere(() => true, 'presence').length, 1, 'optionally of one event package');
  t.same(h.notifier.watchedDomains('1001').sort(), [DOMAIN, 'other.example', 'third.example'].sort());
  t.same(h.notifier.watchedDomains('1003'), []);
});

t.test('list, watchersOf and count describe the live subscriptions (api-contract.md, Presence)', async (t) => {
  const h = setup(t);
  await h.subscribe();
  await h.subscribe({ event: 'presence' });
  await h.subscribe({ user: '1002' });
  t.equal(h.notifier.count(), 3);
  t.same(h.notifier.countByEvent(), { dialog: 2, presence: 1 }, 'per event package, for metrics');
  t.equal(h.notifier.list(DOMAIN).length, 3);
  t.equal(h.notifier.list('EXAMPLE.com', 'presence').length, 1, 'domain case does not matter');
  t.equal(h.notifier.list('other.example').length, 0);
  const watchers = h.notifier.watchersOf(RESOURCE);
  t.same(watchers.map((w) => w.event).sort(), ['dialog', 'presence']);
  const rec = watchers.find((w) => w.event === 'dialog')!;
  t.equal(rec.watcherUser, '2001');
  t.equal(rec.watcherDomain, DOMAIN);
  t.equal(rec.node, 'piston@test');
  t.equal(rec.accountId, 'a'.repeat(32));
  t.equal(rec.lastNotify!.cseq, 1);
  t.equal(rec.lastNotify!.reply, 200);
  t.match(rec.lastNotify!.body, /<dialog-info/);
  watchers[0]!.strikes = 99;
  t.equal(h.notifier.watchersOf(RESOURCE)[0]!.strikes, 0, 'copies, not the live records');
});

t.test('liveRecords gives every live subscription as the live record itself, now, for the admin list (issue 18)', async (t) => {
  const h = setup(t);
  const first = await h.subscribe();
  await h.subscribe({ user: '1002', event: 'presence' });
  const live = h.notifier.liveRecords();
  t.same(live.map((r) => `${r.resource}/${r.event}`).sort(), ['1001/dialog', '1002/presence']);
  const rec = live.find((r) => r.callId === first.callId)!;
  t.match(rec.lastNotify!.body, /<dialog-info/, "the last NOTIFY's body, rendered when read");
  const cseq = rec.localCseq;
  await h.resubscribe(first);
  t.equal(rec.localCseq, cseq + 1, 'the live record itself: the refresh NOTIFY moved it on');
  await h.subscribe({ user: '1003' });
  t.equal(live.length, 2, 'a snapshot: a later subscription does not join it');
});

t.test('from a trusted peer the NOTIFY follows the route set: Route headers and the first Route as destination (RFC 3261 §12.1.1, §12.2.1.1)', async (t) => {
  // This test changed (issue 19): the route set is honoured only for a trusted peer; notify-route.test.ts has the rest.
  const h = setup(t, { policy: { authenticate: () => ({ ok: true, identity: { kind: 'peer', id: 'pbx', accountId: 'a'.repeat(32) } }) } });
  const proxy = h.net.endpoint('10.0.0.9', 5060);
  const got: string[] = [];
  proxy.onMessage((msg) => {
    if (msg.isRequest()) got.push(msg.headers.getAll('route').join(' | ') + ' -> ' + msg.uri);
  });
  await h.subscribe({ recordRoute: ['<sip:10.0.0.9;lr>', '<sip:edge.example.com;lr>'] });
  t.same(got, [`<sip:10.0.0.9;lr> | <sip:edge.example.com;lr> -> sip:2001@${PHONE_ADDRESS}:${PHONE_PORT}`]);
  t.equal(h.notifies.length, 0, 'not sent to the phone directly');
});
