import net from 'node:net';
import t from 'tap';
import { buildPublish } from '../support/sip-builders.js';
import { DOMAIN } from '../subscriptions/helpers/notifier-harness.js';
import { dialogInfo } from '../presentity/helpers/harness.js';
import { operatorHarness } from './helpers/operator-harness.js';

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

t.test('a slow reader is cut when 256 KiB still wait unread at its next event; SIP goes on and other streams too', async (t) => {
  const h = await operatorHarness(t);
  // 20,000 extensions with a manual state: a snapshot of about 3 MB, more than the socket buffers take.
  for (let i = 0; i < 20_000; i++) h.sip.presentity.setManualState(`${10000 + i}@${DOMAIN}`, 'early');
  await h.sip.tick();
  const socket = net.connect(h.api.port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.pause(); // never reads
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  socket.write(`GET /v2/accounts/${h.account}/presence/stream HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${h.token}\r\n\r\n`);
  const cut = (): boolean => h.logs.some((l) => l.msg === 'live stream client too slow: cut');
  // The snapshot is written whatever its size; the next event finds it still unread, and the client is cut.
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(cut(), 'not cut for the snapshot alone');
  const deadline = Date.now() + 5000;
  for (let i = 0; !cut() && Date.now() < deadline; i++) {
    h.sip.presentity.setManualState(`1001@${DOMAIN}`, i % 2 ? 'early' : 'confirmed');
    await h.sip.tick(150);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(h.logs.some((l) => l.msg === 'live stream client too slow: cut'), 'the server cut the client');
  socket.resume();
  await closed;
  t.pass('the connection is closed');
  // The SIP side answered all along, and a reader that reads gets the whole snapshot.
  const res = await h.sip.publish(
    buildPublish({ target: `1001@${DOMAIN}`, event: 'dialog', contentType: 'application/dialog-info+xml', body: dialogInfo([{ id: 'x', state: 'confirmed' }]), expires: 60 }),
  );
  t.equal(res.last.status, 200);
  const s = await h.stream();
  const snap = await s.waitFor((e) => e.event === 'snapshot', 10_000);
  t.equal(data(snap).extensions.length, 20_001, 'a reader that reads takes a 3 MB snapshot');
});

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
