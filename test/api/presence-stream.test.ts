import t from 'tap';
import { buildPublish } from '../support/sip-builders.js';
import { DOMAIN } from '../subscriptions/helpers/notifier-harness.js';
import { dialogInfo } from '../presentity/helpers/harness.js';
import { operatorHarness } from './helpers/operator-harness.js';
import type { SseEvent } from '../../src/cli/sse-reader.js';

// The live stream (issue 23, docs/operator-api.md): Server-Sent Events (WHATWG HTML §9.2) with a snapshot, changes,
// a heartbeat; a slow reader is cut, never waited for; a shutdown ends open streams instead of hanging on them.

const data = (e: { data: string }): any => JSON.parse(e.data);

t.test('snapshot of every extension with state and watchers, then a lamp event after a PUBLISH', async (t) => {
  const h = await operatorHarness(t);
  await h.sip.subscribe({ user: '1001', fromUser: '2001' });
  await h.sip.subscribe({ user: '1001', fromUser: '2002' });
  await h.sip.subscribe({ user: '1002', fromUser: '2001', event: 'presence' });
  h.sip.presentity.setManualState(`1003@${DOMAIN}`, 'confirmed');
  await h.sip.tick();
  const s = await h.stream();
  const snap = await s.waitFor((e) => e.event === 'snapshot');
  t.match(s.raw.join(''), /^retry: 1000\n\n/, 'the first line sets the reconnection delay');
  t.equal(snap.id, '1');
  t.strictSame(data(snap).extensions, [
    { extension: '1001', state: 'terminated', manual: null, watchers: 2, watchers_by_event: { dialog: 2 }, failing: 0, domains: [DOMAIN] },
    { extension: '1002', state: 'terminated', manual: null, watchers: 1, watchers_by_event: { presence: 1 }, failing: 0, domains: [DOMAIN] },
    { extension: '1003', state: 'confirmed', manual: 'confirmed', watchers: 0, watchers_by_event: {}, failing: 0, domains: [DOMAIN] },
  ]);

  const incoming = await h.sip.publish(
    buildPublish({ target: `1001@${DOMAIN}`, event: 'dialog', contentType: 'application/dialog-info+xml', body: dialogInfo([{ id: 'd1', state: 'early' }]), expires: 60 }),
  );
  t.equal(incoming.last.status, 200);
  await h.sip.tick(150); // the coalescing window
  const lamp = await s.waitFor((e) => e.event === 'lamp');
  t.equal(lamp.id, '2', 'ids rise within the connection');
  t.strictSame(data(lamp).extensions, [
    { extension: '1001', state: 'early', manual: null, watchers: 2, watchers_by_event: { dialog: 2 }, failing: 0, domains: [DOMAIN] },
  ]);

  // A new watcher changes the count; ?event= counts one package only.
  const dialogOnly = await h.stream('?event=presence');
  const snap2 = await dialogOnly.waitFor((e) => e.event === 'snapshot');
  t.match(data(snap2).extensions.find((x: any) => x.extension === '1001'), { watchers: 0, watchers_by_event: {} });
  await h.sip.subscribe({ user: '1001', fromUser: '2003' });
  await h.sip.tick(150);
  const lamp2 = await s.waitFor((e) => e.event === 'lamp' && data(e).extensions[0].watchers === 3);
  t.equal(data(lamp2).extensions[0].state, 'early');
});

t.test('an extension first seen while a stream is open reaches it as a lamp; a reset clears its manual mark', async (t) => {
  const h = await operatorHarness(t);
  const s = await h.stream();
  t.strictSame(data(await s.waitFor((e) => e.event === 'snapshot')).extensions, [], 'nothing yet');
  // Published and set by hand with no watcher: the stream's index learns of both from the events alone.
  const res = await h.sip.publish(
    buildPublish({ target: `1501@${DOMAIN}`, event: 'dialog', contentType: 'application/dialog-info+xml', body: dialogInfo([{ id: 'n1', state: 'confirmed' }]), expires: 60 }),
  );
  t.equal(res.last.status, 200);
  h.sip.presentity.setManualState(`1502@${DOMAIN}`, 'early');
  await h.sip.tick();
  await h.sip.tick(150);
  const lamp = await s.waitFor((e) => e.event === 'lamp');
  t.strictSame(data(lamp).extensions, [
    { extension: '1501', state: 'confirmed', manual: null, watchers: 0, watchers_by_event: {}, failing: 0, domains: [DOMAIN] },
    { extension: '1502', state: 'early', manual: 'early', watchers: 0, watchers_by_event: {}, failing: 0, domains: [DOMAIN] },
  ]);
  // A later stream's snapshot has them too: the index was brought up to date at that flush.
  const later = await h.stream();
  t.strictSame(data(await later.waitFor((e) => e.event === 'snapshot')).extensions.map((x: any) => x.extension), ['1501', '1502']);

  h.sip.presentity.reset(`1502@${DOMAIN}`);
  await h.sip.tick();
  await h.sip.tick(150);
  const cleared = await s.waitFor((e) => e.event === 'lamp' && data(e).extensions.some((x: any) => x.extension === '1502' && x.manual === null));
  t.match(data(cleared).extensions.find((x: any) => x.extension === '1502'), { state: 'terminated', manual: null, watchers: 0 });
});

t.test('under load lamp events come further apart: after one with busyLamps extensions the next gathers busyCoalesceMs, then coalesceMs again once quiet (docs/operator-api.md)', async (t) => {
  const h = await operatorHarness(t, { coalesceMs: 150, busyCoalesceMs: 500, busyLamps: 3 });
  const s = await h.stream();
  await s.waitFor((e) => e.event === 'snapshot');
  const lamps = (): SseEvent[] => s.events.filter((e) => e.event === 'lamp');
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 100));
  for (const ext of ['1601', '1602', '1603']) h.sip.presentity.setManualState(`${ext}@${DOMAIN}`, 'confirmed');
  await h.sip.tick();
  await h.sip.tick(150);
  const busy = await s.waitFor((e) => e.event === 'lamp');
  t.equal(data(busy).extensions.length, 3, 'a busy event: three extensions');

  h.sip.presentity.setManualState(`1604@${DOMAIN}`, 'early');
  await h.sip.tick();
  await h.sip.tick(150);
  await settle();
  t.equal(lamps().length, 1, 'after a busy event 150 ms is not enough');
  await h.sip.tick(350);
  const next = await s.waitFor((e) => e.event === 'lamp' && data(e).extensions[0].extension === '1604');
  t.equal(data(next).extensions.length, 1, 'the change arrives after 500 ms');

  h.sip.presentity.setManualState(`1605@${DOMAIN}`, 'early');
  await h.sip.tick();
  await h.sip.tick(150);
  const quiet = await s.waitFor((e) => e.event === 'lamp' && data(e).extensions[0].extension === '1605');
  t.ok(quiet, 'after a small event the next gathers 150 ms again');
});

t.test('heartbeat: a ": ping" comment every 15 s', async (t) => {
  const h = await operatorHarness(t);
  const s = await h.stream();
  await s.waitFor((e) => e.event === 'snapshot');
  t.notMatch(s.raw.join(''), /: ping/);
  await h.sip.tick(15_000);
  const deadline = Date.now() + 2000;
  while (!/: ping\n\n/.test(s.raw.join('')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.match(s.raw.join(''), /\n: ping\n\n/);
});

t.test('a revoked token ends the stream at the next heartbeat with event end {reason: unauthorized}', async (t) => {
  const h = await operatorHarness(t);
  const other = (await h.call('PUT', '/v2/api_auth', { data: { api_key: 'e'.repeat(64) } })).json.auth_token as string;
  const s = await h.stream('', other);
  await s.waitFor((e) => e.event === 'snapshot');
  t.equal((await h.call('DELETE', '/v2/token_auth', undefined, other)).status, 200);
  await h.sip.tick(15_000);
  const end = await s.waitFor((e) => e.event === 'end');
  t.strictSame(data(end), { reason: 'unauthorized' });
  await s.ended;
});

t.test('errors before the stream starts are JSON envelopes: 401 without a token, 400 for a bad ?event=', async (t) => {
  const h = await operatorHarness(t);
  const none = await h.call('GET', `/v2/accounts/${h.account}/presence/stream`);
  t.equal(none.status, 401);
  t.equal(none.json.message, 'invalid_credentials');
  const bad = await h.call('GET', `/v2/accounts/${h.account}/presence/stream?event=nope`, undefined, h.token);
  t.equal(bad.status, 400);
  t.equal(bad.json.status, 'error');
  const stream = await fetch(`${h.base}/v2/accounts/${h.account}/presence/stream`, { headers: { 'X-Auth-Token': h.token } });
  t.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  t.equal(stream.headers.get('cache-control'), 'no-store');
  await stream.body?.cancel();
});

t.test('a slow reader is cut when 256 KiB still wait unread at its next event; SIP and other streams go on', async (t) => {
  const h = await operatorHarness(t);
  await h.sip.subscribe({ user: '1001', fromUser: '2001' });
  // A response whose client reads nothing: what it was given stays in writableLength (as on a real socket whose
  // kernel buffers are full, which takes many MB on loopback).
  const slow = fakeResponse();
  h.hub.attach({
    req: { socket: { setNoDelay() {} } } as never,
    res: slow as never,
    scope: h.account,
    event: undefined,
    served: () => true,
    stillAuthorized: () => true,
  });
  const fast = await h.stream();
  await fast.waitFor((e) => e.event === 'snapshot');
  t.equal(h.hub.open, 2);
  slow.writableLength = 200 * 1024;
  h.sip.presentity.setManualState(`1001@${DOMAIN}`, 'early');
  await h.sip.tick();
  await h.sip.tick(150);
  t.notOk(slow.destroyed, 'below the bound: still served');
  t.match(slow.written.at(-1), /event: lamp/);
  slow.writableLength = 257 * 1024;
  const res = await h.sip.publish(
    buildPublish({ target: `1001@${DOMAIN}`, event: 'dialog', contentType: 'application/dialog-info+xml', body: dialogInfo([{ id: 'x', state: 'confirmed' }]), expires: 60 }),
  );
  t.equal(res.last.status, 200, 'the SIP side answers whatever the stream does');
  await h.sip.tick(150);
  t.ok(slow.destroyed, 'cut');
  t.equal(h.hub.open, 1, 'the other stream stays');
  t.ok(h.logs.some((l) => l.msg === 'live stream client too slow: cut'));
  const lamps = await fast.waitFor((e) => e.event === 'lamp' && e.data.includes('"manual":"early"'));
  t.ok(lamps, 'the reading client got the change');
});

/** A ServerResponse stand-in that keeps what is written and reports a settable unread length. */
function fakeResponse() {
  const listeners = new Map<string, (() => void)[]>();
  const res = {
    written: [] as string[],
    writableLength: 0,
    destroyed: false,
    writeHead() {
      return res;
    },
    write(chunk: string | Buffer) {
      res.written.push(chunk.toString());
      return true;
    },
    cork() {},
    uncork() {},
    end() {
      for (const l of listeners.get('close') ?? []) l();
    },
    destroy() {
      res.destroyed = true;
      for (const l of listeners.get('close') ?? []) l();
    },
    on(name: string, fn: () => void) {
      listeners.set(name, [...(listeners.get(name) ?? []), fn]);
      return res;
    },
  };
  return res;
}

t.test('shutdown: api.close() ends open streams with event end {reason: shutdown} and does not hang', async (t) => {
  const h = await operatorHarness(t);
  const a = await h.stream();
  const b = await h.stream();
  await a.waitFor((e) => e.event === 'snapshot');
  await b.waitFor((e) => e.event === 'snapshot');
  const started = Date.now();
  await h.closeApi();
  const took = Date.now() - started;
  t.ok(took < 2000, `closed in ${took} ms`);
  for (const s of [a, b]) {
    await s.ended;
    t.strictSame(data(s.events.at(-1)!), { reason: 'shutdown' });
    t.equal(s.events.at(-1)!.event, 'end');
  }
});
