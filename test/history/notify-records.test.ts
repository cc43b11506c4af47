import t from 'tap';
import { historyHarness as setup, KEY } from './helpers/history-harness.js';
import type { HistoryEntry } from '../../src/history/presence-history.js';
import { buildPublish } from '../support/sip-builders.js';
import { DOMAIN } from '../subscriptions/helpers/notifier-harness.js';
import { dialogInfo } from '../presentity/helpers/harness.js';

// NOTIFYs and their answers in the history (issue 23, docs/operator-api.md) now that they are kept as compact
// records: each answer is tied to its NOTIFY, the explanation's last NOTIFY follows them, and paging with beforeSeq
// walks the ring's compact entries and the stored kinds alike.


t.test('an answer is tied to its NOTIFY: same watcher, Call-ID and CSeq, and rtt_ms is the time between them (RFC 6665 §4.2.2)', async (t) => {
  const { sip, history, all } = setup(t);
  sip.answer = () => 'ignore';
  await sip.subscribe({ user: '1001', fromUser: '2002', expires: 600 });
  const rec = sip.record()!;
  const notify = sip.notifies[0]!;
  const inFlight = history.lastNotify(rec.id)!;
  t.match(inFlight, { cseq: notify.cseq.seq, final: false, answer: null, rttMs: null }, 'in flight: no answer yet');
  await sip.tick(250);
  await sip.reply(notify, 200);
  const [sent] = all('notify');
  const [result] = all('notify-result');
  t.ok(sent && result, 'both entries');
  for (const field of ['resource', 'event', 'watcher', 'call_id', 'cseq'] as const) t.equal(result![field], sent![field], field);
  t.equal(result!.status, 200);
  t.equal(result!.rtt_ms, 250, 'answered 250 ms after it left');
  t.ok(result!.seq > sent!.seq, 'the answer comes after its NOTIFY');
  t.strictSame(history.lastNotify(rec.id), { cseq: notify.cseq.seq, at: sent!.at, final: false, answer: { status: 200 }, rttMs: 250 });
});

t.test('a NOTIFY not answered is recorded as failure timeout after Timer F (RFC 3261 §17.1.2.2)', async (t) => {
  const { sip, all } = setup(t);
  sip.answer = () => 'ignore';
  await sip.subscribe({ user: '1001', fromUser: '2004', expires: 600 });
  await sip.tick(33_000);
  const [sent] = all('notify');
  t.match(all('notify-result'), [{ cseq: sent!.cseq, failure: 'timeout', watcher: `2004@${DOMAIN}` }]);
});

t.test('the final NOTIFY of an ended subscription leaves no trace behind once answered (RFC 6665 §4.2.1.4)', async (t) => {
  const { sip, history, all } = setup(t);
  const dialog = await sip.subscribe({ user: '1001', fromUser: '2002', expires: 600 });
  const id = sip.record()!.id;
  t.ok(history.lastNotify(id), 'a live subscription has its last NOTIFY');
  await sip.resubscribe(dialog, { expires: 0 });
  await sip.tick();
  const final = all('notify')[0]!;
  t.equal(final.final, true, 'the last NOTIFY was final');
  t.match(all('notify-result')[0], { cseq: final.cseq, status: 200, rtt_ms: 0 }, 'its answer has a round trip');
  t.equal(history.lastNotify(id), undefined, 'nothing kept for a subscription that ended');
});

t.test('paging with beforeSeq walks NOTIFYs, answers and stored kinds, newest first, each entry once', async (t) => {
  // A ring of 7: the older publications and state changes come from the store, the NOTIFYs only from the ring.
  const { sip, history, all } = setup(t, 7);
  await sip.subscribe({ user: '1001', fromUser: '2002', expires: 600 });
  await sip.subscribe({ user: '1001', fromUser: '2003', expires: 600 });
  let etag: string | undefined;
  for (let i = 0; i < 5; i++) {
    const r = await sip.publish(
      buildPublish({
        target: KEY,
        event: 'dialog',
        contentType: 'application/dialog-info+xml',
        body: dialogInfo([{ id: 'd1', state: i % 2 ? 'terminated' : 'confirmed' }]),
        expires: 600,
        ...(etag ? { ifMatch: etag } : {}),
      }),
    );
    etag = r.last.headers.get('sip-etag')!;
  }
  await sip.tick(1000);
  const everything = all();
  const kinds = new Set(everything.map((e) => e.kind));
  for (const k of ['notify', 'notify-result', 'publish', 'state', 'subscribe']) t.ok(kinds.has(k), `has ${k}`);
  for (const limit of [1, 2, 3, 5]) {
    const walked: HistoryEntry[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = history.query([KEY], { limit, ...(before === undefined ? {} : { beforeSeq: before }) });
      t.ok(page.entries.length <= limit);
      walked.push(...page.entries);
      if (page.next === undefined) break;
      t.equal(page.next, page.entries.at(-1)!.seq, 'next is the last seq of the page');
      before = page.next;
    }
    t.strictSame(walked.map((e) => e.seq), everything.map((e) => e.seq), `limit ${limit}: the pages add up to the whole history`);
    t.strictSame(walked, everything, `limit ${limit}: the same entries`);
  }
  const seqs = everything.map((e) => e.seq);
  t.strictSame(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
  t.equal(new Set(seqs).size, seqs.length, 'no entry twice');
  // The ring holds the newest 7: each NOTIFY in it is followed, later, by its answer.
  const ring = everything.filter((e) => e.kind === 'notify' || e.kind === 'notify-result').reverse();
  for (const n of ring.filter((e) => e.kind === 'notify')) {
    const answer = ring.find((e) => e.kind === 'notify-result' && e.call_id === n.call_id && e.cseq === n.cseq);
    if (answer) t.ok(answer.seq > n.seq, `the answer to CSeq ${String(n.cseq)} follows it`);
  }
  t.ok(everything.filter((e) => e.kind === 'notify' || e.kind === 'notify-result').length <= 7, 'NOTIFYs come only from the ring of 7');
});
