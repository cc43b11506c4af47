import t from 'tap';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { connect } from 'node:net';
import { once } from 'node:events';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { createResponse } from '../../../src/sip/message/response-factory.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import { TransactionLayer } from '../../../src/sip/transaction/transaction-layer.js';
import type { Flow } from '../../../src/sip/transport/flow.js';
import { SipTransport } from '../../../src/sip/transport/sip-transport.js';

function subscribe(via: string): string {
  return [
    'SUBSCRIBE sip:1001@example.com SIP/2.0',
    `Via: ${via}`,
    'Max-Forwards: 70',
    'From: <sip:2001@example.com>;tag=f1',
    'To: <sip:1001@example.com>',
    'Call-ID: real-1@192.0.2.10',
    'CSeq: 1 SUBSCRIBE',
    'Event: dialog',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function notifyRequest(): SipRequest {
  return parseMessage(
    Buffer.from(
      [
        'NOTIFY sip:1001@192.0.2.10:5062 SIP/2.0',
        'Max-Forwards: 70',
        'From: <sip:1001@example.com>;tag=srv',
        'To: <sip:2001@example.com>;tag=f1',
        'Call-ID: real-1@192.0.2.10',
        'CSeq: 2 NOTIFY',
        'Event: dialog',
        'Subscription-State: active;expires=60',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  ) as SipRequest;
}

async function stack(t: { teardown(fn: () => unknown): void }) {
  const clock = new ManualClock();
  const transport = new SipTransport({ hosts: ['127.0.0.1'], port: 0, clock, logger: silentLogger });
  await transport.start();
  const layer = new TransactionLayer(transport, { clock, logger: silentLogger, sentBy: { host: '127.0.0.1', port: transport.port } });
  t.teardown(async () => {
    layer.close();
    await transport.close();
  });
  return { clock, transport, layer };
}

t.test('over real UDP, a retransmitted SUBSCRIBE gets the identical response from the server transaction (RFC 3261 §17.2.2)', async (t) => {
  const { transport, layer } = await stack(t);
  let calls = 0;
  layer.onRequest((req, tx) => {
    calls++;
    void tx.respond(createResponse(req, 200, undefined, { toTag: 'srv' }));
  });
  const phone = createSocket('udp4');
  await new Promise<void>((resolve) => phone.bind(0, '127.0.0.1', resolve));
  t.teardown(() => phone.close());
  const bytes = subscribe('SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKreal;rport');
  phone.send(bytes, transport.port, '127.0.0.1');
  const [first] = (await once(phone, 'message')) as [Buffer, RemoteInfo];
  phone.send(bytes, transport.port, '127.0.0.1');
  const [second] = (await once(phone, 'message')) as [Buffer, RemoteInfo];
  t.equal(calls, 1, 'the handler saw one request');
  t.ok(first.equals(second), 'the same bytes both times');
  t.equal(layer.retransmissionsSent, 1);
});

t.test('over real UDP, Timer E retransmits a NOTIFY on the injected clock until answered (RFC 3261 §17.1.2.2)', async (t) => {
  const { clock, layer } = await stack(t);
  const phone = createSocket('udp4');
  await new Promise<void>((resolve) => phone.bind(0, '127.0.0.1', resolve));
  t.teardown(() => phone.close());
  const port = phone.address().port;
  const result = layer.request(notifyRequest(), { protocol: 'udp', host: '127.0.0.1', port });
  const [firstBytes, rinfo] = (await once(phone, 'message')) as [Buffer, RemoteInfo];
  clock.advance(500);
  const [again] = (await once(phone, 'message')) as [Buffer, RemoteInfo];
  t.ok(firstBytes.equals(again), 'the retransmission is the same request');
  const req = parseMessage(again) as SipRequest;
  t.match(req.topVia.params.get('branch'), /^z9hG4bK/);
  phone.send(serialize(createResponse(req, 200)), rinfo.port, rinfo.address);
  const r = await result;
  t.equal(r.kind, 'response');
  if (r.kind === 'response') t.equal(r.response.status, 200);
  t.equal(layer.stats.requestRetransmissions, 1);
});

t.test('over real TCP, a NOTIFY reuses the connection the SUBSCRIBE came on and its 200 settles the request (RFC 3261 §18.1.1, §17.1.3)', async (t) => {
  const { transport, layer } = await stack(t);
  const phone = connect({ host: '127.0.0.1', port: transport.port });
  await once(phone, 'connect');
  t.teardown(() => phone.destroy());
  let text = '';
  phone.on('data', (d: Buffer) => {
    text += d.toString();
    // Every message here has an empty body, so each ends at the first empty line.
    for (let end = text.indexOf('\r\n\r\n'); end !== -1; end = text.indexOf('\r\n\r\n')) {
      const msg = parseMessage(Buffer.from(text.slice(0, end + 4)), { datagram: false });
      text = text.slice(end + 4);
      if (msg.isRequest()) phone.write(serialize(createResponse(msg, 200)));
    }
  });
  const subscribed = new Promise<Flow>((resolve) =>
    layer.onRequest((req, tx) => {
      void tx.respond(createResponse(req, 200, undefined, { toTag: 'srv' }));
      resolve(tx.flow);
    }),
  );
  phone.write(subscribe('SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bKtcp;transport=tcp'));
  const flow = await subscribed;
  const r = await layer.request(notifyRequest(), { flow, fallback: { protocol: 'tcp', host: '127.0.0.1', port: 1 } });
  t.equal(r.kind, 'response');
  if (r.kind === 'response') t.equal(r.flow.connectionId, flow.connectionId, 'sent on the SUBSCRIBE connection');
  t.equal(transport.connectionCount, 1);
});
