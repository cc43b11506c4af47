/**
 * Where NOTIFYs go (issue 19 item 4, RFC 3261 §16, RFC 5626 flow reuse): on the flow the SUBSCRIBE came on; the route
 * set and the Contact only for a trusted peer (the policy's identity of kind `peer`).
 */
import t, { type Test } from 'tap';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createResponse } from '../../src/sip/message/response-factory.js';
import type { PresencePolicy } from '../../src/stack/index.js';
import { DOMAIN, NotifierHarness, PHONE_ADDRESS, PHONE_PORT, type HarnessOptions } from './helpers/notifier-harness.js';

const RESOURCE = `1001@${DOMAIN}`;
const ACCOUNT = 'a'.repeat(32);
/** Timer F = 64·T1 with T1 = 500 ms (RFC 3261 §17.1.2.2). */
const TIMER_F = 32_000;

/** A policy that says every request comes from a trusted peer (as the digest policy does for a listed PBX address). */
const TRUSTING: PresencePolicy = { authenticate: () => ({ ok: true, identity: { kind: 'peer', id: 'pbx', accountId: ACCOUNT } }) };
/** A policy that authenticates every request as a device: not a peer. */
const DEVICE: PresencePolicy = { authenticate: () => ({ ok: true, identity: { kind: 'device', id: 'dev', accountId: ACCOUNT } }) };

function setup(t: Test, opts: HarnessOptions = {}): NotifierHarness {
  const h = new NotifierHarness(opts);
  t.teardown(() => h.dispose());
  return h;
}

let flip = false;
async function change(h: NotifierHarness): Promise<void> {
  flip = !flip;
  h.presentity.setManualState(RESOURCE, flip ? 'early' : 'confirmed');
  await h.tick();
}

/** Every request that reached `address:port` on the loop network; each is answered 200, as a proxy relays the phone's. */
function listen(h: NotifierHarness, address: string, port: number): string[] {
  const got: string[] = [];
  const ep = h.net.endpoint(address, port);
  ep.onMessage((msg, flow) => {
    if (!msg.isRequest()) return;
    got.push(`${msg.method} ${msg.uri}`);
    void ep.send(createResponse(msg, 200), flow);
  });
  return got;
}

for (const [name, policy] of [['no policy', undefined], ['an authenticated device', DEVICE]] as const) {
  t.test(`Record-Route is ignored for an untrusted watcher (${name}): the NOTIFY goes back on its flow, without Route headers (RFC 3261 §16, issue 19)`, async (t) => {
    const h = setup(t, policy ? { policy } : {});
    const victim = listen(h, '10.0.0.9', 5060);
    await h.subscribe({ recordRoute: ['<sip:10.0.0.9;lr>', '<sip:edge.example.com;lr>'] });
    t.same(victim, [], 'nothing sent to the Record-Route address');
    t.equal(h.notifies.length, 1, 'the phone got its NOTIFY');
    t.same(h.notifies[0]!.headers.getAll('route'), [], 'no Route header naming a third party');
    t.equal(h.notifies[0]!.uri, `sip:2001@${PHONE_ADDRESS}:${PHONE_PORT}`, 'the Request-URI is its Contact (RFC 3261 §12.2.1.1)');
    t.equal(h.record()!.flow.trustedPeer, undefined, 'the record is not marked trusted');
  });
}

t.test('Record-Route is honoured for a trusted peer: Route headers and the first Route as destination (RFC 3261 §12.2.1.1)', async (t) => {
  const h = setup(t, { policy: TRUSTING });
  const proxy = listen(h, '10.0.0.9', 5060);
  await h.subscribe({ recordRoute: ['<sip:10.0.0.9;lr>'] });
  t.same(proxy, [`NOTIFY sip:2001@${PHONE_ADDRESS}:${PHONE_PORT}`]);
  t.equal(h.notifies.length, 0, 'not sent to the phone directly');
  t.equal(h.record()!.flow.trustedPeer, true);
});

t.test('a Contact elsewhere is never where an untrusted UDP watcher\'s NOTIFY goes: the SUBSCRIBE\'s source address and port (RFC 3581, issue 19)', async (t) => {
  const h = setup(t);
  const victim = listen(h, '10.0.0.9', 5099);
  await h.subscribe({ contact: '<sip:2001@10.0.0.9:5099>' });
  t.same(victim, []);
  t.equal(h.notifies.length, 1, 'to the source');
  t.equal(h.server.sent.at(-1)!.flow.remoteAddress, PHONE_ADDRESS);
  t.equal(h.server.sent.at(-1)!.flow.remotePort, PHONE_PORT);
});

t.test('over TCP an untrusted watcher\'s Contact is not dialled when its connection is gone; the subscription waits for its refresh (RFC 5626 §4.2, issue 19)', async (t) => {
  const h = setup(t, { protocol: 'tcp' });
  const victim = listen(h, '10.0.0.9', 5099);
  const d = await h.subscribe({ contact: '<sip:2001@10.0.0.9:5099;transport=tcp>' });
  t.equal(h.notifies.length, 1);
  h.closeConnection();
  const sendsBefore = h.server.sent.length;
  await change(h);
  await h.tick(TIMER_F);
  t.same(victim, [], 'the Contact was not dialled');
  t.ok(h.server.sent.slice(sendsBefore).every((s) => s.fault === 'fail'), 'only the attempt on the closed connection');
  t.equal(h.notifier.count(), 1, 'the subscription is kept');
  t.equal(h.record()!.strikes, 0, 'no strike: nothing was lost, nothing could be sent');
  await change(h);
  t.equal(h.notifier.count(), 1, 'nor after another change');
  h.reconnect();
  const res = await h.resubscribe(d);
  t.equal(res.status, 200, 'the refresh on a new connection is taken');
  t.equal(h.notifies.length, 2, 'and brings the full state at once');
  await change(h);
  t.equal(h.notifies.length, 3, 'NOTIFYs follow on the new connection');
  t.same(victim, []);
});

t.test('an untrusted TCP watcher whose connection is gone lapses at its expiry (RFC 6665 §4.2.2)', async (t) => {
  const h = setup(t, { protocol: 'tcp' });
  await h.subscribe({ expires: 60 });
  h.closeConnection();
  await change(h);
  t.equal(h.notifier.count(), 1);
  await h.tick(61_000);
  await h.tick(1_000);
  t.equal(h.notifier.count(), 0, 'expired');
  t.same(h.removed.map((r) => r.reason), ['expired']);
});

t.test('trust is decided on every SUBSCRIBE: a refresh from an untrusted source drops the route set (issue 19)', async (t) => {
  let trusted = true;
  const h = setup(t, {
    policy: {
      authenticate: () => ({ ok: true, ...(trusted ? { identity: { kind: 'peer' as const, id: 'pbx', accountId: ACCOUNT } } : {}) }),
    },
  });
  const proxy = listen(h, '10.0.0.9', 5060);
  const d = await h.subscribe({ recordRoute: ['<sip:10.0.0.9;lr>'] });
  t.equal(proxy.length, 1);
  trusted = false;
  await h.resubscribe(d);
  t.equal(proxy.length, 1, 'the refresh NOTIFY did not follow the route set');
  t.equal(h.notifies.length, 1, 'it went back on the refresh\'s own flow');
});

t.test('a restored subscription whose TCP connection is gone is not dialled unless it came from a trusted peer (issue 19)', async (t) => {
  for (const [name, policy, dialled] of [['untrusted', undefined, false], ['trusted peer', TRUSTING, true]] as const) {
    const store = new MemoryStore();
    const clock = new ManualClock();
    const before = new NotifierHarness({ store, clock, protocol: 'tcp', ...(policy ? { policy } : {}) });
    await before.subscribe({ contact: '<sip:2001@10.0.0.9:5099;transport=tcp>' });
    before.notifier.checkpoint();
    before.dispose();

    const after = new NotifierHarness({ store, clock, protocol: 'tcp' });
    t.teardown(() => after.dispose());
    const contact = listen(after, '10.0.0.9', 5099);
    await after.notifier.restore();
    // Connection ids start again after a restart: a kept id would name another peer's new connection.
    t.equal(after.record()!.flow.connectionId, null, `${name}: the stored connection id is not kept`);
    await change(after);
    t.equal(contact.length, dialled ? 1 : 0, `${name}: Contact ${dialled ? 'dialled' : 'not dialled'}`);
    t.equal(after.notifier.count(), 1, `${name}: kept`);
  }
});
