import t from 'tap';
import { answerCode, answerOf, HistoryRings, NotifySource, type HistoryEntry } from '../../src/history/history-rings.js';

// The rings' compact slots (issue 23, history cost): NOTIFYs and answers kept as numbers with their subscription's
// shared strings, one circular set of slots for the global bound. What they show must be what a ring of entry objects
// showed: the last `perResource` entries of each resource among the server's last `total` (docs/operator-api.md).

/** Small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const source = (resource: string, n: number): NotifySource => new NotifySource(resource, 'dialog', `w${n}`, 'example.com', `call-${n}`);

t.test('ring wrap: over many turns of the slots, each resource holds its newest entries among the server\'s last `total` (the bounds of a ring of objects)', async (t) => {
  for (const [perResource, total, resources, arrivals, seed] of [
    [3, 5, 2, 200, 1],
    [4, 64, 10, 5_000, 2],
    [200, 1_500, 30, 20_000, 3],
    [10, 2_500, 7, 12_000, 4],
  ] as const) {
    const rings = new HistoryRings(perResource, total);
    const random = rng(seed);
    const names = Array.from({ length: resources }, (_, i) => `r${i}@example.com`);
    const sources = names.map((r, i) => source(r, i));
    const log: { seq: number; resource: string; kind: string }[] = [];
    for (let seq = 1; seq <= arrivals; seq++) {
      // Skewed: a few resources take most events, so some rings empty out under the global bound and come back.
      const i = Math.floor(random() ** 3 * resources);
      const resource = names[i]!;
      const pick = random();
      if (pick < 0.4) rings.addNotify(seq, seq * 10, sources[i]!, seq, seq, false);
      else if (pick < 0.8) rings.addResult(seq, seq * 10, sources[i]!, seq - 1, answerCode({ ok: true, status: 200 }), 3);
      else rings.add({ seq, at: seq * 10, kind: 'state', resource, event: 'dialog', from: 'terminated', to: 'early', force: false });
      log.push({ seq, resource, kind: pick < 0.4 ? 'notify' : pick < 0.8 ? 'notify-result' : 'state' });
    }
    // The model: the server's last `total` arrivals, of them each resource's last `perResource`.
    const window = log.slice(-total);
    let held = 0;
    for (const resource of names) {
      const expected = window.filter((e) => e.resource === resource).slice(-perResource);
      const got = rings.of(resource);
      held += expected.length;
      t.strictSame(got.map((e) => [e.seq, e.kind, e.resource]), expected.map((e) => [e.seq, e.kind, e.resource]), `${perResource}/${total}: ${resource}`);
      t.equal(rings.oldestSeq(resource), expected[0]?.seq ?? Number.POSITIVE_INFINITY);
    }
    t.equal(rings.size, held, 'size counts what the rings hold');
    t.ok(rings.size <= total, 'never more than the global bound');
    t.strictSame(
      new Set(rings.resources()),
      new Set(names.filter((r) => window.some((e) => e.resource === r))),
      'a resource whose entries all went is no longer listed',
    );
  }
});

t.test('global bound: a resource emptied by the server\'s newer entries comes back when it has entries again', async (t) => {
  const rings = new HistoryRings(10, 4);
  const a = source('a@example.com', 1);
  rings.addNotify(1, 1, a, 1, 0, false);
  for (let seq = 2; seq <= 5; seq++) rings.add({ seq, at: seq, kind: 'manual', resource: 'b@example.com' });
  t.strictSame(rings.of('a@example.com'), [], 'a went first');
  t.strictSame([...rings.resources()], ['b@example.com']);
  // The source's cached ring went with it; the next NOTIFY must land in a ring the history can read.
  rings.addNotify(6, 6, a, 2, 1, false);
  t.strictSame(rings.of('a@example.com').map((e) => e.seq), [6]);
  t.equal(rings.size, 4);
});

t.test('a NOTIFY and its answer read back as the entries the history has always shown (fields and their order)', async (t) => {
  const rings = new HistoryRings();
  const src = new NotifySource('1001@example.com', 'dialog', '2002', 'example.com', 'abc@192.0.2.1');
  rings.addNotify(7, 1000, src, 41, 3, false);
  rings.addResult(8, 1012, src, 41, answerCode({ ok: true, status: 200 }), 12);
  rings.addNotify(9, 2000, src, 42, 4, true);
  rings.addResult(10, 2100, src, 42, answerCode({ ok: false, failure: 481 }), null);
  rings.addResult(11, 2200, src, 43, answerCode({ ok: false, failure: 'timeout' }), 32_000);
  rings.addResult(12, 2300, src, 44, answerCode({ ok: false, failure: 'transport-error' }), 0);
  const got = rings.of('1001@example.com').map((e) => JSON.stringify(e));
  const who = '"resource":"1001@example.com","event":"dialog","watcher":"2002@example.com","call_id":"abc@192.0.2.1"';
  t.strictSame(got, [
    `{"seq":7,"at":1000,"kind":"notify",${who},"cseq":41,"version":3,"final":false}`,
    `{"seq":8,"at":1012,"kind":"notify-result",${who},"cseq":41,"status":200,"rtt_ms":12}`,
    `{"seq":9,"at":2000,"kind":"notify",${who},"cseq":42,"version":4,"final":true}`,
    `{"seq":10,"at":2100,"kind":"notify-result",${who},"cseq":42,"failure":481,"rtt_ms":null}`,
    `{"seq":11,"at":2200,"kind":"notify-result",${who},"cseq":43,"failure":"timeout","rtt_ms":32000}`,
    `{"seq":12,"at":2300,"kind":"notify-result",${who},"cseq":44,"failure":"transport-error","rtt_ms":0}`,
  ]);
});

t.test('collect filters on seq, time and kind, and gives the newest `limit` of what matches, oldest first', async (t) => {
  const rings = new HistoryRings();
  const src = source('1001@example.com', 1);
  rings.add({ seq: 1, at: 100, kind: 'subscribe', resource: '1001@example.com' });
  rings.addNotify(2, 200, src, 1, 0, false);
  rings.addResult(3, 300, src, 1, 200, 5);
  rings.add({ seq: 4, at: 400, kind: 'state', resource: '1001@example.com' });
  const seqs = (beforeSeq: number, since?: number, kind?: string, limit = Infinity): number[] => {
    const out: HistoryEntry[] = [];
    rings.collect('1001@example.com', beforeSeq, since, kind, limit, out);
    return out.map((e) => e.seq);
  };
  t.strictSame(seqs(Infinity), [1, 2, 3, 4]);
  t.strictSame(seqs(4), [1, 2, 3], 'beforeSeq excludes itself');
  t.strictSame(seqs(Infinity, 250), [3, 4], 'since is inclusive of later times');
  t.strictSame(seqs(Infinity, undefined, 'notify-result'), [3]);
  t.strictSame(seqs(Infinity, undefined, 'state'), [4]);
  t.strictSame(seqs(3, undefined, 'notify'), [2]);
  t.strictSame(seqs(Infinity, undefined, undefined, 2), [3, 4], 'limit: the newest');
  t.strictSame(seqs(4, undefined, undefined, 2), [2, 3], 'limit below beforeSeq');
  t.strictSame(seqs(Infinity, 150, undefined, 1), [4]);
  t.strictSame(seqs(Infinity, undefined, 'subscribe', 5), [1]);
  t.strictSame(seqs(Infinity, undefined, undefined, 0), []);
});

t.test('answer codes: every answer and failure kind survives the round trip (RFC 6665 §4.2.2 failures)', async (t) => {
  t.strictSame(answerOf(answerCode({ ok: true, status: 200 })), { status: 200 });
  t.strictSame(answerOf(answerCode({ ok: true, status: 202 })), { status: 202 });
  for (const failure of ['timeout', 'transport-error', 481, 408, 500, 603, 0] as const) {
    t.strictSame(answerOf(answerCode({ ok: false, failure })), { failure }, String(failure));
  }
  t.equal(answerOf(0), null, 'no answer yet');
});
