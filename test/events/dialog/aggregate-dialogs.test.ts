import t from 'tap';
import { createDialogPackage, syntheticDialogId, type DialogHistory, type DialogInfoDocument, type DialogResourceState } from '../../../src/events/dialog/index.js';
import type { Publication } from '../../../src/events/event-package.js';
import { ENTITY, dialog, dialogInfoXml, doc, input, pub } from '../helpers/dialog-docs.js';
import { readCapturedMessages } from '../helpers/real-client-messages.js';

const TYPE = 'application/dialog-info+xml';
const T0 = 1_700_000_000_000;

/**
 * A tiny stand-in for the notifier's publication store: applies each PUBLISH through the package, keeps one document
 * per ETag, and keeps the history, exactly as the interface asks the notifier to.
 */
function resource(options: Parameters<typeof createDialogPackage>[0] = {}) {
  const pkg = createDialogPackage(options);
  const pubs = new Map<string, Publication>();
  let history: DialogHistory | undefined;
  let seq = 0;
  return {
    pkg,
    publish(etag: string, d: DialogInfoDocument, now = T0): void {
      const applied = pkg.applyPublication(d, history, { now, etag, seq: ++seq });
      history = applied.history;
      pubs.set(etag, { etag, seq, doc: applied.doc });
    },
    publishXml(etag: string, body: Buffer | string, now = T0): void {
      this.publish(etag, pkg.parsePublication(Buffer.from(body), TYPE), now);
    },
    expire(etag: string): void {
      pubs.delete(etag);
    },
    get history(): DialogHistory | undefined {
      return history;
    },
    state(more: Parameters<typeof input>[1] = {}): DialogResourceState {
      return pkg.aggregate(input({ dialog: [...pubs.values()] }, { history: { dialog: history }, now: T0, ...more }));
    },
    summary(more: Parameters<typeof input>[1] = {}): string[] {
      return this.state(more).dialogs.map((d) => `${d.id}:${d.state}`);
    },
  };
}

t.test('no publication and no manual state is idle: an empty dialog list (RFC 4235 §4.1)', async (t) => {
  t.same(resource().summary(), []);
});

t.test('most interesting first: early > confirmed > proceeding > trying > terminated (sip-behaviour.md, Bodies)', async (t) => {
  const r = resource();
  r.publish('e1', doc(dialog('t', 'terminated'), dialog('tr', 'trying'), dialog('c', 'confirmed'), dialog('p', 'proceeding'), dialog('e', 'early')));
  t.same(r.summary(), ['e:early', 'c:confirmed', 'p:proceeding', 'tr:trying', 't:terminated']);
});

t.test('among equally interesting dialogs the newer publication comes first (RFC 3903 §4)', async (t) => {
  const r = resource();
  r.publish('e1', doc(dialog('old', 'confirmed')));
  r.publish('e2', doc(dialog('new', 'confirmed')));
  t.same(r.summary(), ['new:confirmed', 'old:confirmed']);
});

t.test('publications under several ETags are merged (RFC 3903 §4)', async (t) => {
  const r = resource();
  r.publish('proxy-a', doc(dialog('a', 'confirmed')));
  r.publish('proxy-b', doc(dialog('b', 'early')));
  t.same(r.summary(), ['b:early', 'a:confirmed']);
});

t.test('a dialog id seen under another, newer ETag replaces the older record (RFC 3903 §4)', async (t) => {
  const r = resource();
  r.publish('proxy-a', doc(dialog('d1', 'early', { remote: { identity: 'sip:old@x' } })));
  r.publish('proxy-b', doc(dialog('d1', 'confirmed', { remote: { identity: 'sip:new@x' } })));
  const state = r.state();
  t.equal(state.dialogs.length, 1);
  t.equal(state.dialogs[0]!.state, 'confirmed');
  t.equal(state.dialogs[0]!.remote?.identity, 'sip:new@x');
});

t.test('a terminated dialog clears an earlier early of the same id, under any ETag (RFC 4235 §3.7.1)', async (t) => {
  const r = resource();
  r.publish('proxy-a', doc(dialog('d1', 'early')));
  r.publish('proxy-b', doc(dialog('d1', 'terminated')));
  t.same(r.summary(), ['d1:terminated']);
  // Once the terminated publication expires, the stale early one must not reappear.
  r.expire('proxy-b');
  t.same(r.summary(), []);
});

t.test('a terminated dialog clears any earlier state of the same id (RFC 4235 §3.7.1)', async (t) => {
  for (const earlier of ['trying', 'proceeding', 'early', 'confirmed'] as const) {
    const r = resource();
    r.publish('a', doc(dialog('d1', earlier)));
    r.publish('b', doc(dialog('d1', 'terminated')));
    t.same(r.summary(), ['d1:terminated'], earlier);
  }
});

t.test('a late early never resurrects a dialog that has terminated, same ETag or another (RFC 4235 §3.7.1)', async (t) => {
  const r = resource();
  r.publish('a', doc(dialog('d1', 'terminated')));
  r.publish('b', doc(dialog('d1', 'early')));
  t.same(r.summary(), ['d1:terminated']);
  r.publish('a', doc(dialog('d1', 'early')), T0 + 1000);
  t.same(r.summary(), [], 'the replacement of the terminated publication is dropped too');
  for (const late of ['trying', 'proceeding', 'confirmed'] as const) {
    r.publish('c', doc(dialog('d1', late)), T0 + 2000);
    t.same(r.summary(), [], late);
  }
});

t.test('terminated wins even when it arrived before the early in seq order but is still live (RFC 4235 §3.7.1)', async (t) => {
  // Aggregation alone, without any history: the notifier may restore publications whose history was lost.
  const pkg = createDialogPackage();
  const state = pkg.aggregate(input({ dialog: [pub('b', 2, doc(dialog('d1', 'early'))), pub('a', 1, doc(dialog('d1', 'terminated')))] }));
  t.same(state.dialogs.map((d) => d.state), ['terminated']);
});

t.test('the history of ended dialogs is plain JSON and survives storage, so no dialog revives after a restart (RFC 4235 §3.7.1)', async (t) => {
  const r = resource();
  r.publish('a', doc(dialog('d1', 'terminated'), dialog('d2', 'confirmed')));
  const stored = JSON.parse(JSON.stringify(r.history)) as DialogHistory;
  t.same(stored, { ended: [['d1', T0]] });
  const later = r.pkg.applyPublication(doc(dialog('d1', 'early'), dialog('d3', 'early')), stored, { now: T0 + 5, etag: 'b', seq: 9 });
  t.same(later.doc.dialogs.map((d) => d.id), ['d3']);
});

t.test('the history is bounded in age: a termination older than the limit no longer blocks an id (RFC 4235 §3.7.1)', async (t) => {
  const r = resource({ history: { maxAgeMs: 60_000 } });
  r.publish('a', doc(dialog('d1', 'terminated')), T0);
  r.expire('a');
  r.publish('b', doc(dialog('d1', 'early')), T0 + 30_000);
  t.same(r.summary({ now: T0 + 30_000 }), [], 'within the age limit: still blocked');
  r.publish('b', doc(dialog('d1', 'early')), T0 + 61_000);
  t.same(r.summary({ now: T0 + 61_000 }), ['d1:early']);
  t.same(r.history, { ended: [] }, 'the expired entry was pruned');
});

t.test('the history is bounded in size: the oldest terminations are forgotten first (RFC 4235 §3.7.1)', async (t) => {
  const r = resource({ history: { maxEntries: 3 } });
  for (let i = 1; i <= 5; i++) r.publish('a', doc(dialog(`d${i}`, 'terminated')), T0 + i);
  t.same(
    r.history?.ended.map(([id]) => id),
    ['d3', 'd4', 'd5'],
  );
});

t.test('a damaged stored history is treated as empty rather than failing (RFC 3903 §4)', async (t) => {
  const pkg = createDialogPackage();
  const bad = { ended: [['x'], 'y', null, ['d1', 'not a time']] } as unknown as DialogHistory;
  const applied = pkg.applyPublication(doc(dialog('d1', 'early')), bad, { now: T0, etag: 'a', seq: 1 });
  t.same(applied.doc.dialogs.map((d) => d.id), ['d1']);
  t.same(pkg.aggregate(input({ dialog: [pub('a', 1, applied.doc)] }, { history: { dialog: 'garbage' } })).dialogs.length, 1);
});

t.test('an id listed twice in one document keeps its terminated entry (RFC 4235 §3.7.1)', async (t) => {
  const r = resource();
  r.publish('a', doc(dialog('d1', 'terminated'), dialog('d1', 'early')));
  t.same(r.summary(), ['d1:terminated']);
});

t.test('manual state takes part as a synthetic dialog with the stable id (api-contract.md, presence set)', async (t) => {
  const id = syntheticDialogId(ENTITY);
  const r = resource();
  // The entity is both parties of the synthetic dialog (RFC 4235 §4.1.6): pjsua crashes on a dialog without them.
  const parties = { local: { identity: ENTITY }, remote: { identity: ENTITY } };
  t.strictSame(r.state({ manualState: 'early' }).dialogs, [{ id, state: 'early', direction: 'recipient', ...parties }]);
  t.strictSame(r.state({ manualState: 'confirmed' }).dialogs, [{ id, state: 'confirmed', ...parties }]);
  t.strictSame(r.state({ manualState: 'terminated' }).dialogs, [{ id, state: 'terminated', ...parties }]);
  r.publish('a', doc(dialog('d1', 'confirmed')));
  t.same(r.summary({ manualState: 'early' }), [`${id}:early`, 'd1:confirmed'], 'manual ringing beats a published call');
  t.same(r.summary({ manualState: 'confirmed' }), [`${id}:confirmed`, 'd1:confirmed'], 'manual wins ties');
  t.same(r.summary({ manualState: 'terminated' }), ['d1:confirmed', `${id}:terminated`], 'manual idle does not hide a call');
});

t.test('the Kamailio call flow drives the lamp: trying, early, confirmed, then idle (RFC 4235 §3.7.1)', async (t) => {
  const r = resource();
  const flow = readCapturedMessages('kamailio-pua-publish.txt').filter((m) => m.startLine.startsWith('PUBLISH sip:1001@'));
  const seen: string[] = [];
  flow.forEach((m, i) => {
    // Kamailio chains its publications with SIP-If-Match, so they replace one publication.
    r.publishXml('kamailio', m.body, T0 + i);
    seen.push(r.summary().join(','));
  });
  t.same(seen, ['padi-6b0a47fc-5acd-1:trying', 'padi-6b0a47fc-5acd-1:early', 'padi-6b0a47fc-5acd-1:confirmed', 'padi-6b0a47fc-5acd-1:terminated']);
  // A retransmitted or reordered early from the same call arriving afterwards stays dark.
  r.publishXml('late', flow[1]!.body, T0 + 10);
  t.same(r.summary(), ['padi-6b0a47fc-5acd-1:terminated']);
});

t.test('an empty dialog-info publication removes that publisher\'s dialogs (RFC 3903 §4)', async (t) => {
  const r = resource();
  r.publishXml('a', dialogInfoXml([{ id: 'd1', state: 'confirmed' }]));
  r.publishXml('a', dialogInfoXml([]));
  t.same(r.summary(), []);
});

t.test('the aggregated dialog state is plain JSON, so the notifier can compare and store it (RFC 4235 §4.1)', async (t) => {
  const r = resource();
  r.publish('a', doc(dialog('d1', 'early', { remote: { display: 'A&B', identity: 'sip:a@b' } })));
  const state = r.state({ manualState: 'confirmed' });
  t.same(JSON.parse(JSON.stringify(state)), state);
});
