import t from 'tap';
import { parseUri } from '../../src/sip/message/uri.js';
import { TCP, TLS, UDP, WS, WSS } from '../../src/sip/transport/transport-descriptor.js';
import type { SubscriptionRecord } from '../../src/store/records.js';
import { buildNotify } from '../../src/subscriptions/notify-request.js';
import { dialogOf, flowOf, flowRecord, localContact, notifyDestination, routesHonoured, targetOf, transportOfRecord } from '../../src/subscriptions/subscription-dialog.js';

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

/** A subscription that came from a trusted peer (the policy's identity kind `peer`). */
function trusted(over: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  const base = record(over);
  return { ...base, flow: { ...base.flow, trustedPeer: true } };
}

t.test('from a trusted peer a NOTIFY goes on the flow of the last SUBSCRIBE, the Contact as fallback for a closed connection (sip-behaviour.md, RFC 3261 §18.1.1)', async (t) => {
  // This assertion changed (issue 19): the fallback is only there for a trusted peer; record() is untrusted now.
  const d = notifyDestination(trusted());
  t.same(d, {
    flow: { protocol: 'tcp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '203.0.113.5', remotePort: 40000, connectionId: 7 },
    fallback: { protocol: 'tcp', host: '192.168.1.20', port: 5062 },
  });
});

t.test('from a trusted peer with a route set a NOTIFY goes to the first Route, through the SUBSCRIBE flow when it leads there (RFC 3261 §12.2.1.1)', async (t) => {
  // This assertion changed (issue 19): only a trusted peer's route set is followed.
  const elsewhere = notifyDestination(trusted({ routeSet: ['sip:proxy.example.com:5070;lr;transport=udp'] }));
  t.same(elsewhere, { protocol: 'udp', host: 'proxy.example.com', port: 5070 });
  const same = notifyDestination(trusted({ routeSet: ['sip:203.0.113.5:40000;lr'] }));
  t.same((same as { fallback: unknown }).fallback, { protocol: 'tcp', host: '203.0.113.5', port: 40000 });
  t.same(dialogOf(trusted({ routeSet: ['sip:proxy.example.com;lr'] })).routeSet, ['sip:proxy.example.com;lr'], 'and its Route headers');
});

t.test('an untrusted watcher\'s NOTIFY goes on its own flow only: Record-Route ignored, its Contact never dialled (RFC 3261 §16, RFC 5626, issue 19)', async (t) => {
  const flow = { protocol: 'tcp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '203.0.113.5', remotePort: 40000, connectionId: 7 };
  t.same(notifyDestination(record()), flow, 'TCP: the connection, no fallback to the Contact');
  const rr = record({ routeSet: ['sip:victim.example.net:5070;lr;transport=udp'] });
  t.same(notifyDestination(rr), flow, 'a route set elsewhere is not followed');
  t.same(dialogOf(rr).routeSet, [], 'nor written as Route headers');
  t.same(rr.routeSet, ['sip:victim.example.net:5070;lr;transport=udp'], 'the record keeps what the SUBSCRIBE said');
  const udp = { protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '198.51.100.2', remotePort: 5062 };
  t.same(notifyDestination(record({ ...rr, flow: { ...udp, connectionId: null } })), udp, 'UDP: the source address and port');
  const notify = buildNotify({
    dialog: dialogOf(rr), event: 'dialog', eventId: null, subscriptionState: 'active;expires=60',
    contentType: 'application/dialog-info+xml', body: Buffer.alloc(0), contact: 'sip:10.0.0.1:5060', transport: TCP, sentBy: '10.0.0.1:5060',
  });
  t.same(notify.headers.getAll('route'), [], 'no Route header in the NOTIFY');
  t.equal(notify.uri, 'sip:2001@192.168.1.20:5062', 'the Request-URI is the Contact (RFC 3261 §12.2.1.1)');
});

t.test('trust is taken from the policy\'s identity: only kind peer marks the flow (issue 19)', async (t) => {
  const flow = { protocol: 'udp' as const, localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '198.51.100.2', remotePort: 5062 };
  t.equal(flowRecord(flow).trustedPeer, undefined, 'no identity');
  t.equal(flowRecord(flow, { kind: 'device', id: 'd', accountId: 'a' }).trustedPeer, undefined, 'a device');
  t.equal(flowRecord(flow, { kind: 'peer', id: 'p', accountId: 'a' }).trustedPeer, true, 'a trusted peer');
  t.equal(routesHonoured(flowRecord(flow, { kind: 'peer', id: 'p', accountId: 'a' })), true);
  t.equal('trustedPeer' in flowRecord(flow), false, 'absent rather than false: stored flows stay as they were');
});

t.test('a UDP flow has no connection id (RFC 3261 §18.1.1)', async (t) => {
  const udp = { protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '198.51.100.2', remotePort: 5062, connectionId: null };
  t.equal('connectionId' in (notifyDestination(trusted({ flow: udp })) as { flow: object }).flow, false, 'trusted: the flow of a flow and fallback');
  t.equal('connectionId' in (notifyDestination(record({ flow: udp })) as object), false, 'untrusted: the flow itself');
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
  t.same(notifyDestination(trusted({ contact: 'sip:k3x9@df7jal23ls0d.invalid;transport=ws', flow: ws })), ws, 'the flow alone, no fallback, even for a trusted peer');
});

t.test('a watcher whose Contact needs TLS but whose flow is TCP gets its NOTIFYs on that flow, never a plaintext dial (issue 20)', async (t) => {
  // Trusted, so that dialling would otherwise be allowed (issue 19): the TLS rule alone keeps it on its flow.
  const flow = { protocol: 'tcp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '203.0.113.5', remotePort: 40000, connectionId: 7 };
  t.same(notifyDestination(trusted({ contact: 'sips:2001@192.168.1.20:5062' })), flow);
  t.same(notifyDestination(trusted({ contact: 'sip:2001@192.168.1.20:5062;transport=tls' })), flow);
  const udp = { protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '198.51.100.2', remotePort: 5062 };
  t.same(notifyDestination(trusted({ contact: 'sips:2001@192.168.1.20', flow: { ...udp, connectionId: null } })), udp, 'over UDP as before');
  // Changed with issue 20 (the TLS transport exists): a trusted peer's sips: first Route is dialled, over TLS only.
  t.same(notifyDestination(trusted({ routeSet: ['sips:proxy.example.com;lr'] })), { protocol: 'tls', host: 'proxy.example.com', port: 5061 });
  const tls = { ...flow, protocol: 'tls' };
  t.same(
    notifyDestination(trusted({ contact: 'sips:2001@192.168.1.20:5062', flow: tls })),
    { flow: tls, fallback: { protocol: 'tls', host: '192.168.1.20', port: 5062 } },
    'a trusted TLS flow falls back to its sips: Contact over TLS',
  );
  t.same(notifyDestination(record({ contact: 'sips:2001@192.168.1.20:5062', flow: tls })), tls, 'an untrusted one only on its flow (issue 19)');
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
