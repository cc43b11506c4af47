import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { parseUri } from '../../../src/sip/message/uri.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import { TransactionLayer } from '../../../src/sip/transaction/transaction-layer.js';
import { SipTransport } from '../../../src/sip/transport/sip-transport.js';
import {
  TCP,
  TLS,
  TRANSPORTS,
  UDP,
  WS,
  WSS,
  transportForUri,
  transportNamed,
  transportOf,
  uriFor,
  type TransportDescriptor,
} from '../../../src/sip/transport/transport-descriptor.js';
import { LoopNetwork } from '../../support/loop-transport.js';

/** A NOTIFY without a Via: the transaction layer adds ours, naming the transport it leaves on. */
function notifyWithoutVia(): SipRequest {
  const lines = [
    'NOTIFY sip:1001@192.168.1.20:5062 SIP/2.0',
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

t.test('each transport says once what it is: reliability, framing, Via token, URI parameter, default port (RFC 3261 §17, §18.3, §19.1.2, §20.42; RFC 7118 §5)', async (t) => {
  t.same(
    TRANSPORTS.map((d) => ({ ...d })),
    [
      { name: 'udp', reliable: false, secure: false, stream: false, viaToken: 'UDP', uriTransport: 'udp', dialable: true, defaultPort: 5060 },
      { name: 'tcp', reliable: true, secure: false, stream: true, viaToken: 'TCP', uriTransport: 'tcp', dialable: true, defaultPort: 5060 },
      { name: 'tls', reliable: true, secure: true, stream: true, viaToken: 'TLS', uriTransport: 'tcp', dialable: true, defaultPort: 5061 },
      { name: 'ws', reliable: true, secure: false, stream: false, viaToken: 'WS', uriTransport: 'ws', dialable: false, defaultPort: 80 },
      { name: 'wss', reliable: true, secure: true, stream: false, viaToken: 'WSS', uriTransport: 'ws', dialable: false, defaultPort: 443 },
    ],
  );
  t.ok(TRANSPORTS.every((d) => Object.isFrozen(d)), 'nobody can change a transport at run time');
});

t.test('stored flows name their transport as before: udp and tcp, so a database from before needs no migration', async (t) => {
  t.equal(transportNamed('udp'), UDP);
  t.equal(transportNamed('tcp'), TCP);
  t.equal(transportOf('udp'), UDP);
  t.equal(transportOf('tcp'), TCP);
  t.equal(transportNamed('tls'), TLS);
  t.equal(transportNamed('ws'), WS);
  t.equal(transportNamed('wss'), WSS);
  for (const unknown of ['sctp', 'UDP', '', 'constructor', '__proto__', 'toString']) {
    t.equal(transportNamed(unknown), undefined, `'${unknown}' is no transport of this build`);
  }
});

t.test('reliability comes from the descriptor: Timer E retransmits only over an unreliable transport (RFC 3261 §17.1.2.2)', async (t) => {
  for (const transport of TRANSPORTS) {
    const clock = new ManualClock(0);
    const net = new LoopNetwork(clock);
    const server = net.endpoint('10.0.0.1', 5060);
    const phone = net.endpoint('192.168.1.20', 5062);
    const layer = new TransactionLayer(server, { clock, logger: silentLogger, sentBy: { host: '10.0.0.1', port: 5060 } });
    void layer.request(notifyWithoutVia(), server.flowTo(phone, transport.name));
    clock.advance(0);
    clock.advance(2000);
    const arrivals = phone.received.filter((r) => r.msg.isRequest()).length;
    if (transport.reliable) t.equal(arrivals, 1, `${transport.name}: sent once, no Timer E`);
    else t.equal(arrivals, 3, `${transport.name}: sent at 0 ms, again at 500 and 1500 ms`);
    layer.close();
  }
});

t.test('the Via we add names the transport the request leaves on (RFC 3261 §8.1.1.7, §20.42)', async (t) => {
  for (const transport of TRANSPORTS) {
    const clock = new ManualClock(0);
    const net = new LoopNetwork(clock);
    const server = net.endpoint('10.0.0.1', 5060);
    const phone = net.endpoint('192.168.1.20', 5062);
    const layer = new TransactionLayer(server, { clock, logger: silentLogger, sentBy: { host: '10.0.0.1', port: 5060 } });
    const req = notifyWithoutVia();
    void layer.request(req, { protocol: transport.name, host: phone.address, port: phone.port });
    t.equal(req.topVia.transport, transport.viaToken, transport.name);
    t.match(req.headers.get('via'), new RegExp(`^SIP/2\\.0/${transport.viaToken} 10\\.0\\.0\\.1:5060;branch=z9hG4bK`));
    layer.close();
  }
});

t.test('our Contact per transport: no parameter for UDP, ;transport=tcp for TCP (RFC 3261 §19.1.1, RFC 3263 §4.1)', async (t) => {
  t.equal(uriFor(UDP, '10.0.0.1:5060'), 'sip:10.0.0.1:5060');
  t.equal(uriFor(TCP, '10.0.0.1:5060'), 'sip:10.0.0.1:5060;transport=tcp');
  t.equal(uriFor(TCP, 'w1@[2001:db8::1]:5062'), 'sip:w1@[2001:db8::1]:5062;transport=tcp');
  // Each transport's Contact leads back to it.
  for (const transport of TRANSPORTS) t.equal(transportForUri(parseUri(uriFor(transport, 'h:1')), UDP), transport, transport.name);
});

t.test('TLS and WebSocket: sips: for a secure one, ws as the URI parameter of both (RFC 3263 §4.1, RFC 7118 §5.2)', async (t) => {
  t.equal(uriFor(TLS, 'h:5061'), 'sips:h:5061');
  t.equal(uriFor(WS, 'a.invalid'), 'sip:a.invalid;transport=ws');
  t.equal(uriFor(WSS, 'a.invalid'), 'sips:a.invalid;transport=ws');
});

t.test('a URI asks for a transport by its parameter, TLS by sips: or transport=tls, and nothing is substituted (RFC 3261 §19.1.1, §26.2.2)', async (t) => {
  t.equal(transportForUri(parseUri('sip:a.example.com'), TCP), TCP, 'no parameter: the caller\'s transport');
  t.equal(transportForUri(parseUri('sip:a.example.com;transport=udp'), TCP), UDP);
  t.equal(transportForUri(parseUri('sip:a.example.com;transport=TCP'), UDP), TCP, 'the parameter is case-insensitive');
  // Changed with issue 20: these were undefined while the build had no TLS or WebSocket transport.
  t.equal(transportForUri(parseUri('sips:a.example.com'), TCP), TLS, 'sips: is TLS, never TCP');
  t.equal(transportForUri(parseUri('sips:a.example.com;transport=tcp'), TCP), TLS);
  t.equal(transportForUri(parseUri('sip:a.example.com;transport=tls'), TCP), TLS);
  t.equal(transportForUri(parseUri('sip:a.example.com;transport=ws'), TCP), WS);
  t.equal(transportForUri(parseUri('sips:a.example.com;transport=ws'), TCP), WSS);
  t.equal(transportForUri(parseUri('sips:a.example.com;transport=udp'), UDP), undefined, 'no secure UDP: never plain UDP instead');
  t.equal(transportForUri(parseUri('sip:a.example.com;transport=sctp'), UDP), undefined);
});

t.test('a SipTransport lists the transports it serves', async (t) => {
  const clock = new ManualClock(0);
  t.same(new SipTransport({ hosts: ['127.0.0.1'], port: 0, clock, logger: silentLogger }).transports, [UDP, TCP]);
  t.same(new SipTransport({ hosts: ['127.0.0.1'], port: 0, tcp: false, clock, logger: silentLogger }).transports, [UDP]);
  t.same(new SipTransport({ hosts: ['127.0.0.1'], port: 0, udp: false, clock, logger: silentLogger }).transports, [TCP]);
  const credentials = { cert: Buffer.alloc(0), key: Buffer.alloc(0), minVersion: 'TLSv1.2' as const };
  t.same(new SipTransport({ hosts: ['127.0.0.1'], port: 0, tls: { port: 0, credentials }, clock, logger: silentLogger }).transports, [UDP, TCP, TLS]);
});
