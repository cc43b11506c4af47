import t from 'tap';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import { normalizeAddress } from '../../../src/sip/transport/address.js';
import { flowKey } from '../../../src/sip/transport/flow.js';
import { stampVia } from '../../../src/sip/transport/via-stamp.js';

function req(via: string): SipRequest {
  const text = [
    'OPTIONS sip:presence@example.com SIP/2.0',
    `Via: ${via}`,
    'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKsecond',
    'From: <sip:a@example.com>;tag=1',
    'To: <sip:presence@example.com>',
    'Call-ID: x',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(Buffer.from(text)) as SipRequest;
}

t.test('received is added when the sent-by host is not the source address (RFC 3261 §18.2.1)', async (t) => {
  const r = req('SIP/2.0/UDP phone.example.com:5062;branch=z9hG4bK1');
  t.equal(stampVia(r, '203.0.113.5', 40000), true);
  t.equal(r.topVia.params.get('received'), '203.0.113.5');
  t.equal(r.topVia.params.has('rport'), false);
  t.equal(r.topVia.host, 'phone.example.com', 'sent-by itself is untouched');
  t.equal(r.via.length, 2, 'only the top Via changes');
  t.equal(r.via[1]!.params.has('received'), false);
});

t.test('no received when the sent-by host equals the source address (RFC 3261 §18.2.1)', async (t) => {
  const r = req('SIP/2.0/UDP 203.0.113.5:5062;branch=z9hG4bK1');
  t.equal(stampVia(r, '203.0.113.5', 5062), false);
  t.equal(r.topVia.params.has('received'), false);
});

t.test('an empty rport gets the source port and received even when the address matches (RFC 3581 §4)', async (t) => {
  const r = req('SIP/2.0/UDP 203.0.113.5:5062;rport;branch=z9hG4bK1');
  stampVia(r, '203.0.113.5', 40000);
  t.equal(r.topVia.params.get('rport'), '40000');
  t.equal(r.topVia.params.get('received'), '203.0.113.5');
});

t.test('an rport that already has a value is left alone (RFC 3581 §4)', async (t) => {
  const r = req('SIP/2.0/UDP 203.0.113.5:5062;rport=1234;branch=z9hG4bK1');
  t.equal(stampVia(r, '203.0.113.5', 40000), false);
  t.equal(r.topVia.params.get('rport'), '1234');
});

t.test('IPv6 sent-by in brackets equals the same source address (RFC 3261 §18.2.1)', async (t) => {
  const r = req('SIP/2.0/UDP [2001:DB8::5]:5062;branch=z9hG4bK1');
  t.equal(stampVia(r, '2001:db8::5', 5062), false);
  const r2 = req('SIP/2.0/UDP [2001:db8::5]:5062;branch=z9hG4bK1;rport');
  stampVia(r2, '2001:db8::6', 7000);
  t.equal(r2.topVia.params.get('received'), '2001:db8::6');
  t.equal(r2.topVia.params.get('rport'), '7000');
});

t.test('addresses are normalised: brackets removed, IPv4-mapped IPv6 shown as IPv4', async (t) => {
  t.equal(normalizeAddress('[::1]'), '::1');
  t.equal(normalizeAddress('::FFFF:10.0.0.1'), '10.0.0.1');
  t.equal(normalizeAddress('2001:DB8::1'), '2001:db8::1');
});

t.test('flow keys tell connections and paths apart (RFC 5626 §3)', async (t) => {
  const base = { protocol: 'tcp' as const, localAddress: '::1', localPort: 5060, remoteAddress: '::1', remotePort: 4000 };
  t.not(flowKey({ ...base, connectionId: 1 }), flowKey({ ...base, connectionId: 2 }));
  t.equal(flowKey({ ...base, connectionId: 1 }), flowKey({ ...base, connectionId: 1 }));
  t.match(flowKey(base), /\[::1\]:4000/);
});
