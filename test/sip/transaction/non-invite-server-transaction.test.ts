import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { createResponse } from '../../../src/sip/message/response-factory.js';
import type { ServerTransaction } from '../../../src/sip/transaction/server-transaction.js';
import { TransactionLayer } from '../../../src/sip/transaction/transaction-layer.js';
import type { TransportName } from '../../../src/sip/transport/transport-descriptor.js';
import { LoopNetwork, type LoopTransport } from '../../support/loop-transport.js';

interface ReqOpts {
  method?: string;
  branch?: string | null;
  sentBy?: string;
  cseq?: number;
  transport?: string;
  callId?: string;
}

function request(o: ReqOpts = {}): Buffer {
  const method = o.method ?? 'SUBSCRIBE';
  const branch = o.branch === null ? '' : `;branch=${o.branch ?? 'z9hG4bKabc123'}`;
  return Buffer.from(
    [
      `${method} sip:1001@example.com SIP/2.0`,
      `Via: SIP/2.0/${o.transport ?? 'UDP'} ${o.sentBy ?? '192.168.1.20:5062'}${branch};rport`,
      'Max-Forwards: 70',
      'From: <sip:2001@example.com>;tag=from1',
      'To: <sip:1001@example.com>',
      `Call-ID: ${o.callId ?? 'call-1@192.168.1.20'}`,
      `CSeq: ${o.cseq ?? 1} ${method}`,
      'Event: dialog',
      'Expires: 3600',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

interface Rig {
  clock: ManualClock;
  server: LoopTransport;
  phone: LoopTransport;
  layer: TransactionLayer;
  requests: { req: SipRequest; tx: ServerTransaction }[];
  sendFromPhone(bytes: Buffer, protocol?: TransportName, connectionId?: number): void;
}

function rig(): Rig {
  const clock = new ManualClock(0);
  const net = new LoopNetwork(clock);
  const server = net.endpoint('10.0.0.1', 5060);
  const phone = net.endpoint('192.168.1.20', 5062);
  const layer = new TransactionLayer(server, { clock, logger: silentLogger });
  const requests: Rig['requests'] = [];
  layer.onRequest((req, tx) => requests.push({ req, tx }));
  const tcpFlow = phone.flowTo(server, 'tcp');
  return {
    clock,
    server,
    phone,
    layer,
    requests,
    sendFromPhone(bytes, protocol = 'udp') {
      void phone.send(bytes, protocol === 'tcp' ? tcpFlow : phone.flowTo(server, 'udp'));
      clock.advance(0);
    },
  };
}

t.test('a retransmitted request is absorbed and answered with the identical last response (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  t.equal(r.requests.length, 1);
  const { req, tx } = r.requests[0]!;
  t.equal(await tx.respond(createResponse(req, 200, undefined, { toTag: 'srv1' })), true);
  r.clock.advance(0);
  r.clock.advance(1000);
  r.sendFromPhone(request());
  t.equal(r.requests.length, 1, 'the handler does not see the retransmission');
  t.equal(r.server.sent.length, 2, 'the response was sent again');
  t.ok(r.server.sent[0]!.bytes.equals(r.server.sent[1]!.bytes), 'byte for byte the same response');
  t.equal(r.phone.received.length, 2);
  t.equal(r.phone.received[1]!.msg.isRequest(), false);
  t.equal(r.layer.stats.responseRetransmissions, 1);
  t.equal(r.layer.retransmissionsSent, 1);
});

t.test('a retransmission in Trying is absorbed without any response (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  r.sendFromPhone(request());
  r.sendFromPhone(request());
  t.equal(r.requests.length, 1);
  t.equal(r.server.sent.length, 0);
  t.equal(r.layer.stats.requestsAbsorbed, 2);
});

t.test('in Proceeding a retransmission gets the last provisional response again (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  const { req, tx } = r.requests[0]!;
  await tx.respond(createResponse(req, 100));
  r.sendFromPhone(request());
  t.equal(r.server.sent.length, 2);
  t.match(r.server.sent[1]!.bytes.toString(), /^SIP\/2\.0 100 /);
  await tx.respond(createResponse(req, 202, undefined, { toTag: 'x' }));
  r.sendFromPhone(request());
  t.equal(r.server.sent.length, 4);
  t.match(r.server.sent[3]!.bytes.toString(), /^SIP\/2\.0 202 /);
});

t.test('Timer J keeps a completed UDP transaction for 64*T1, then a retransmission is a new request (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  await r.requests[0]!.tx.respond(createResponse(r.requests[0]!.req, 200, undefined, { toTag: 'a' }));
  t.equal(r.layer.serverTransactionCount, 1);
  r.clock.advance(31_999);
  t.equal(r.layer.serverTransactionCount, 1, 'still Completed 1 ms before Timer J');
  r.sendFromPhone(request());
  t.equal(r.requests.length, 1, 'absorbed while Completed');
  r.clock.advance(1);
  t.equal(r.layer.serverTransactionCount, 0, 'Timer J fired at 32 s');
  r.sendFromPhone(request());
  t.equal(r.requests.length, 2, 'after Timer J the same request starts a new transaction');
});

t.test('a 401 or 407 challenge is answered statelessly: no transaction kept for Timer J, a retransmission gets a fresh challenge (RFC 3261 §8.2.7, §26.3.2.4)', async (t) => {
  for (const status of [401, 407]) {
    const r = rig();
    r.sendFromPhone(request());
    await r.requests[0]!.tx.respond(createResponse(r.requests[0]!.req, status, undefined, { toTag: 'a' }));
    r.clock.advance(0);
    const got = r.phone.received[0]!.msg as { status?: number };
    t.equal(got.status, status, `the ${status} reached the phone`);
    t.equal(r.layer.serverTransactionCount, 0, `after a ${status} nothing is held (an unauthenticated flood keeps no memory)`);
    r.sendFromPhone(request());
    t.equal(r.requests.length, 2, 'the retransmitted request reaches the handler again, which challenges it anew');
  }
});

t.test('Timer J is zero on TCP: the transaction ends with the final response (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request({ transport: 'TCP' }), 'tcp');
  t.equal(r.layer.serverTransactionCount, 1);
  await r.requests[0]!.tx.respond(createResponse(r.requests[0]!.req, 200, undefined, { toTag: 'a' }));
  t.equal(r.layer.serverTransactionCount, 0);
  r.clock.advance(0); // delivers the response
  t.equal(r.clock.pending, 0, 'no timer left behind');
});

t.test('server matching needs branch, sent-by and method alike (RFC 3261 §17.2.3)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  r.sendFromPhone(request({ sentBy: '192.168.1.21:5062' }));
  r.sendFromPhone(request({ method: 'PUBLISH' }));
  r.sendFromPhone(request({ branch: 'z9hG4bKother' }));
  t.equal(r.requests.length, 4, 'each differing request is a transaction of its own');
  r.sendFromPhone(request({ sentBy: '192.168.1.21:5062' }));
  t.equal(r.requests.length, 4, 'an exact repeat matches');
  t.equal(r.layer.serverTransactionCount, 4);
});

t.test('without the magic cookie, matching falls back to Request-URI, tags, Call-ID, CSeq and Via (RFC 3261 §17.2.3)', async (t) => {
  const r = rig();
  r.sendFromPhone(request({ branch: null }));
  r.sendFromPhone(request({ branch: null }));
  t.equal(r.requests.length, 1, 'an RFC 2543 retransmission is absorbed');
  r.sendFromPhone(request({ branch: null, cseq: 2 }));
  t.equal(r.requests.length, 2, 'another CSeq is another transaction');
  r.sendFromPhone(request({ branch: null, callId: 'other@host' }));
  t.equal(r.requests.length, 3, 'another Call-ID is another transaction');
  r.sendFromPhone(request({ branch: 'badbranch' }));
  r.sendFromPhone(request({ branch: 'badbranch' }));
  t.equal(r.requests.length, 4, 'a branch without the cookie uses the fallback too');
});

t.test('a second final response is refused by the state machine (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  const { req, tx } = r.requests[0]!;
  await tx.respond(createResponse(req, 200, undefined, { toTag: 'a' }));
  t.throws(() => tx.respond(createResponse(req, 500)), { code: 'transaction-state' });
});

t.test('a transport error while responding ends the transaction (RFC 3261 §17.2.4)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  r.server.failNext();
  const { req, tx } = r.requests[0]!;
  t.equal(await tx.respond(createResponse(req, 200, undefined, { toTag: 'a' })), false);
  t.equal(r.layer.serverTransactionCount, 0);
  t.equal(r.clock.pending, 0);
});

t.test('a response to a closed TCP flow goes on a new connection to Via received and sent-by port (RFC 3261 §18.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request({ transport: 'TCP' }), 'tcp');
  const { req, tx } = r.requests[0]!;
  const old = tx.flow;
  r.server.closeConnection(old);
  t.equal(await tx.respond(createResponse(req, 200, undefined, { toTag: 'a' })), true);
  const last = r.server.sent.at(-1)!;
  t.equal(last.flow.remoteAddress, '192.168.1.20');
  t.equal(last.flow.remotePort, 5062);
  t.not(last.flow.connectionId, old.connectionId);
  t.equal(tx.flow, last.flow, 'later retransmissions use the new flow');
});

t.test('INVITE and ACK get no transaction: the UA answers statelessly (RFC 3261 §8.2.7)', async (t) => {
  const r = rig();
  r.sendFromPhone(request({ method: 'INVITE' }));
  r.sendFromPhone(request({ method: 'INVITE' }));
  t.equal(r.requests.length, 2, 'a retransmitted INVITE reaches the UA again');
  t.equal(r.layer.serverTransactionCount, 0);
  t.equal(await r.requests[0]!.tx.respond(createResponse(r.requests[0]!.req, 405)), true);
  r.clock.advance(0);
  t.equal(r.phone.received.length, 1);
});

t.test('a handler that never answers does not hold the transaction beyond 64*T1', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  r.clock.advance(32_000);
  t.equal(r.layer.serverTransactionCount, 0);
  t.equal(await r.requests[0]!.tx.respond(createResponse(r.requests[0]!.req, 200)), false, 'a late response is dropped');
});

t.test('T1 is configurable and Timer J follows it (RFC 3261 §17.2.2)', async (t) => {
  const clock = new ManualClock(0);
  const net = new LoopNetwork(clock);
  const server = net.endpoint('10.0.0.1', 5060);
  const phone = net.endpoint('192.168.1.20', 5062);
  const layer = new TransactionLayer(server, { clock, logger: silentLogger, timers: { t1: 100 } });
  layer.onRequest((req, tx) => void tx.respond(createResponse(req, 200, undefined, { toTag: 'a' })));
  void phone.send(request(), phone.flowTo(server, 'udp'));
  clock.advance(0);
  clock.advance(6399);
  t.equal(layer.serverTransactionCount, 1);
  clock.advance(1);
  t.equal(layer.serverTransactionCount, 0);
});

t.test('a retransmission during Timer J gets the identical final response on its newest flow (RFC 3261 §17.2.2, §18.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  const { req, tx } = r.requests[0]!;
  await tx.respond(createResponse(req, 200, undefined, { toTag: 'j' }));
  r.clock.advance(10_000);
  // The phone's NAT binding moved: the retransmission comes from another source port.
  const moved = r.phone.flowTo(r.server, 'udp');
  void r.phone.send(request(), { ...moved, localPort: 40000 });
  r.clock.advance(0);
  t.equal(r.requests.length, 1, 'absorbed');
  t.equal(r.server.sent.length, 2);
  t.ok(r.server.sent[1]!.bytes.equals(r.server.sent[0]!.bytes), 'the same bytes');
  t.equal(r.server.sent[1]!.flow.remotePort, 40000, 'sent on the flow of the newest retransmission');
  t.equal(r.server.sent[0]!.flow.remotePort, 5062);
});

t.test('a completed server transaction lets go of its request; only the response stays for Timer J (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  const { req, tx } = r.requests[0]!;
  t.equal(tx.request, req, 'the request is there until the final response');
  await tx.respond(createResponse(req, 100));
  t.equal(tx.request, req, 'a provisional response keeps it');
  await tx.respond(createResponse(req, 200, undefined, { toTag: 'x' }));
  t.throws(() => tx.request, { code: 'transaction-state' }, 'released with the final response');
  t.equal(r.layer.serverTransactionCount, 1, 'the transaction itself waits in Timer J');
  r.clock.advance(32_000);
  t.equal(r.layer.serverTransactionCount, 0);
  t.equal(r.clock.pending, 0, 'no timer left behind');
});

t.test('the guard timer of an unanswered transaction is cancelled by its final response (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request());
  r.clock.advance(20_000);
  const { req, tx } = r.requests[0]!;
  await tx.respond(createResponse(req, 200, undefined, { toTag: 'x' }));
  r.clock.advance(12_000); // the guard's 64*T1 from arrival has passed; Timer J (from the response) has not
  t.equal(r.layer.serverTransactionCount, 1, 'still Completed: the guard did not end it');
  r.sendFromPhone(request());
  t.equal(r.layer.stats.responseRetransmissions, 1);
  r.clock.advance(20_000);
  t.equal(r.layer.serverTransactionCount, 0, 'Timer J ended it 64*T1 after the response');
});

t.test('transactions answered at different times each end at their own Timer J (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request({ branch: 'z9hG4bKone' }));
  r.sendFromPhone(request({ branch: 'z9hG4bKtwo' }));
  const [first, second] = r.requests;
  void first!.tx.respond(createResponse(first!.req, 200, undefined, { toTag: 'x' }));
  r.clock.advance(1000);
  void second!.tx.respond(createResponse(second!.req, 200, undefined, { toTag: 'y' }));
  r.clock.advance(30_999);
  t.equal(r.layer.serverTransactionCount, 2, 'both Completed 1 ms before the first Timer J');
  r.clock.advance(1);
  t.equal(r.layer.serverTransactionCount, 1, 'the first ended 64*T1 after its response');
  r.clock.advance(999);
  t.equal(r.layer.serverTransactionCount, 1);
  r.clock.advance(1);
  t.equal(r.layer.serverTransactionCount, 0, 'the second 64*T1 after its own');
});

t.test('closing the layer ends completed transactions and leaves no queued timer (RFC 3261 §17.2.2)', async (t) => {
  const r = rig();
  r.sendFromPhone(request({ branch: 'z9hG4bKone' }));
  r.sendFromPhone(request({ branch: 'z9hG4bKtwo' }));
  const { req, tx } = r.requests[0]!;
  await tx.respond(createResponse(req, 200, undefined, { toTag: 'x' }));
  r.clock.advance(0); // delivers the response
  t.equal(r.clock.pending, 1, 'one clock timer serves the guard and Timer J queue');
  r.layer.close();
  t.equal(r.layer.serverTransactionCount, 0);
  t.equal(r.clock.pending, 0);
});
