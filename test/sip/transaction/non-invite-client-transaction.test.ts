import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import type { ClientResult } from '../../../src/sip/transaction/non-invite-client-transaction.js';
import { TransactionLayer } from '../../../src/sip/transaction/transaction-layer.js';
import type { Flow } from '../../../src/sip/transport/flow.js';
import type { TransportName } from '../../../src/sip/transport/transport-descriptor.js';
import { LoopNetwork, type LoopTransport } from '../../support/loop-transport.js';

const BRANCH = 'z9hG4bKnotify1';
const SENT_BY = '10.0.0.1:5060';

function notify(o: { transport?: string; via?: boolean } = {}): SipRequest {
  const lines = [
    'NOTIFY sip:1001@192.168.1.20:5062 SIP/2.0',
    ...(o.via === false ? [] : [`Via: SIP/2.0/${o.transport ?? 'UDP'} ${SENT_BY};branch=${BRANCH}`]),
    'Max-Forwards: 70',
    'From: <sip:2001@example.com>;tag=srv',
    'To: <sip:1001@example.com>;tag=phone',
    'Call-ID: call-1@192.168.1.20',
    'CSeq: 7 NOTIFY',
    'Event: dialog',
    'Subscription-State: active;expires=3600',
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}

function response(status: number, o: { branch?: string; sentBy?: string; method?: string } = {}): Buffer {
  const method = o.method ?? 'NOTIFY';
  return Buffer.from(
    [
      `SIP/2.0 ${status} Whatever`,
      `Via: SIP/2.0/UDP ${o.sentBy ?? SENT_BY};branch=${o.branch ?? BRANCH};received=10.0.0.1`,
      'From: <sip:2001@example.com>;tag=srv',
      'To: <sip:1001@example.com>;tag=phone',
      'Call-ID: call-1@192.168.1.20',
      `CSeq: 7 ${method}`,
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
  flow(protocol: TransportName): Flow;
  /** Clock times at which the phone received a NOTIFY. */
  arrivals(): number[];
  reply(bytes: Buffer): void;
  outcome(p: Promise<ClientResult>): { result?: ClientResult };
}

function rig(): Rig {
  const clock = new ManualClock(0);
  const net = new LoopNetwork(clock);
  const server = net.endpoint('10.0.0.1', 5060);
  const phone = net.endpoint('192.168.1.20', 5062);
  const layer = new TransactionLayer(server, { clock, logger: silentLogger, sentBy: { host: '10.0.0.1', port: 5060 } });
  return {
    clock,
    server,
    phone,
    layer,
    flow: (protocol) => server.flowTo(phone, protocol),
    arrivals: () => phone.received.filter((r) => r.msg.isRequest()).map((r) => r.at),
    reply(bytes) {
      void phone.send(bytes, phone.flowTo(server, 'udp'));
      clock.advance(0);
    },
    outcome(p) {
      const box: { result?: ClientResult } = {};
      void p.then((r) => {
        box.result = r;
      });
      return box;
    },
  };
}

/** Lets promise callbacks run (transaction results settle through promises). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('Timer E retransmits after 500, 1000, 2000, 4000, 4000… ms until Timer F at 64*T1 on UDP (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  const box = r.outcome(r.layer.request(notify(), r.flow('udp')));
  for (let ms = 0; ms < 32_000; ms += 100) r.clock.advance(100);
  await flush();
  t.same(r.arrivals(), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  t.same(box.result, { kind: 'timeout' }, 'Timer F ends it at 32 s with a timeout');
  t.equal(r.layer.stats.requestRetransmissions, 10);
  t.equal(r.layer.retransmissionsSent, 10);
  t.equal(r.layer.stats.timeouts, 1);
  t.equal(r.layer.clientTransactionCount, 0);
  t.equal(r.clock.pending, 0);
});

t.test('Timer F fires 1 ms later than 64*T1, never earlier (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  const box = r.outcome(r.layer.request(notify(), r.flow('udp')));
  r.clock.advance(31_999);
  await flush();
  t.equal(box.result, undefined);
  r.clock.advance(1);
  await flush();
  t.same(box.result, { kind: 'timeout' });
});

t.test('TCP gets no retransmissions but Timer F still ends the transaction at 64*T1 (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  const box = r.outcome(r.layer.request(notify({ transport: 'TCP' }), r.flow('tcp')));
  r.clock.advance(31_999);
  await flush();
  t.same(r.arrivals(), [0]);
  t.equal(box.result, undefined);
  r.clock.advance(1);
  await flush();
  t.same(box.result, { kind: 'timeout' });
  t.equal(r.layer.retransmissionsSent, 0);
});

t.test('after a provisional response Timer E fires every T2 (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  const provisional: SipResponse[] = [];
  r.outcome(r.layer.request(notify(), r.flow('udp'), { onProvisional: (res) => provisional.push(res) }));
  r.clock.advance(600);
  r.reply(response(100));
  t.equal(provisional.length, 1, 'the 1xx reached the callback');
  t.equal(provisional[0]!.status, 100);
  r.clock.advance(10_000);
  t.same(r.arrivals(), [0, 500, 1500, 5500, 9500]);
});

t.test('a final response settles the caller and stops retransmission (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  const box = r.outcome(r.layer.request(notify(), r.flow('udp')));
  r.clock.advance(700);
  r.reply(response(200));
  await flush();
  t.equal(box.result?.kind, 'response');
  if (box.result?.kind === 'response') {
    t.equal(box.result.response.status, 200);
    t.equal(box.result.flow.remotePort, 5062, 'the caller learns the flow used');
  }
  r.clock.advance(40_000);
  t.same(r.arrivals(), [0, 500]);
});

t.test('Timer K absorbs retransmitted final responses for T4 on UDP (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  r.outcome(r.layer.request(notify(), r.flow('udp')));
  r.reply(response(200));
  t.equal(r.layer.clientTransactionCount, 1, 'Completed');
  r.clock.advance(4_999);
  r.reply(response(200));
  t.equal(r.layer.stats.strayResponses, 0, 'a retransmitted 200 is absorbed in Completed');
  r.clock.advance(1);
  t.equal(r.layer.clientTransactionCount, 0, 'Timer K ended it at T4');
  r.reply(response(200));
  t.equal(r.layer.stats.strayResponses, 1, 'after Timer K the same response is a stray');
});

t.test('Timer K is zero on TCP (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  r.outcome(r.layer.request(notify({ transport: 'TCP' }), r.flow('tcp')));
  r.reply(response(200));
  t.equal(r.layer.clientTransactionCount, 0);
  t.equal(r.clock.pending, 0);
});

t.test('a response matches only with the same branch, sent-by and CSeq method (RFC 3261 §17.1.3)', async (t) => {
  const r = rig();
  const box = r.outcome(r.layer.request(notify(), r.flow('udp')));
  r.reply(response(200, { method: 'SUBSCRIBE' }));
  r.reply(response(200, { sentBy: '10.0.0.2:5060' }));
  r.reply(response(200, { branch: 'z9hG4bKnotify2' }));
  await flush();
  t.equal(box.result, undefined, 'none of them matched');
  t.equal(r.layer.stats.strayResponses, 3);
  r.reply(response(481));
  await flush();
  t.equal(box.result?.kind === 'response' && box.result.response.status, 481);
});

t.test('a transport error is reported to the caller (RFC 3261 §17.1.4)', async (t) => {
  const r = rig();
  r.server.failNext();
  const result = await r.layer.request(notify(), r.flow('udp'));
  t.equal(result.kind, 'transport-error');
  t.equal(r.layer.clientTransactionCount, 0);
  t.equal(r.clock.pending, 0);
});

t.test('a failed retransmission also ends the transaction (RFC 3261 §17.1.4)', async (t) => {
  const r = rig();
  const box = r.outcome(r.layer.request(notify(), r.flow('udp')));
  r.server.failNext();
  r.clock.advance(500);
  await flush();
  t.equal(box.result?.kind, 'transport-error');
});

t.test('lost requests are recovered by retransmission (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  r.server.dropNext(2);
  r.phone.onMessage((msg) => {
    if (msg.isRequest()) r.reply(response(200));
  });
  const box = r.outcome(r.layer.request(notify(), r.flow('udp')));
  r.clock.advance(1500);
  await flush();
  t.equal(box.result?.kind, 'response');
  t.same(r.arrivals(), [1500]);
});

t.test('a closed TCP flow falls back to a new connection to the target (RFC 3261 §18.1.1)', async (t) => {
  const r = rig();
  const old = r.flow('tcp');
  r.server.closeConnection(old);
  const box = r.outcome(
    r.layer.request(notify({ transport: 'TCP' }), { flow: old, fallback: { protocol: 'tcp', host: '192.168.1.20', port: 5062 } }),
  );
  await flush();
  r.clock.advance(0);
  t.same(r.arrivals(), [0]);
  r.reply(response(200));
  await flush();
  t.equal(box.result?.kind, 'response');
  if (box.result?.kind === 'response') t.not(box.result.flow.connectionId, old.connectionId, 'the new flow is reported');
});

t.test('a request without Via gets ours with a magic-cookie branch and rport (RFC 3261 §8.1.1.7, RFC 3581 §3)', async (t) => {
  const r = rig();
  const req = notify({ via: false });
  r.outcome(r.layer.request(req, r.flow('tcp')));
  const via = req.topVia;
  t.equal(via.transport, 'TCP');
  t.equal(via.host, '10.0.0.1');
  t.equal(via.port, 5060);
  t.match(via.params.get('branch'), /^z9hG4bK./);
  t.ok(via.params.has('rport'));
});

t.test('two client transactions with the same key are refused (RFC 3261 §17.1.3)', async (t) => {
  const r = rig();
  r.outcome(r.layer.request(notify(), r.flow('udp')));
  t.throws(() => r.layer.request(notify(), r.flow('udp')), { code: 'duplicate-transaction' });
});

t.test('T1, T2 and T4 are configurable (RFC 3261 §17.1.2.2)', async (t) => {
  const clock = new ManualClock(0);
  const net = new LoopNetwork(clock);
  const server = net.endpoint('10.0.0.1', 5060);
  const phone = net.endpoint('192.168.1.20', 5062);
  const layer = new TransactionLayer(server, { clock, logger: silentLogger, timers: { t1: 100, t2: 300, t4: 1000 } });
  void layer.request(notify(), server.flowTo(phone, 'udp'));
  clock.advance(6400);
  t.same(
    phone.received.map((x) => x.at),
    [0, 100, 300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700, 3000, 3300, 3600, 3900, 4200, 4500, 4800, 5100, 5400, 5700, 6000, 6300],
  );
  t.equal(layer.clientTransactionCount, 0);
});

t.test('a response delayed in the network still settles the transaction after retransmissions (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  r.phone.delayMs = 1200;
  let answered = false;
  r.phone.onMessage((msg) => {
    if (msg.isRequest() && !answered) {
      answered = true;
      void r.phone.send(response(200), r.phone.flowTo(r.server, 'udp'));
    }
  });
  const box = r.outcome(r.layer.request(notify(), r.flow('udp')));
  r.clock.advance(1199);
  await flush();
  t.equal(box.result, undefined, 'not yet arrived');
  t.same(r.arrivals(), [0, 500]);
  r.clock.advance(1);
  await flush();
  t.equal(box.result?.kind, 'response');
  r.clock.advance(10_000);
  t.same(r.arrivals(), [0, 500], 'no retransmission after the final response');
  t.equal(r.layer.stats.strayResponses, 0);
});

t.test('a completed client transaction lets go of its request and absorbs retransmitted responses until Timer K (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  const req = notify();
  const box = r.outcome(r.layer.request(req, r.flow('udp')));
  r.reply(response(200));
  await flush();
  t.equal(box.result?.kind, 'response');
  t.equal(r.clock.pending, 1, 'only Timer K is armed: Timers E and F were cancelled');
  r.reply(response(200));
  r.reply(response(200));
  t.equal(r.layer.stats.strayResponses, 0, 'absorbed in Completed');
  r.clock.advance(5000);
  t.equal(r.layer.clientTransactionCount, 0);
  t.equal(r.clock.pending, 0);
});

t.test('Timer F of each transaction counts from its own start (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  const a = r.outcome(r.layer.request(notify(), r.flow('udp')));
  r.clock.advance(700);
  const second = notify();
  second.headers.set('Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnotify2');
  const b = r.outcome(r.layer.request(second, r.flow('udp')));
  r.clock.advance(31_300);
  await flush();
  t.same(a.result, { kind: 'timeout' });
  t.equal(b.result, undefined, 'the later one is still running');
  r.clock.advance(699);
  await flush();
  t.equal(b.result, undefined);
  r.clock.advance(1);
  await flush();
  t.same(b.result, { kind: 'timeout' });
  t.equal(r.layer.stats.timeouts, 2);
});

t.test('a cancelled transaction\'s queued Timer F does not fire (RFC 3261 §17.1.2.2)', async (t) => {
  const r = rig();
  const box = r.outcome(r.layer.request(notify(), r.flow('udp')));
  r.reply(response(200)); // cancels E and F
  r.clock.advance(40_000);
  await flush();
  t.equal(box.result?.kind, 'response');
  t.equal(r.layer.stats.timeouts, 0);
  t.same(r.arrivals(), [0], 'no retransmission after the final response');
});
