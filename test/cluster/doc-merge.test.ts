import t from 'tap';
import type { ResourceDoc, SharedPublication } from '../../src/cluster/engine-port.js';
import { isEmptyDoc, mergeDocs, sameDoc } from '../../src/cluster/node/doc-merge.js';

/** The outbox's three-way merge (cluster.md §8: queued changes replay, state converges). */

const NOW = 1_700_000_000_000;

function pub(etag: string, seq: number, expiresAt = NOW + 60_000): SharedPublication {
  return { event: 'dialog', etag, seq, contentType: 'application/dialog-info+xml', body: Buffer.from(etag), document: null, expiresAt, updatedAt: NOW };
}

function doc(pubs: SharedPublication[], more: Partial<ResourceDoc> = {}): ResourceDoc {
  return { publications: pubs, history: {}, manualState: null, mailbox: null, ...more };
}

const etags = (d: ResourceDoc | null): string[] => (d?.publications ?? []).map((p) => p.etag);

t.test('publications: ours added since base are kept, ours removed since base go, theirs stay', async (t) => {
  const base = doc([pub('a', 1), pub('b', 2)]);
  const ours = doc([pub('a', 1), pub('c', 3)]); // removed b, added c
  const theirs = doc([pub('a', 1), pub('b', 2), pub('d', 4)]); // added d
  t.same(etags(mergeDocs(base, ours, theirs, NOW)), ['a', 'c', 'd']);
});

t.test('a field we changed wins; one we left alone takes theirs', async (t) => {
  const base = doc([], { manualState: 'early' });
  const oursChanged = doc([], { manualState: 'confirmed' });
  const theirs = doc([], { manualState: 'terminated', mailbox: { newMessages: 1, oldMessages: 0, urgentNew: 0, urgentOld: 0, updatedAt: NOW } });
  const merged = mergeDocs(base, oursChanged, theirs, NOW)!;
  t.equal(merged.manualState, 'confirmed', 'ours');
  t.equal(merged.mailbox?.newMessages, 1, 'theirs: we did not touch the mailbox');
  t.equal(mergeDocs(base, doc([], { manualState: 'early' }), theirs, NOW)!.manualState, 'terminated', 'unchanged by us: theirs');
});

t.test('expired publications are dropped whoever held them (RFC 3903 §6); an empty result is null', async (t) => {
  const merged = mergeDocs(null, doc([pub('old', 1, NOW - 1)]), null, NOW);
  t.equal(merged, null);
  t.ok(isEmptyDoc(doc([], { history: { dialog: { ended: [] } } })), 'a history holding nothing is empty');
  t.notOk(isEmptyDoc(doc([], { history: { dialog: { ended: ['x'] } } })));
});

t.test('a re-push from two nodes after the engine lost its data converges on one copy (base null)', async (t) => {
  const mine = doc([pub('a', 1)]);
  const first = mergeDocs(null, mine, null, NOW);
  const second = mergeDocs(null, mine, first, NOW);
  t.ok(sameDoc(first, second), 'the second push changes nothing, so it commits nothing');
  t.notOk(sameDoc(first, doc([pub('a', 1, NOW + 1)])), 'a different expiry is a different document');
});
