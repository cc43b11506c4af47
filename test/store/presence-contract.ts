/**
 * The presence-state port's contract (src/store/presence-state-port.ts, rules in src/store/ports.ts), written once
 * and run against every backend: test/store/memory.test.ts and test/store/sqlite.test.ts call `presenceContract`
 * with their own factory, as they call `adminContract` (admin-contract.ts) for the other side.
 * This file registers tests only when called, so running it alone is a no-op.
 */
import fc from 'fast-check';
import t from 'tap';
import type { PresenceStateStore } from '../../src/store/ports.js';
import type { SubscriptionRecord } from '../../src/store/records.js';
import { contractHarness, type StoreFactory } from './helpers/contract-harness.js';
import {
  AWKWARD_BODY,
  T0,
  mailboxRecord,
  publicationRecord,
  resourceStateRecord,
  subscriptionRecord,
} from './helpers/records.js';

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function presenceContract(backend: string, open: StoreFactory<PresenceStateStore>): void {
  const harness = contractHarness(open);

  t.test(`${backend}: presence-state contract (src/store/presence-state-port.ts)`, async (t) => {
    t.test('a subscription reads back field for field after put (rule 4)', async (t) => {
      const { store } = harness(t);
      const rec = subscriptionRecord({ eventId: 'line-3', lastNotify: { cseq: 9, reply: 0, body: 'a\r\nb' } });
      store.subscriptions.put(rec);
      t.strictSame(await store.subscriptions.get(rec.id), rec);
      store.flush();
      t.strictSame(await store.subscriptions.get(rec.id), rec);
      t.strictSame(await store.subscriptions.loadAll(), [rec]);
    });

    t.test('null-able subscription fields read back as null, not undefined or "null"', async (t) => {
      const { store } = harness(t);
      const rec = subscriptionRecord({ eventId: null, accountId: null, lastNotify: null, routeSet: [], acceptTypes: [] });
      rec.flow = { ...rec.flow, protocol: 'tcp', connectionId: 42 };
      store.subscriptions.put(rec);
      store.flush();
      const back = (await store.subscriptions.get(rec.id))!;
      t.equal(back.eventId, null);
      t.equal(back.accountId, null);
      t.equal(back.lastNotify, null);
      t.strictSame(back.routeSet, []);
      t.strictSame(back.flow, { ...rec.flow });
    });

    t.test('put is an upsert on the dialog id; get of an unknown id is undefined (rule 4)', async (t) => {
      const { store } = harness(t);
      const rec = subscriptionRecord();
      store.subscriptions.put(rec);
      store.flush();
      store.subscriptions.put({ ...rec, localCseq: 8, version: 6, strikes: 0 });
      t.equal(await store.subscriptions.count(), 1);
      t.match(await store.subscriptions.get(rec.id), { localCseq: 8, version: 6, strikes: 0 });
      t.equal(await store.subscriptions.get('nope;x;y'), undefined);
    });

    t.test('delete removes a subscription from every read; deleting a missing one is a no-op (rule 4)', async (t) => {
      const { store } = harness(t);
      const rec = subscriptionRecord();
      store.subscriptions.put(rec);
      store.flush();
      store.subscriptions.delete(rec.id);
      t.equal(await store.subscriptions.get(rec.id), undefined);
      t.strictSame(await store.subscriptions.loadAll(), []);
      t.equal(await store.subscriptions.count(), 0);
      t.doesNotThrow(() => store.subscriptions.delete('missing;a;b'));
    });

    t.test('records are values: mutating after put or after a read never changes the store (rule 3)', async (t) => {
      const { store } = harness(t);
      const rec = subscriptionRecord();
      const snapshot = structuredClone(rec);
      store.subscriptions.put(rec);
      rec.routeSet.push('<sip:evil>');
      rec.flow.remotePort = 1;
      rec.lastNotify!.reply = 500;
      rec.version = 99;
      t.strictSame(await store.subscriptions.get(rec.id), snapshot, 'mutating the written object (buffered)');
      const read = (await store.subscriptions.get(rec.id))!;
      read.acceptTypes.push('x/y');
      read.flow.localPort = 2;
      t.strictSame(await store.subscriptions.get(rec.id), snapshot, 'mutating a returned object');

      const pub = publicationRecord();
      store.publications.put(pub);
      pub.body[0] = 0x00;
      const got = (await store.publications.get(pub))!;
      t.ok(got.body.equals(AWKWARD_BODY), 'body copied on put');
      got.body[1] = 0x41;
      t.ok((await store.publications.get(pub))!.body.equals(AWKWARD_BODY), 'body copied on read');

      const rs = resourceStateRecord();
      store.resources.put(rs);
      (rs.history as { terminated: string[] }).terminated.push('d3');
      t.strictSame((await store.resources.get(rs.resource))!.history, resourceStateRecord().history);
    });

    t.test('count reflects puts and deletes', async (t) => {
      const { store } = harness(t);
      t.equal(await store.subscriptions.count(), 0);
      store.subscriptions.put(subscriptionRecord({ callId: '1' }));
      store.subscriptions.put(subscriptionRecord({ callId: '2' }));
      store.subscriptions.put(subscriptionRecord({ callId: '3', event: 'presence' }));
      store.subscriptions.put(subscriptionRecord({ callId: '1' })); // upsert, not a new one
      t.equal(await store.subscriptions.count(), 3);
      store.subscriptions.delete(subscriptionRecord({ callId: '3' }).id);
      t.equal(await store.subscriptions.count(), 2);
    });

    t.test('a publication body reads back byte-exact (RFC 3903 §4.2)', async (t) => {
      const { store } = harness(t);
      const pub = publicationRecord();
      store.publications.put(pub);
      t.ok((await store.publications.get(pub))!.body.equals(AWKWARD_BODY), 'buffered');
      store.flush();
      const back = (await store.publications.get(pub))!;
      t.ok(Buffer.isBuffer(back.body), 'a Buffer, not a bare Uint8Array');
      t.ok(back.body.equals(AWKWARD_BODY), 'flushed');
      t.strictSame({ ...back, body: null }, { ...pub, body: null });
      const empty = publicationRecord({ etag: 'empty', body: Buffer.alloc(0), document: null });
      store.publications.put(empty);
      store.flush();
      t.equal((await store.publications.get(empty))!.body.length, 0);
      t.equal((await store.publications.get(empty))!.document, null);
    });

    t.test('a publication is keyed by (resource, event, etag) (RFC 3903 §4.1)', async (t) => {
      const { store } = harness(t);
      const base = publicationRecord();
      store.publications.put(base);
      store.publications.put({ ...base, event: 'presence', seq: 2 });
      store.publications.put({ ...base, resource: '1002@pbx.example.com', seq: 3 });
      store.publications.put({ ...base, seq: 4, contentType: 'application/dialog-info+xml; replaced' });
      t.equal(await store.publications.count(), 3);
      t.match(await store.publications.get(base), { seq: 4, contentType: 'application/dialog-info+xml; replaced' });
      t.equal(await store.publications.get({ ...base, etag: 'other' }), undefined);
      store.publications.delete({ ...base, event: 'presence' });
      t.equal(await store.publications.get({ ...base, event: 'presence' }), undefined);
      t.ok(await store.publications.get(base));
    });

    t.test('publications load in arrival (seq) order, the order aggregation restores them in (RFC 3903 §4)', async (t) => {
      const { store } = harness(t);
      store.publications.put(publicationRecord({ etag: 'c', seq: 30 }));
      store.publications.put(publicationRecord({ etag: 'a', seq: 10 }));
      store.publications.put(publicationRecord({ etag: 'p', seq: 15, event: 'presence' }));
      store.publications.put(publicationRecord({ etag: 'b', seq: 20 }));
      t.strictSame((await store.publications.loadAll()).map((p) => p.etag), ['a', 'p', 'b', 'c']);
      store.flush();
      t.strictSame((await store.publications.loadAll()).map((p) => p.etag), ['a', 'p', 'b', 'c'], 'also once flushed');
    });

    t.test('nextSeq rises strictly and stays above every seq the store holds', async (t) => {
      const { store } = harness(t);
      const a = store.publications.nextSeq();
      const b = store.publications.nextSeq();
      t.ok(b > a);
      store.publications.put(publicationRecord({ seq: b + 100 }));
      t.ok(store.publications.nextSeq() > b + 100);
    });

    t.test('deleteResource drops a resource\'s publications, per event or all; of none it is a no-op', async (t) => {
      const { store } = harness(t);
      const r = '1001@pbx.example.com';
      store.publications.put(publicationRecord({ etag: 'a', seq: 1 }));
      store.publications.put(publicationRecord({ etag: 'b', seq: 2 }));
      store.publications.put(publicationRecord({ etag: 'c', seq: 3, event: 'presence' }));
      store.publications.put(publicationRecord({ etag: 'd', seq: 4, resource: '1002@pbx.example.com' }));
      store.publications.deleteResource(r, 'dialog');
      t.strictSame((await store.publications.loadAll()).map((p) => p.etag), ['c', 'd']);
      store.publications.deleteResource(r);
      t.strictSame((await store.publications.loadAll()).map((p) => p.etag), ['d']);
      t.doesNotThrow(() => store.publications.deleteResource(r));
      t.equal(await store.publications.count(), 1);
    });

    t.test('resource state keeps manual state and opaque history; null manual state reads back null', async (t) => {
      const { store } = harness(t);
      const rs = resourceStateRecord();
      store.resources.put(rs);
      t.strictSame(await store.resources.get(rs.resource), rs);
      store.flush();
      t.strictSame(await store.resources.get(rs.resource), rs);
      const cleared = { ...rs, manualState: null, history: null, updatedAt: T0 + 1 };
      store.resources.put(cleared);
      store.flush();
      t.strictSame(await store.resources.get(rs.resource), cleared);
      t.strictSame(await store.resources.loadAll(), [cleared]);
      store.resources.delete(rs.resource);
      t.equal(await store.resources.get(rs.resource), undefined);
      t.strictSame(await store.resources.loadAll(), []);
    });

    t.test('mailbox counts round-trip and upsert by mailbox (RFC 3842 §5.2)', async (t) => {
      const { store } = harness(t);
      const mb = mailboxRecord();
      store.mailboxes.put(mb);
      store.mailboxes.put(mailboxRecord({ mailbox: '1002@pbx.example.com', newMessages: 0 }));
      store.flush();
      store.mailboxes.put({ ...mb, newMessages: 3, urgentOld: 4 });
      t.strictSame(await store.mailboxes.get(mb.mailbox), { ...mb, newMessages: 3, urgentOld: 4 });
      t.equal((await store.mailboxes.loadAll()).length, 2);
      store.mailboxes.delete(mb.mailbox);
      t.equal(await store.mailboxes.get(mb.mailbox), undefined);
      t.equal(await store.mailboxes.get('nobody@x'), undefined);
    });

    t.test('after close every call fails with store_closed, close is idempotent, writeHealth still answers (rule 6)', async (t) => {
      const { store } = harness(t);
      store.subscriptions.put(subscriptionRecord());
      store.close();
      t.doesNotThrow(() => store.close());
      const writes: [string, () => unknown][] = [
        ['subscriptions.put', () => store.subscriptions.put(subscriptionRecord())],
        ['subscriptions.delete', () => store.subscriptions.delete('x')],
        ['publications.put', () => store.publications.put(publicationRecord())],
        ['publications.nextSeq', () => store.publications.nextSeq()],
        ['publications.deleteResource', () => store.publications.deleteResource('x')],
        ['mailboxes.put', () => store.mailboxes.put(mailboxRecord())],
        ['flush', () => store.flush()],
      ];
      for (const [name, call] of writes) {
        t.throws(call, { name: 'StoreError', code: 'store_closed' }, name);
      }
      const reads: [string, () => Promise<unknown>][] = [
        ['subscriptions.get', () => store.subscriptions.get('x')],
        ['subscriptions.loadAll', () => store.subscriptions.loadAll()],
        ['subscriptions.count', () => store.subscriptions.count()],
        ['publications.loadAll', () => store.publications.loadAll()],
        ['resources.get', () => store.resources.get('x')],
        ['mailboxes.loadAll', () => store.mailboxes.loadAll()],
      ];
      for (const [name, call] of reads) {
        await t.rejects(call, { name: 'StoreError', code: 'store_closed' }, `${name} rejects`);
      }
      t.equal(typeof store.writeHealth().writable, 'boolean', 'writeHealth answers after close, for /healthz');
    });

    t.test('a read answers as of its call: writes made before it are in, writes made after it are not (rule 2)', async (t) => {
      // The presence side's reads answer with Promises so that a networked engine can serve them; the SIP paths
      // write on without waiting, so a read must not pick up what was written while its answer was on the way.
      const { store } = harness(t);
      const rec = subscriptionRecord();
      const pub = publicationRecord();
      store.subscriptions.put(rec);
      store.publications.put(pub);
      const got = store.subscriptions.get(rec.id);
      const all = store.subscriptions.loadAll();
      const counted = store.subscriptions.count();
      const pubs = store.publications.loadAll();
      store.subscriptions.delete(rec.id);
      store.subscriptions.put(subscriptionRecord({ callId: 'later' }));
      store.publications.deleteResource(pub.resource);
      t.strictSame(await got, rec);
      t.strictSame(await all, [rec]);
      t.equal(await counted, 1);
      t.strictSame((await pubs).map((p) => p.etag), [pub.etag]);
      t.equal(await store.subscriptions.get(rec.id), undefined, 'a read after the delete misses it');
      t.equal(await store.publications.count(), 0);
    });

    t.test('every read reflects every earlier write, whatever the flush timing (rules 1, 2)', async (t) => {
      // Model-based: random writes, flushes and clock moves over a small key space, checked against a Map.
      const callIds = ['c0', 'c1', 'c2', 'c3'];
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('put' as const),
          key: fc.integer({ min: 0, max: 3 }),
          resource: fc.constantFrom('1001', '1002'),
          event: fc.constantFrom('dialog', 'presence'),
          cseq: fc.integer({ min: 1, max: 1000 }),
          life: fc.integer({ min: -50, max: 200 }),
        }),
        fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 3 }) }),
        fc.record({ kind: fc.constant('flush' as const) }),
        fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }),
        fc.record({ kind: fc.constant('query' as const) }),
      );
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
          runs++;
          const h = open();
          try {
            let store = h.store;
            const model = new Map<string, SubscriptionRecord>();
            const expect = async (): Promise<void> => {
              for (const c of callIds) {
                const id = subscriptionRecord({ callId: c }).id;
                const got = await store.subscriptions.get(id);
                const want = model.get(id);
                if (JSON.stringify(got) !== JSON.stringify(want)) {
                  throw new Error(`get(${id}) = ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
                }
              }
            };
            for (const o of ops) {
              if (o.kind === 'put') {
                const r = subscriptionRecord({
                  callId: callIds[o.key]!,
                  resource: o.resource,
                  event: o.event,
                  localCseq: o.cseq,
                  expiresAt: h.clock.now() + o.life,
                });
                store.subscriptions.put(r);
                model.set(r.id, r);
              } else if (o.kind === 'delete') {
                const id = subscriptionRecord({ callId: callIds[o.key]! }).id;
                store.subscriptions.delete(id);
                model.delete(id);
              } else if (o.kind === 'flush') {
                store.flush();
              } else if (o.kind === 'advance') {
                h.clock.advance(o.ms);
              } else {
                const got = JSON.stringify((await store.subscriptions.loadAll()).sort(byId));
                const want = JSON.stringify([...model.values()].sort(byId));
                if (got !== want) throw new Error(`loadAll = ${got}, expected ${want}`);
                if ((await store.subscriptions.count()) !== model.size) throw new Error('count differs from model');
              }
              await expect();
            }
            if (h.reopen) {
              store = h.reopen();
              const got = JSON.stringify((await store.subscriptions.loadAll()).sort(byId));
              const want = JSON.stringify([...model.values()].sort(byId));
              if (got !== want) throw new Error(`after reopen: ${got}\nexpected: ${want}`);
            }
          } finally {
            h.cleanup();
          }
        }),
        { numRuns: 60, seed: 4235 },
      );
      t.equal(runs >= 60, true, 'ran the property');
    });
  });
}
