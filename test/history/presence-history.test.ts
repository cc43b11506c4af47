import t from 'tap';
import { historyHarness, KEY } from './helpers/history-harness.js';
import { HistoryRings } from '../../src/history/history-rings.js';
import { PresenceHistory, type HistoryEntry } from '../../src/history/presence-history.js';
import { silentLogger } from '../../src/lib/logger.js';
import { MemoryHistoryRepository } from '../../src/store/memory/memory-history.js';
import { buildPublish } from '../support/sip-builders.js';
import { DOMAIN, NotifierHarness } from '../subscriptions/helpers/notifier-harness.js';
import { dialogInfo } from '../presentity/helpers/harness.js';

// The per-resource history (issue 23, docs/operator-api.md): every kind of event is recorded from the feed, the
// rarer kinds reach the store in batches, NOTIFYs never do.

const DIALOG = 'application/dialog-info+xml';

function setup(t: { teardown(fn: () => unknown): void }, ringSize?: number) {
  const { sip, repository, history, all } = historyHarness(t, ringSize);
  const publish = (body: string | undefined, more: Record<string, unknown> = {}) =>
    sip.publish(
      buildPublish({
        target: KEY,
        event: 'dialog',
        ...(body === undefined ? {} : { contentType: DIALOG, body }),
        headers: { 'User-Agent': 'TestPBX/1.0' },
        ...more,
      }),
    );
  return { sip, repository, history, all, publish };
}

t.test('publish: new, refresh, modify, remove each recorded with the publisher (source, transport, From, User-Agent, Call-ID)', async (t) => {
  const { all, publish } = setup(t);
  const created = await publish(dialogInfo([{ id: 'd1', state: 'early' }]), { expires: 60 });
  const etag1 = created.last.headers.get('sip-etag')!;
  const refreshed = await publish(undefined, { ifMatch: etag1, expires: 60 });
  const etag2 = refreshed.last.headers.get('sip-etag')!;
  const modified = await publish(dialogInfo([{ id: 'd1', state: 'confirmed' }]), { ifMatch: etag2, expires: 60 });
  const etag3 = modified.last.headers.get('sip-etag')!;
  await publish(undefined, { ifMatch: etag3, expires: 0 });
  const pubs = all('publish').reverse();
  t.strictSame(
    pubs.map((e) => [e.action, e.etag, e.state]),
    [
      ['new', etag1, 'early'],
      ['refresh', etag2, 'early'],
      ['modify', etag3, 'confirmed'],
      ['remove', etag3, 'confirmed'],
    ],
  );
  t.match(pubs[0], {
    kind: 'publish',
    resource: KEY,
    event: 'dialog',
    expires: 60,
    publisher: { source: '192.0.2.10:5060', transport: 'udp', from: `sip:${KEY}`, user_agent: 'TestPBX/1.0' },
  });
  t.type(pubs[0]!.publisher, Object);
  t.equal(typeof (pubs[0]!.publisher as { call_id: unknown }).call_id, 'string');
  t.equal(pubs[3]!.expires, 0, 'a removal has expires 0');
});

t.test('publish-expired: a publication not refreshed in time (RFC 3903 §6) is recorded, and the state change it causes', async (t) => {
  const { sip, all, publish } = setup(t);
  const created = await publish(dialogInfo([{ id: 'd1', state: 'confirmed' }]), { expires: 60 });
  const etag = created.last.headers.get('sip-etag')!;
  await sip.tick(61_000);
  t.match(all('publish-expired'), [{ kind: 'publish-expired', event: 'dialog', etag }]);
  const states = all('state').reverse().filter((e) => e.event === 'dialog');
  t.strictSame(states.map((e) => [e.from, e.to]), [['terminated', 'confirmed'], ['confirmed', 'terminated']]);
});

t.test('manual: set and reset are recorded with who (from the feed event) before the state change they cause', async (t) => {
  const { sip, all } = setup(t);
  const by = { accountId: 'a'.repeat(32), userId: null, method: 'api_key', requestId: 'req-1' };
  sip.feed.emit({ kind: 'manual', resource: KEY, action: 'set', state: 'early', by });
  sip.presentity.setManualState(KEY, 'early');
  sip.feed.emit({ kind: 'manual', resource: KEY, action: 'reset', state: null, by: { ...by, requestId: 'req-2' } });
  sip.presentity.reset(KEY);
  await sip.tick();
  const entries = all().reverse();
  const manual = entries.filter((e) => e.kind === 'manual');
  t.strictSame(
    manual.map((e) => [e.action, e.state, (e.by as { request_id: string }).request_id, (e.by as { method: string }).method]),
    [
      ['set', 'early', 'req-1', 'api_key'],
      ['reset', null, 'req-2', 'api_key'],
    ],
  );
  const firstState = entries.findIndex((e) => e.kind === 'state' && e.event === 'dialog');
  t.ok(entries.findIndex((e) => e.kind === 'manual') < firstState, 'the command comes before the state change');
  t.match(entries.filter((e) => e.kind === 'state' && e.event === 'dialog'), [
    { from: 'terminated', to: 'early', force: false },
    { from: 'early', to: 'terminated', force: true },
  ]);
});

t.test('nothing is lost in a burst: 70,000 events emitted in one turn (more than the old 65,536-event queue) are all recorded at once', async (t) => {
  const { sip, history, repository } = setup(t);
  const by = { accountId: 'a'.repeat(32), userId: null, method: 'api_key', requestId: 'burst' };
  const N = 70_000;
  // Spread over resources so the per-resource rings (200) do not bound it; the global bound (200,000) does not either.
  for (let i = 0; i < N; i++) sip.feed.emit({ kind: 'manual', resource: `r${i % 1000}@${DOMAIN}`, action: 'set', state: 'early', by });
  t.equal(history.held, N, 'every event is in memory in the same turn, before any later turn runs');
  history.flush();
  t.equal(repository.query({ resources: [`r0@${DOMAIN}`], beforeSeq: Number.POSITIVE_INFINITY, limit: 1000 }).length, N / 1000, 'and every stored kind reaches the store');
});

t.test('subscribe, refresh, NOTIFY with CSeq and version, the answer, and removal with its reason (RFC 6665 §4.2)', async (t) => {
  const { sip, all } = setup(t);
  const dialog = await sip.subscribe({ user: '1001', fromUser: '2002', expires: 600 });
  await sip.resubscribe(dialog, { expires: 600 });
  await sip.resubscribe(dialog, { expires: 0 });
  await sip.tick();
  const entries = all().reverse();
  const subs = entries.filter((e) => e.kind === 'subscribe');
  t.match(subs, [
    { action: 'new', watcher: `2002@${DOMAIN}`, call_id: dialog.callId, transport: 'udp', source: '192.168.1.20:5062', expires: 600 },
    { action: 'refresh', watcher: `2002@${DOMAIN}` },
  ]);
  const notifies = entries.filter((e) => e.kind === 'notify');
  t.ok(notifies.length >= 3, 'a NOTIFY for the new subscription, the refresh and the unsubscribe');
  t.strictSame(
    notifies.map((e) => e.cseq),
    sip.notifies.map((n) => n.cseq.seq),
    'the CSeqs as sent',
  );
  t.strictSame(notifies.map((e) => e.version), notifies.map((_, i) => i), 'RFC 4235 versions 0, 1, 2');
  t.equal(notifies.at(-1)!.final, true, 'the last one carried Subscription-State: terminated');
  const results = entries.filter((e) => e.kind === 'notify-result');
  t.strictSame(results.map((e) => [e.cseq, e.status]), notifies.map((e) => [e.cseq, 200]), 'each answer, 200');
  t.match(entries.filter((e) => e.kind === 'unsubscribe'), [{ watcher: `2002@${DOMAIN}`, call_id: dialog.callId, reason: 'unsubscribed' }]);
});

t.test('a NOTIFY answered with an error is recorded with its status, and the removal as rejected (RFC 6665 §4.2.2)', async (t) => {
  const { sip, all } = setup(t);
  sip.answer = () => 500;
  await sip.subscribe({ user: '1001', fromUser: '2003', expires: 600 });
  await sip.tick();
  const notify = all('notify')[0]!;
  t.match(all('notify-result'), [{ cseq: notify.cseq, failure: 500, watcher: `2003@${DOMAIN}` }]);
  t.match(all('unsubscribe'), [{ reason: 'rejected', watcher: `2003@${DOMAIN}` }]);
});

t.test('stored: the rarer kinds reach the store in one batch a second; notify, notify-result and refreshes never do', async (t) => {
  const { sip, repository, publish } = setup(t);
  const dialog = await sip.subscribe({ user: '1001', fromUser: '2002', expires: 600 });
  await sip.resubscribe(dialog, { expires: 600 });
  const created = await publish(dialogInfo([{ id: 'd1', state: 'early' }]), { expires: 60 });
  await publish(undefined, { ifMatch: created.last.headers.get('sip-etag')!, expires: 60 });
  t.equal(repository.maxSeq(), 0, 'nothing written before the batch is due');
  await sip.tick(1000);
  const stored = repository.query({ resources: [KEY], beforeSeq: Infinity, limit: 1000 });
  const kinds = new Set(stored.map((e) => `${e.kind}${e.action ? `:${e.action}` : ''}`));
  t.ok(kinds.has('subscribe:new') && kinds.has('publish:new') && kinds.has('state'), [...kinds].join(' '));
  for (const absent of ['notify', 'notify-result', 'subscribe:refresh', 'publish:refresh']) t.notOk(kinds.has(absent), `${absent} is not stored`);
});

t.test('the history reads the store for what the ring no longer holds, newest first, and pages with beforeSeq', async (t) => {
  const { sip, history, publish } = setup(t, 5);
  const created = await publish(dialogInfo([{ id: 'd1', state: 'early' }]), { expires: 600 });
  let etag = created.last.headers.get('sip-etag')!;
  for (let i = 0; i < 6; i++) {
    const r = await publish(dialogInfo([{ id: 'd1', state: i % 2 ? 'early' : 'confirmed' }]), { ifMatch: etag, expires: 600 });
    etag = r.last.headers.get('sip-etag')!;
  }
  await sip.tick(1000);
  const page1 = history.query([KEY], { limit: 4 });
  t.equal(page1.entries.length, 4);
  const seqs = page1.entries.map((e) => e.seq);
  t.strictSame(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
  const everything: HistoryEntry[] = [...page1.entries];
  let next = page1.next;
  while (next !== undefined) {
    const page = history.query([KEY], { limit: 4, beforeSeq: next });
    everything.push(...page.entries);
    next = page.next;
  }
  const publishes = everything.filter((e) => e.kind === 'publish');
  t.equal(publishes.length, 7, 'every publication, though the ring holds 5 entries');
  t.equal(new Set(everything.map((e) => e.seq)).size, everything.length, 'no entry twice');
});

t.test('rings: about 200 per resource, and a bound on all of them together (oldest first)', async (t) => {
  const rings = new HistoryRings(3, 5);
  let seq = 0;
  const add = (resource: string) => rings.add({ seq: ++seq, at: seq, kind: 'notify', resource });
  for (let i = 0; i < 4; i++) add('a');
  t.strictSame(rings.of('a').map((e) => e.seq), [2, 3, 4], 'per resource: the newest 3');
  for (let i = 0; i < 3; i++) add('b');
  t.equal(rings.size, 5, 'all together: 5');
  t.strictSame(rings.of('a').map((e) => e.seq), [3, 4], "the server's oldest went first");
  t.strictSame(rings.of('b').map((e) => e.seq), [5, 6, 7]);
});

t.test('a restart continues the sequence from the store', async (t) => {
  const repository = new MemoryHistoryRepository();
  repository.append([{ seq: 41, at: 1, kind: 'manual', resource: KEY }]);
  const sip = new NotifierHarness();
  const history = new PresenceHistory({ feed: sip.feed, clock: sip.clock, logger: silentLogger, repository, stateOf: (r, e) => sip.presentity.state(r, e) });
  history.start();
  t.teardown(() => {
    history.stop();
    sip.dispose();
  });
  sip.presentity.setManualState(KEY, 'confirmed');
  await sip.tick();
  const entries = history.query([KEY], { limit: 10 }).entries;
  t.ok(entries[0]!.seq > 41, 'new entries continue after the stored ones');
  t.equal(entries.at(-1)!.seq, 41, 'the stored entry is part of the history');
});
