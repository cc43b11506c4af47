import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import type { SipMessage } from '../../../src/sip/message/message.js';
import { createResponse } from '../../../src/sip/message/response-factory.js';
import type { Flow, Target } from '../../../src/sip/transport/flow.js';
import { TCP, UDP } from '../../../src/sip/transport/transport-descriptor.js';
import { TransportError } from '../../../src/sip/transport/transport-error.js';
import { TransportSet, type RequestSource, type TransportListener } from '../../../src/sip/transport/transport-set.js';
import type { MessageHandler } from '../../../src/sip/transport/transport.js';
import { LoopNetwork } from '../../support/loop-transport.js';
import { buildRequest } from '../../support/sip-builders.js';

/** A listener that records what it was asked to do and lets the test hand messages up. */
class RecordingListener implements TransportListener {
  readonly sent: Flow[] = [];
  readonly dialled: Target[] = [];
  handlers = 0;
  started = 0;
  closed = 0;
  handler: MessageHandler | undefined;
  constructor(readonly port: number, private readonly failClose = false) {}
  onMessage(handler: MessageHandler): void {
    this.handlers++;
    this.handler = handler;
  }
  send(_msg: SipMessage | Buffer, flow: Flow): Promise<void> {
    this.sent.push(flow);
    return Promise.resolve();
  }
  async sendTo(_msg: SipMessage | Buffer, target: Target): Promise<Flow> {
    this.dialled.push(target);
    return { protocol: target.protocol, localAddress: '10.0.0.1', localPort: this.port, remoteAddress: target.host, remotePort: target.port };
  }
  async start(): Promise<void> {
    this.started++;
  }
  async close(): Promise<void> {
    this.closed++;
    if (this.failClose) throw new Error('close failed');
  }
}

const flow = (protocol: 'udp' | 'tcp'): Flow => ({
  protocol,
  localAddress: '10.0.0.1',
  localPort: 5060,
  remoteAddress: '192.0.2.10',
  remotePort: 5062,
  ...(protocol === 'tcp' ? { connectionId: 1 } : {}),
});

t.test('a message leaves through the listener of its flow or target transport (RFC 3261 §18.2.2: responses go back the way the request came)', async (t) => {
  const udp = new RecordingListener(5060);
  const tcp = new RecordingListener(5070);
  const set = new TransportSet({ udp, tcp });
  await set.send(Buffer.from('x'), flow('udp'));
  await set.send(Buffer.from('x'), flow('tcp'));
  await set.sendTo(Buffer.from('x'), { protocol: 'tcp', host: '192.0.2.11', port: 5060 });
  t.same(udp.sent.map((f) => f.protocol), ['udp']);
  t.same(tcp.sent.map((f) => f.protocol), ['tcp']);
  t.same(tcp.dialled.map((d) => d.host), ['192.0.2.11']);
  t.same(set.transports, [UDP, TCP]);
  t.equal(set.listener(TCP), tcp);
});

t.test('a transport with no listener is a transport error, never another transport instead', async (t) => {
  const set = new TransportSet({ udp: new RecordingListener(5060) });
  await t.rejects(set.send(Buffer.from('x'), flow('tcp')), TransportError);
  await t.rejects(set.sendTo(Buffer.from('x'), { protocol: 'tcp', host: '192.0.2.11', port: 5060 }), { code: 'no-socket' });
  t.same(set.transports, [UDP]);
});

t.test('one object serving several transports is started, closed and listened to once', async (t) => {
  const both = new RecordingListener(5060);
  const set = new TransportSet({ udp: both, tcp: both });
  set.onMessage(() => {});
  await set.start();
  await set.close();
  t.same([both.handlers, both.started, both.closed], [1, 1, 1]);
});

t.test('close asks every listener even when one fails, then reports the failure', async (t) => {
  const udp = new RecordingListener(5060, true);
  const tcp = new RecordingListener(5070);
  const set = new TransportSet({ udp, tcp });
  await t.rejects(set.close(), { message: 'close failed' });
  t.equal(tcp.closed, 1);
});

t.test('the admission gate sees each request with its flow and transport before anyone else; false drops it unanswered', async (t) => {
  const net = new LoopNetwork(new ManualClock(0));
  const server = net.endpoint('10.0.0.1', 5060);
  const phone = net.endpoint('192.0.2.10', 5062);
  const asked: RequestSource[] = [];
  const set = new TransportSet({ udp: server, tcp: server }, {
    admit: (source) => {
      asked.push(source);
      return source.flow.protocol === 'tcp';
    },
  });
  const up: SipMessage[] = [];
  set.onMessage((msg) => up.push(msg));
  const options = buildRequest({ method: 'OPTIONS', uri: 'sip:10.0.0.1' });
  await phone.send(options, phone.flowTo(server, 'udp'));
  await phone.send(options, phone.flowTo(server, 'tcp'));
  // A response is never put to the gate: it belongs to a transaction of ours.
  await phone.send(createResponse(options, 200), phone.flowTo(server, 'udp'));
  net.clock.advance(0);
  t.same(asked.map((s) => [s.request.method, s.transport.name, s.flow.remoteAddress]), [
    ['OPTIONS', 'udp', '192.0.2.10'],
    ['OPTIONS', 'tcp', '192.0.2.10'],
  ]);
  t.same(up.map((m) => (m.isRequest() ? m.method : 'response')), ['OPTIONS', 'response'], 'the admitted request and the response came up');
  t.equal(phone.received.length, 0, 'the dropped request got no answer');
});

t.test('a gate refusal is answered 503 + Retry-After statelessly on the request\'s flow and not handed up; ACK is never answered (RFC 3261 §21.5.4, §17.2.3; never 429, RFC 3892)', async (t) => {
  const net = new LoopNetwork(new ManualClock(0));
  const server = net.endpoint('10.0.0.1', 5060);
  const phone = net.endpoint('192.0.2.10', 5062);
  const set = new TransportSet({ udp: server, tcp: server }, { admit: () => ({ retryAfterS: 299.2 }) });
  const up: SipMessage[] = [];
  set.onMessage((msg) => up.push(msg));
  const subscribe = buildRequest({ method: 'SUBSCRIBE', uri: 'sip:1001@10.0.0.1', headers: { Event: 'dialog' } });
  await phone.send(subscribe, phone.flowTo(server, 'tcp'));
  await phone.send(buildRequest({ method: 'ACK', uri: 'sip:1001@10.0.0.1' }), phone.flowTo(server, 'tcp'));
  net.clock.advance(0);
  await new Promise((res) => setImmediate(res));
  net.clock.advance(0);
  t.equal(up.length, 0, 'nothing came up');
  t.equal(phone.received.length, 1, 'one answer, to the SUBSCRIBE only');
  const answer = phone.received[0]!.msg;
  t.ok(answer.isResponse());
  if (!answer.isResponse()) return;
  t.equal(answer.status, 503);
  t.equal(answer.headers.get('retry-after'), '300', 'Retry-After in whole seconds, rounded up');
  t.equal(answer.callId, subscribe.callId);
  t.ok(answer.to.params.get('tag'), 'a To tag, as every final answer of a UAS (RFC 3261 §8.2.6.2)');
});
