import { createSocket } from 'node:dgram';
import t from 'tap';
import { createPresenceFeed, type PresenceEvent } from '../../src/feed/presence-feed.js';
import { ManualClock, SystemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import type { SipRequest, SipResponse } from '../../src/sip/message/message.js';
import { createResponse } from '../../src/sip/message/response-factory.js';
import type { ClientResult } from '../../src/sip/transaction/non-invite-client-transaction.js';
import { TCP, UDP } from '../../src/sip/transport/transport-descriptor.js';
import { createPresenceStack, socketListeners } from '../../src/stack/index.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { StoreError } from '../../src/store/store-error.js';
import type { NotifyChannel } from '../../src/subscriptions/notifier.js';
import { LoopNetwork } from '../support/loop-transport.js';
import { buildPublish, buildSubscribe, TEST_FLOW } from '../support/sip-builders.js';
import { UdpPeer, optionsRequest, statusCodes } from '../support/sip-client.js';
import { subscribeBytes } from '../subscriptions/helpers/notifier-harness.js';

/** What a stack answered, taken from the sink `receive` is given. */
function sink(): { responses: SipResponse[]; respond(res: SipResponse): void } {
  const responses: SipResponse[] = [];
  return { responses, respond: (res) => void responses.push(res) };
}

/** A stand-in network that answers every NOTIFY 200 at once and keeps them. */
function answeringChannel(): NotifyChannel & { notifies: SipRequest[] } {
  const notifies: SipRequest[] = [];
  return {
    notifies,
    request: (req) => {
      notifies.push(req);
      return Promise.resolve({ kind: 'response', response: createResponse(req, 200), flow: TEST_FLOW });
    },
  };
}

/** The system clock's timers are unref'd (in the server its sockets keep the process alive): hold it open meanwhile. */
async function holdingOpen(run: () => Promise<void>): Promise<void> {
  const alive = setInterval(() => {}, 1000);
  try {
    await run();
  } finally {
    clearInterval(alive);
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((res) => setImmediate(res));
};

t.test('an in-process stack needs no options: a memory store, the three event packages, a feed, no network', async (t) => {
  const stack = createPresenceStack();
  t.teardown(() => stack.dispose());
  t.same(stack.registry.names(), ['dialog', 'presence', 'message-summary']);
  t.equal(stack.transactions, undefined, 'no transports, no transaction layer');
  t.ok(stack.store instanceof MemoryStore);
  const events: PresenceEvent[] = [];
  stack.feed.subscribe((e) => void events.push(e));
  const out = sink();
  stack.receive(buildSubscribe({ target: '1001@example.com', expires: 600 }), TEST_FLOW, out);
  await settle();
  t.same(out.responses.map((r) => r.status), [200], 'the store\'s (empty) accounts serve every domain by default');
  const answer = events.find((e) => e.kind === 'notify-answered');
  t.same(answer?.kind === 'notify-answered' ? answer.answer : undefined, { ok: false, failure: 'transport-error' }, 'without a network the NOTIFY fails as a transport error');
});

t.test('a given channel carries the NOTIFYs, and requests enter through receive as the transaction layer would hand them up', async (t) => {
  const channel = answeringChannel();
  const stack = createPresenceStack({ channel, nodeName: 'node-x' });
  t.teardown(() => stack.dispose());
  const out = sink();
  stack.receive(buildSubscribe({ target: '1001@example.com', expires: 600 }), TEST_FLOW, out);
  await settle();
  t.same(out.responses.map((r) => r.status), [200]);
  t.equal(channel.notifies.length, 1, 'the first NOTIFY went through the channel (RFC 6665 §4.2.1.2)');
  t.equal(stack.notifier.list('example.com')[0]?.node, 'node-x', 'settings reach the notifier');
});

t.test('one feed for the stack: a given feed hears the presentity\'s changes and the notifier\'s subscription events', async (t) => {
  const feed = createPresenceFeed({ logger: silentLogger });
  const stack = createPresenceStack({ feed, channel: answeringChannel() });
  t.teardown(() => stack.dispose());
  t.equal(stack.feed, feed);
  const kinds: string[] = [];
  feed.subscribe((e) => void kinds.push(e.kind));
  stack.receive(buildSubscribe({ target: '1001@example.com', expires: 600 }), TEST_FLOW, sink());
  stack.presentity.setManualState('1001@example.com', 'early');
  await settle();
  t.same(kinds.slice(0, 4), ['subscription-created', 'notify-sent', 'resource-changed', 'notify-answered']);
});

t.test('each PUBLISH answer is told with its Event package, an unknown package as "other" so labels stay bounded', async (t) => {
  const told: [string, number][] = [];
  const stack = createPresenceStack({ channel: answeringChannel(), onPublishAnswered: (event, status) => void told.push([event, status]) });
  t.teardown(() => stack.dispose());
  const body = '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@example.com"><tuple id="t"><status><basic>open</basic></status></tuple></presence>';
  stack.receive(buildPublish({ target: '1001@example.com', event: 'presence', contentType: 'application/pidf+xml', body, expires: 600 }), TEST_FLOW, sink());
  stack.receive(buildPublish({ target: '1001@example.com', event: 'x-secret-123', contentType: 'text/plain', body: 'x' }), TEST_FLOW, sink());
  t.same(told, [
    ['presence', 200],
    ['other', 489],
  ]);
});

t.test('after stopAccepting new requests go unanswered (the peer retransmits to the next start) but are still told as arrived', async (t) => {
  const clock = new ManualClock();
  const net = new LoopNetwork(clock);
  const server = net.endpoint('10.0.0.1', 5060);
  const phone = net.endpoint('192.0.2.10', 5062);
  let arrived = 0;
  const stack = createPresenceStack({ clock, transports: { udp: server, tcp: server }, onRequestArrived: () => void arrived++ });
  t.teardown(() => stack.dispose());
  const answers: number[] = [];
  phone.onMessage((msg) => {
    if (!msg.isRequest()) answers.push((msg as SipResponse).status);
  });
  await phone.send(subscribeBytes({ domain: 'example.com' }, 'udp'), phone.flowTo(server, 'udp'));
  clock.advance(0);
  await settle();
  t.same(answers, [200]);
  stack.stopAccepting();
  await phone.send(subscribeBytes({ domain: 'example.com' }, 'udp'), phone.flowTo(server, 'udp'));
  clock.advance(0);
  await settle();
  t.same(answers, [200], 'no answer after stopAccepting');
  t.equal(arrived, 2);
});

t.test('a clean stop waits for the NOTIFY in flight, writes the exact CSeq, and closes its own store but not a given one', async (t) => {
  const clock = new SystemClock();
  // Holds the NOTIFY's answer until the test releases it.
  let pending: { req: SipRequest; answer: (r: ClientResult) => void } | undefined;
  const held: NotifyChannel = { request: (req) => new Promise((answer) => (pending = { req, answer })) };
  const store = new MemoryStore();
  const stack = createPresenceStack({ clock, store, channel: answeringChannel() });
  stack.receive(buildSubscribe({ target: '1001@example.com', expires: 600 }), TEST_FLOW, sink());
  await settle();
  for (const state of ['early', 'confirmed', 'terminated'] as const) {
    stack.presentity.setManualState('1001@example.com', state);
    await settle();
  }
  const live = stack.notifier.list('example.com')[0]!;
  t.not((await store.subscriptions.get(live.id))?.localCseq, live.localCseq, 'the store is behind (written every SEQUENCE_LEASE NOTIFYs)');
  await stack.stop({ drainMs: 5000 });
  t.equal((await store.subscriptions.get(live.id))?.localCseq, live.localCseq, 'the exact CSeq is written at stop');
  await t.resolves(store.subscriptions.count(), 'a given store is the caller\'s to close');

  const own = createPresenceStack({ clock, channel: held });
  own.receive(buildSubscribe({ target: '1001@example.com', expires: 600 }), TEST_FLOW, sink());
  await settle();
  t.equal(own.notifier.inFlight, 1, 'the first NOTIFY waits for its answer');
  const started = Date.now();
  setTimeout(() => pending!.answer({ kind: 'response', response: createResponse(pending!.req, 200), flow: TEST_FLOW }), 150);
  await holdingOpen(() => own.stop({ drainMs: 5000 }));
  t.ok(Date.now() - started >= 100, 'stop waited for the answer');
  await t.rejects(own.store.subscriptions.count(), StoreError, 'the stack closed the store it made');
});

t.test('a clean stop gives up on an unanswered NOTIFY after drainMs', async (t) => {
  const stack = createPresenceStack({ clock: new SystemClock(), channel: { request: () => new Promise(() => {}) } });
  stack.receive(buildSubscribe({ target: '1001@example.com', expires: 600 }), TEST_FLOW, sink());
  await settle();
  const started = Date.now();
  await holdingOpen(() => stack.stop({ drainMs: 200 }));
  const took = Date.now() - started;
  t.ok(took >= 150 && took < 2000, `stopped after ${took} ms`);
});

t.test('socket listeners: UDP and TCP on one port, started by the stack, answering OPTIONS (RFC 3261 §11), closed by stop', async (t) => {
  const clock = new SystemClock();
  const stack = createPresenceStack({ clock, transports: socketListeners({ hosts: ['127.0.0.1'], port: 0, clock, logger: silentLogger }) });
  await stack.start();
  const port = stack.portOf(UDP)!;
  t.ok(port > 0);
  t.equal(stack.portOf(TCP), port, 'one port for both');
  t.same(stack.transports!.transports, [UDP, TCP]);
  const peer = await UdpPeer.open();
  t.teardown(() => peer.close());
  await peer.send(optionsRequest({ transport: 'UDP', port: peer.port }), port);
  const got = await peer.waitFor(1, 3000);
  t.same(got.map((b) => statusCodes(b.toString())[0]), [200]);
  await stack.stop({ drainMs: 0 });
  await peer.send(optionsRequest({ transport: 'UDP', port: peer.port }), port);
  await peer.waitFor(2, 300);
  t.equal(peer.received.length, 1, 'nothing answers after stop');
});

t.test('a start that cannot bind rejects with the socket error, and abort cleans up without throwing', async (t) => {
  const taken = createSocket('udp4');
  await new Promise<void>((res) => taken.bind(0, '127.0.0.1', () => res()));
  t.teardown(() => new Promise<void>((res) => taken.close(() => res())));
  const clock = new SystemClock();
  const port = taken.address().port;
  const stack = createPresenceStack({ clock, transports: socketListeners({ hosts: ['127.0.0.1'], port, clock, logger: silentLogger }) });
  await t.rejects(stack.start(), { code: 'EADDRINUSE' });
  await t.resolves(stack.abort());
});
