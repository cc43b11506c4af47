import { createHash } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import t from 'tap';
import { subscriptionView } from '../../src/api/presence-view.js';
import { subscriptionId } from '../../src/store/keys.js';
import type { SubscriptionRecord } from '../../src/store/records.js';
import { subscriptionRecord } from '../store/helpers/records.js';
import { apiHarness, MASTER_REALM, type ApiHarness } from './helpers/api-harness.js';
import { countLoopTurns } from '../support/loop-turns.js';

// Issue 18, item 4: `GET …/presence` over many subscriptions. Without paging parameters the answer is, byte for byte,
// what the list gave before (JSON.stringify of the whole tree); with Kazoo's `page_size` / `start_key` it is a page
// in a fixed order and the envelope says where the next one starts (`next_start_key`). The work runs in slices and
// renders a NOTIFY body only for an entry it writes.

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** The tree as presence-view.ts built it before issue 18 (`subscriptionTree`), to hold the new text to. */
function treeBefore(recs: readonly SubscriptionRecord[]): Record<string, Record<string, Record<string, unknown>>> {
  const tree: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const rec of recs) {
    const byEvent = (tree[rec.resource] ??= {});
    (byEvent[rec.event] ??= {})[rec.callId] = subscriptionView(rec);
  }
  return tree;
}

let n = 0;
function sub(over: Partial<SubscriptionRecord>): SubscriptionRecord {
  const callId = over.callId ?? `call-${++n}`;
  const localTag = over.localTag ?? `srv${++n}`;
  return subscriptionRecord({ domain: MASTER_REALM, ...over, callId, localTag, id: subscriptionId(callId, localTag, over.remoteTag ?? 'w1') });
}

async function rawGet(h: ApiHarness, token: string, query = '', requestId = 'req-1'): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`http://127.0.0.1:${h.port}/v2/accounts/${h.masterId}/presence${query}`, {
    headers: { 'X-Auth-Token': token, 'X-Request-ID': requestId },
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The exact answer JSON.stringify gave for the envelope around `data` before (envelope.ts). */
function envelopeText(token: string, data: unknown, requestId = 'req-1'): string {
  const text = JSON.stringify(data);
  return JSON.stringify({ auth_token: token, data, request_id: requestId, revision: md5(text), status: 'success' });
}

interface Page {
  ids: string[];
  nextKey: string | undefined;
  json: any;
  text: string;
}

async function page(h: ApiHarness, token: string, query: string): Promise<Page> {
  const res = await rawGet(h, token, query);
  if (res.status !== 200) throw new Error(`${query}: ${res.status} ${res.text}`);
  const json = JSON.parse(res.text);
  const byCall = new Map(h.notifier.subs.map((s) => [`${s.resource}|${s.event}|${s.callId}`, s.id]));
  const ids: string[] = [];
  for (const [resource, byEvent] of Object.entries(json.data.subscriptions as Record<string, Record<string, object>>)) {
    for (const [event, calls] of Object.entries(byEvent)) for (const callId of Object.keys(calls)) ids.push(byCall.get(`${resource}|${event}|${callId}`) ?? `gone:${callId}`);
  }
  return { ids, nextKey: json.next_start_key, json, text: res.text };
}

const pagedOrder = (a: SubscriptionRecord, b: SubscriptionRecord): number =>
  a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : a.event < b.event ? -1 : a.event > b.event ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

t.test('without page_size and start_key the answer is byte for byte the one JSON.stringify gave before', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  // Later than the master account, which so stays the oldest: the one serving unclaimed domains.
  h.clock.advance(1000);
  const other = await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'other', realm: 'other.example' } } });
  t.equal(other.status, 201);
  h.notifier.subs = [
    sub({ resource: 'alice', callId: '77', lastNotify: null }),
    sub({ resource: '1001', event: 'presence', lastNotify: { cseq: 3, reply: 200, body: '<?xml version="1.0"?>\r\n<presence entity="sip:1001@x">"é" ✓</presence>' } }),
    sub({ resource: '*3101', callId: 'c-1' }),
    sub({ resource: '1001', callId: '12' }),
    sub({ resource: '200', event: 'message-summary', callId: 'zz' }),
    sub({ resource: '1001', callId: '3' }),
    // The same resource, event and Call-ID at a second served domain (the default account serves unknown domains):
    // one key in the tree, the later subscription's values.
    sub({ resource: 'alice', callId: '77', domain: 'unclaimed.example', version: 9 }),
    sub({ resource: '0', callId: 'b' }),
    sub({ resource: 'bob', domain: 'other.example' }),
  ];
  const listed = h.notifier.subs.filter((s) => s.domain !== 'other.example');
  const whole = await rawGet(h, token);
  t.equal(whole.status, 200);
  t.match(whole.type, /^application\/json; charset=utf-8$/);
  t.equal(whole.text, envelopeText(token, { subscriptions: treeBefore(listed) }));
  const dialog = await rawGet(h, token, '?event=dialog', 'req-2');
  t.equal(dialog.text, envelopeText(token, { subscriptions: treeBefore(listed.filter((s) => s.event === 'dialog')) }, 'req-2'));
  h.notifier.subs = [];
  t.equal((await rawGet(h, token)).text, envelopeText(token, { subscriptions: {} }), 'an empty list');
});

t.test('the same on random sets of subscriptions (resources, events and Call-IDs that look like numbers or not)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const name = fc.oneof(fc.constantFrom('0', '7', '10', '1001', '4294967295', '01', '*3101', 'alice', 'x"y', 'é'), fc.nat({ max: 3000 }).map(String));
  const record = fc.record({
    resource: name,
    callId: name,
    event: fc.constantFrom('dialog', 'presence', 'message-summary'),
    version: fc.nat({ max: 1000 }),
    body: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(record, { maxLength: 60 }), async (specs) => {
      h.notifier.subs = specs.map((s) =>
        sub({ resource: s.resource, callId: s.callId, event: s.event, version: s.version, lastNotify: s.body === null ? null : { cseq: 1, reply: 200, body: s.body } }),
      );
      const res = await rawGet(h, token);
      return res.text === envelopeText(token, { subscriptions: treeBefore(h.notifier.subs) });
    }),
    { numRuns: 40 },
  );
  t.pass('identical on every set');
});

t.test('a resource or Call-ID named __proto__ is listed like any other (the tree object hid it)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  h.notifier.subs = [sub({ resource: '__proto__', callId: 'c1' }), sub({ resource: '1001', callId: '__proto__' })];
  const res = await rawGet(h, token);
  t.equal(res.status, 200);
  const data = JSON.parse(res.text).data.subscriptions;
  t.ok(Object.hasOwn(data, '__proto__') && Object.hasOwn(data.__proto__.dialog, 'c1'), 'resource __proto__');
  t.ok(Object.hasOwn(data['1001'].dialog, '__proto__'), 'Call-ID __proto__');
  t.equal(({} as Record<string, unknown>).dialog, undefined, 'nothing reaches Object.prototype');
});

t.test('page_size bounds a page; next_start_key continues in order without loss or duplicates (Kazoo paging)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  h.notifier.subs = Array.from({ length: 25 }, (_, i) =>
    sub({ resource: ['1001', '1002', 'alice', '*3101', '200'][i % 5]!, event: i % 3 === 0 ? 'presence' : 'dialog' }),
  );
  const sorted = [...h.notifier.subs].sort(pagedOrder).map((s) => s.id);
  const seen: string[] = [];
  const sizes: number[] = [];
  let query = '?page_size=7';
  for (let i = 0; i < 10; i++) {
    const p = await page(h, token, query);
    seen.push(...[...p.ids].sort((a, b) => sorted.indexOf(a) - sorted.indexOf(b)));
    sizes.push(p.json.page_size);
    t.equal(p.ids.length, p.json.page_size, 'page_size in the envelope is the number of subscriptions in the page');
    if (i > 0) t.equal(p.json.start_key, query.split('start_key=')[1], 'start_key echoed');
    const dataText = p.text.slice('{"auth_token":'.length + JSON.stringify(token).length + ',"data":'.length, p.text.lastIndexOf(p.nextKey ? ',"next_start_key":' : ',"page_size":'));
    t.equal(p.json.revision, md5(dataText), 'revision is the digest of the data as sent');
    if (p.nextKey === undefined) break;
    t.match(p.nextKey, /^[A-Za-z0-9_-]+$/, 'an opaque key');
    query = `?page_size=7&start_key=${p.nextKey}`;
  }
  t.same(sizes, [7, 7, 7, 4]);
  t.same(seen, sorted, 'every subscription once, in the paged order (resource, event, subscription)');
  const first = await page(h, token, '?page_size=7');
  t.same(Object.keys(first.json).sort(), ['auth_token', 'data', 'next_start_key', 'page_size', 'request_id', 'revision', 'status']);
  const all = await page(h, token, '?page_size=25');
  t.equal(all.nextKey, undefined, 'no next_start_key when nothing remains');
  t.equal(all.ids.length, 25);
});

t.test('a removal (and additions) between pages: every subscription that stayed is listed once', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  h.notifier.subs = Array.from({ length: 30 }, (_, i) => sub({ resource: `${1000 + (i % 10)}` }));
  const p1 = await page(h, token, '?page_size=10');
  t.equal(p1.ids.length, 10);
  const sorted = [...h.notifier.subs].sort(pagedOrder);
  // Removed: the one the next page starts at, one already listed, one further on.
  const atKey = sorted[10]!;
  const removed = new Set([atKey.id, sorted[3]!.id, sorted[25]!.id]);
  const late = sub({ resource: '1009' });
  const early = sub({ resource: '0999' });
  h.notifier.subs = h.notifier.subs.filter((s) => !removed.has(s.id)).concat(late, early);
  const seen = [...p1.ids];
  let key = p1.nextKey;
  while (key !== undefined) {
    const p = await page(h, token, `?page_size=10&start_key=${key}`);
    seen.push(...p.ids);
    key = p.nextKey;
  }
  t.equal(new Set(seen).size, seen.length, 'no duplicates');
  const stayed = sorted.filter((s) => !removed.has(s.id) || p1.ids.includes(s.id)).map((s) => s.id);
  t.same([...seen].sort(), [...stayed, late.id].sort(), 'each that stayed, and the one added after the key; nothing removed ahead');
  t.notOk(seen.includes(early.id), 'one added before the key belongs to pages already read');
});

t.test('start_key alone lists everything from the key on; ?event= applies to pages too', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  h.notifier.subs = Array.from({ length: 12 }, (_, i) => sub({ resource: `${2000 + i}`, event: i % 2 ? 'presence' : 'dialog' }));
  const p1 = await page(h, token, '?page_size=4');
  const rest = await page(h, token, `?start_key=${p1.nextKey}`);
  t.equal(rest.ids.length, 8);
  t.equal(rest.nextKey, undefined);
  t.equal(rest.json.page_size, 8);
  t.equal(rest.json.start_key, p1.nextKey);
  const dialogs = await page(h, token, '?event=dialog&page_size=100');
  t.equal(dialogs.ids.length, 6);
  t.ok(Object.values(dialogs.json.data.subscriptions).every((byEvent: any) => Object.keys(byEvent).join() === 'dialog'));
});

t.test('a bad page_size or start_key is a validation error (400) naming the parameter (api-contract.md)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const sizeError = (rule: string, target: string) => ({ page_size: { [rule]: { message: 'Value must be an integer from 1 to 10000', target } } });
  const cases: [string, unknown][] = [
    ['?page_size=0', sizeError('minimum', '1')],
    ['?page_size=-3', sizeError('minimum', '1')],
    ['?page_size=10001', sizeError('maximum', '10000')],
    ['?page_size=abc', sizeError('type', 'integer')],
    ['?page_size=1.5', sizeError('type', 'integer')],
    ['?page_size=', sizeError('type', 'integer')],
    ['?page_size=1&page_size=2', sizeError('type', 'integer')],
    ...['', 'not%20a%20key', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('["a","b"]').toString('base64url'), 'AAAA'].map(
      (key): [string, unknown] => [
        `?start_key=${key}`,
        { start_key: { invalid: { message: 'Value must be a next_start_key of an earlier page', target: 'next_start_key' } } },
      ],
    ),
  ];
  for (const [query, data] of cases) {
    const res = await h.request('GET', `/v2/accounts/${h.masterId}/presence${query}`, { token });
    t.equal(res.status, 400, query);
    t.equal(res.json.message, 'validation error', query);
    t.strictSame(res.json.data, data, query);
  }
});

/** Subscriptions whose NOTIFY body counts its renders (as the live records' SentNotify renders on read). */
function countingSubs(count: number, onRender: () => void): SubscriptionRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const rec = sub({ resource: `${3000 + (i % 50)}` });
    rec.lastNotify = {
      cseq: 1,
      reply: 200,
      get body() {
        onRender();
        return `<dialog-info version="${i}"/>`;
      },
    };
    return rec;
  });
}

t.test('a NOTIFY body is rendered only for an entry written: once per listed subscription, none outside the page', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  let renders = 0;
  h.notifier.subs = countingSubs(300, () => renders++);
  await page(h, token, '?page_size=5');
  t.equal(renders, 5, 'a page of 5 renders 5 bodies');
  renders = 0;
  const whole = await rawGet(h, token);
  t.equal(whole.status, 200);
  t.equal(renders, 300, 'the whole list renders each body once');
});

t.test('the list gives the event loop back while it works: its renders are spread over many turns', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const loop = countLoopTurns();
  const turns = new Set<number>();
  // 2,000 renders of 0.1 ms each: 200 ms of work, which used to run in one turn.
  h.notifier.subs = countingSubs(2000, () => {
    turns.add(loop.turn);
    const until = performance.now() + 0.1;
    while (performance.now() < until);
  });
  const res = await rawGet(h, token);
  loop.stop();
  t.equal(res.status, 200);
  t.ok(turns.size >= 10, `renders ran in ${turns.size} turns of the event loop`);
});

t.test('a client that goes away stops the work of its list', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  let renders = 0;
  h.notifier.subs = countingSubs(20000, () => renders++);
  await new Promise<void>((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: h.port, path: `/v2/accounts/${h.masterId}/presence`, headers: { 'X-Auth-Token': token }, agent: false },
      (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      },
    );
    req.on('error', (err) => (err.message.includes('aborted') || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
  });
  // Let the server see the close, then check that rendering stopped well short of the end.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  const after = renders;
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  t.equal(renders, after, 'no more renders once the connection is gone');
  t.ok(renders < 20000, `${renders} of 20000 rendered`);
});
