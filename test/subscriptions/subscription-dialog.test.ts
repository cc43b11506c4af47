import t from 'tap';
import { parseUri } from '../../src/sip/message/uri.js';
import { TCP, TLS, UDP, WS, WSS } from '../../src/sip/transport/transport-descriptor.js';
import type { SubscriptionRecord } from '../../src/store/records.js';
import { buildNotify } from '../../src/subscriptions/notify-request.js';
import { dialogOf, flowOf, flowRecord, localContact, notifyDestination, targetOf, transportOfRecord } from '../../src/subscriptions/subscription-dialog.js';

function record(over: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  return {
    id: 'c;l;r', callId: 'c', localTag: 'l', remoteTag: 'r', event: 'dialog', eventId: null, resource: '1001',
    domain: 'example.com', accountId: null, watcherUser: '2001', watcherDomain: 'example.com',
    watcherUri: 'sip:2001@example.com', resourceUri: 'sip:1001@example.com', contact: 'sip:2001@192.168.1.20:5062',
    routeSet: [],
    flow: { protocol: 'tcp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '203.0.113.5', remotePort: 40000, connectionId: 7 },
    localCseq: 0, remoteCseq: 1, version: 0, acceptTypes: [], grantedExpires: 3600, expiresAt: 0, createdAt: 0,
    refreshedAt: 0, strikes: 0, lastNotify: null, node: 'n', ...over,
  };
}

t.test('a NOTIFY goes on the flow of the last SUBSCRIBE, the Contact as fallback for a closed connection (sip-behaviour.md, RFC 3261 §18.1.1)', async (t) => {
  const d = notifyDestination(record());
  t.same(d, {
    flow: { protocol: 'tcp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '203.0.113.5', remotePort: 40000, connectionId: 7 },
    fallback: { protocol: 'tcp', host: '192.168.1.20', port: 5062 },
  });
});

t.test('with a route set a NOTIFY goes to the first Route, through the SUBSCRIBE flow when it leads there (RFC 3261 §12.2.1.1)', async (t) => {
  const elsewhere = notifyDestination(record({ routeSet: ['sip:proxy.example.com:5070;lr;transport=udp'] }));
  t.same(elsewhere, { protocol: 'udp', host: 'proxy.example.com', port: 5070 });
  const same = notifyDestination(record({ routeSet: ['sip:203.0.113.5:40000;lr'] }));
  t.same((same as { fallback: unknown }).fallback, { protocol: 'tcp', host: '203.0.113.5', port: 40000 });
});

t.test('a UDP flow has no connection id (RFC 3261 §18.1.1)', async (t) => {
  const d = notifyDestination(record({ flow: { protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '198.51.100.2', remotePort: 5062, connectionId: null } }));
  t.equal('connectionId' in (d as { flow: object }).flow, false);
});

t.test('a URI as a target: default ports, transport parameter, IPv6 without brackets (RFC 3261 §19.1.2)', async (t) => {
  t.same(targetOf(parseUri('sip:a.example.com'), UDP), { protocol: 'udp', host: 'a.example.com', port: 5060 });
  t.same(targetOf(parseUri('sip:a.example.com;transport=TCP'), UDP), { protocol: 'tcp', host: 'a.example.com', port: 5060 });
  t.same(targetOf(parseUri('sip:u@[2001:db8::1]:5080'), TCP), { protocol: 'tcp', host: '2001:db8::1', port: 5080 });
  t.equal(targetOf(parseUri('tel:+15551234'), UDP), undefined);
});

t.test('a URI that asks for TLS is dialled over TLS only, never TCP instead (RFC 3261 §26.2.2, RFC 5630, issue 20)', async (t) => {
  // These assertions changed with issue 20: before the TLS transport existed, each of these URIs was no target at all.
  t.same(targetOf(parseUri('sips:a.example.com'), UDP), { protocol: 'tls', host: 'a.example.com', port: 5061 });
  t.same(targetOf(parseUri('sips:a.example.com;transport=tcp'), TCP), { protocol: 'tls', host: 'a.example.com', port: 5061 });
  t.same(targetOf(parseUri('sip:a.example.com:5071;transport=tls'), TCP), { protocol: 'tls', host: 'a.example.com', port: 5071 });
  t.same(targetOf(parseUri('sip:a.example.com'), TLS), { protocol: 'tls', host: 'a.example.com', port: 5061 }, 'a plain sip: Contact on a TLS flow stays on TLS');
  t.equal(targetOf(parseUri('sip:a.example.com;transport=sctp'), UDP), undefined, 'nor any other transport we lack');
});

t.test('a WebSocket or .invalid Contact is never dialled: its NOTIFYs go on its connection or nowhere (RFC 7118 §5.2, RFC 6761 §6.4)', async (t) => {
  t.equal(targetOf(parseUri('sip:k3x9@df7jal23ls0d.invalid;transport=ws'), WS), undefined);
  t.equal(targetOf(parseUri('sip:k3x9@df7jal23ls0d.invalid'), TCP), undefined, '.invalid is never resolved, whatever the transport');
  t.equal(targetOf(parseUri('sip:k3x9@198.51.100.7;transport=ws'), UDP), undefined, 'nor a WebSocket Contact with an address');
  const ws = { protocol: 'ws', localAddress: '10.0.0.1', localPort: 5066, remoteAddress: '203.0.113.5', remotePort: 40000, connectionId: 9 };
  t.same(notifyDestination(record({ contact: 'sip:k3x9@df7jal23ls0d.invalid;transport=ws', flow: ws })), ws, 'the flow alone, no fallback');
});

t.test('a watcher whose Contact needs TLS but whose flow is TCP gets its NOTIFYs on that flow, never a plaintext dial (issue 20)', async (t) => {
  const flow = { protocol: 'tcp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '203.0.113.5', remotePort: 40000, connectionId: 7 };
  t.same(notifyDestination(record({ contact: 'sips:2001@192.168.1.20:5062' })), flow);
  t.same(notifyDestination(record({ contact: 'sip:2001@192.168.1.20:5062;transport=tls' })), flow);
  const udp = { protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '198.51.100.2', remotePort: 5062 };
  t.same(notifyDestination(record({ contact: 'sips:2001@192.168.1.20', flow: { ...udp, connectionId: null } })), udp, 'over UDP as before');
  const tls = { ...flow, protocol: 'tls' };
  t.same(
    notifyDestination(record({ contact: 'sips:2001@192.168.1.20:5062', flow: tls })),
    { flow: tls, fallback: { protocol: 'tls', host: '192.168.1.20', port: 5062 } },
    'a TLS flow falls back to its sips: Contact over TLS',
  );
});

t.test('our Contact: the public host when set, the flow address unless it is a wildcard, ;transport=tcp on TCP (RFC 3261 §8.1.1.8)', async (t) => {
  const flow = { protocol: 'udp' as const, localAddress: '10.0.0.1', localPort: 5060 };
  t.same(localContact(flow, undefined, 'example.com'), { uri: 'sip:10.0.0.1:5060', hostPort: '10.0.0.1:5060' });
  t.equal(localContact(flow, 'pbx.example.com', 'example.com').uri, 'sip:pbx.example.com:5060');
  t.equal(localContact({ ...flow, localAddress: '0.0.0.0' }, undefined, 'example.com').uri, 'sip:example.com:5060');
  t.equal(localContact({ ...flow, protocol: 'tcp', localAddress: '::1' }, undefined, 'x').uri, 'sip:[::1]:5060;transport=tcp');
});

t.test('a flow stored before transport descriptors restores as it was: same names, no migration', async (t) => {
  // The `flow` column of a subscription row as the SQLite store has always written it.
  const stored = JSON.parse('{"protocol":"tcp","localAddress":"10.0.0.1","localPort":5060,"remoteAddress":"203.0.113.5","remotePort":40000,"connectionId":7}');
  t.same(flowOf(stored), { protocol: 'tcp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '203.0.113.5', remotePort: 40000, connectionId: 7 });
  t.same(flowRecord(flowOf(stored)), stored, 'and is written back the same');
  t.equal(transportOfRecord(stored), TCP);
  t.equal(transportOfRecord({ protocol: 'udp' }), UDP);
});

t.test('a stored flow naming a transport this server lacks is refused, not guessed', async (t) => {
  t.throws(() => transportOfRecord({ protocol: 'sctp' }), { code: 'unknown-transport' });
  t.throws(() => notifyDestination(record({ flow: { ...record().flow, protocol: 'quic' } })), { code: 'unknown-transport' });
});

t.test('the NOTIFY\'s Via and Contact name the transport of the flow it leaves on (RFC 3261 §8.1.1.7, RFC 6665 §4.2.1.2)', async (t) => {
  for (const transport of [UDP, TCP, TLS, WS, WSS]) {
    const contact = localContact({ protocol: transport.name, localAddress: '10.0.0.1', localPort: 5060 }, undefined, 'x');
    const notify = buildNotify({
      dialog: dialogOf(record()), event: 'dialog', eventId: null, subscriptionState: 'active;expires=60',
      contentType: 'application/dialog-info+xml', body: Buffer.alloc(0), contact: contact.uri, transport, sentBy: contact.hostPort,
    });
    t.equal(notify.topVia.transport, transport.viaToken, `${transport.name}: Via`);
    t.equal(notify.topVia.host, '10.0.0.1');
    t.equal(notify.headers.get('contact'), `<${contact.uri}>`, `${transport.name}: Contact`);
  }
});
