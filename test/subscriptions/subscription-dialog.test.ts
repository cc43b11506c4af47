import t from 'tap';
import { parseUri } from '../../src/sip/message/uri.js';
import type { SubscriptionRecord } from '../../src/store/records.js';
import { localContact, notifyDestination, targetOf } from '../../src/subscriptions/subscription-dialog.js';

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

t.test('a URI as a target: default ports, transport parameter, sips over TCP, IPv6 without brackets (RFC 3261 §19.1.2)', async (t) => {
  t.same(targetOf(parseUri('sip:a.example.com'), 'udp'), { protocol: 'udp', host: 'a.example.com', port: 5060 });
  t.same(targetOf(parseUri('sip:a.example.com;transport=TCP'), 'udp'), { protocol: 'tcp', host: 'a.example.com', port: 5060 });
  t.same(targetOf(parseUri('sips:a.example.com'), 'udp'), { protocol: 'tcp', host: 'a.example.com', port: 5061 });
  t.same(targetOf(parseUri('sip:u@[2001:db8::1]:5080'), 'tcp'), { protocol: 'tcp', host: '2001:db8::1', port: 5080 });
  t.equal(targetOf(parseUri('tel:+15551234'), 'udp'), undefined);
});

t.test('our Contact: the public host when set, the flow address unless it is a wildcard, ;transport=tcp on TCP (RFC 3261 §8.1.1.8)', async (t) => {
  const flow = { protocol: 'udp' as const, localAddress: '10.0.0.1', localPort: 5060 };
  t.same(localContact(flow, undefined, 'example.com'), { uri: 'sip:10.0.0.1:5060', hostPort: '10.0.0.1:5060' });
  t.equal(localContact(flow, 'pbx.example.com', 'example.com').uri, 'sip:pbx.example.com:5060');
  t.equal(localContact({ ...flow, localAddress: '0.0.0.0' }, undefined, 'example.com').uri, 'sip:example.com:5060');
  t.equal(localContact({ ...flow, protocol: 'tcp', localAddress: '::1' }, undefined, 'x').uri, 'sip:[::1]:5060;transport=tcp');
});
