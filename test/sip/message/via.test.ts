import t from 'tap';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { formatVia, parseVia, viaBranch, viaSentBy } from '../../../src/sip/message/via.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';

/** An OPTIONS request with these header lines. */
function options(...headers: string[]): SipRequest {
  return parseMessage(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`)) as SipRequest;
}

t.test('Via with branch, received, rport, maddr, ttl (RFC 3261 §20.42, RFC 3581 §4)', async (t) => {
  const [v] = parseVia('SIP/2.0/UDP pc33.atlanta.example.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5066;maddr=224.2.0.1;ttl=16');
  t.ok(v);
  if (!v) return;
  t.equal(v.protocol, 'SIP/2.0');
  t.equal(v.transport, 'UDP');
  t.equal(v.host, 'pc33.atlanta.example.com');
  t.equal(v.port, 5066);
  t.equal(viaBranch(v), 'z9hG4bK776asdhds');
  t.equal(v.params.get('received'), '192.0.2.1');
  t.equal(v.params.get('rport'), '5066');
  t.equal(v.params.get('maddr'), '224.2.0.1');
  t.equal(v.params.get('ttl'), '16');
  t.equal(viaSentBy(v), 'pc33.atlanta.example.com:5066');
});

t.test('empty rport, lower-case transport, default port, IPv6 sent-by (RFC 3581 §3, RFC 3261 §18.2.1)', async (t) => {
  const [v] = parseVia('sip/2.0/tcp [2001:DB8::9];rport;branch=z9hG4bKx');
  t.ok(v);
  if (!v) return;
  t.equal(v.protocol, 'SIP/2.0');
  t.equal(v.transport, 'TCP');
  t.equal(v.host, '[2001:DB8::9]');
  t.equal(v.port, undefined);
  t.equal(v.params.get('rport'), null);
  t.ok(v.params.has('rport'));
  t.equal(viaSentBy(v), '[2001:db8::9]:5060', 'default port 5060, host lower-cased');
  t.equal(formatVia(v), 'SIP/2.0/TCP [2001:DB8::9];rport;branch=z9hG4bKx');
  const [bare] = parseVia('SIP/2.0/UDP host.example.com');
  t.equal(bare && viaBranch(bare), undefined, 'RFC 2543 Via without branch');
});

t.test('several Via values in one line, LWS around / and : (RFC 3261 §7.3.1, §25.1)', async (t) => {
  const vias = parseVia('SIP / 2.0 / UDP a.example.com : 5060 ; branch = z9hG4bK1, SIP/2.0/TLS b.example.com;branch=z9hG4bK2');
  t.same(vias.map((v) => [v.transport, v.host, v.port, viaBranch(v)]), [
    ['UDP', 'a.example.com', 5060, 'z9hG4bK1'],
    ['TLS', 'b.example.com', undefined, 'z9hG4bK2'],
  ]);
  const round = parseVia(vias.map(formatVia).join(', '));
  t.same(round, vias, 'formatVia output parses back to the same values');
});

t.test('malformed Via values throw ParseError (RFC 4475 §3.1.2.1)', async (t) => {
  for (const bad of [
    '',
    'SIP/2.0/UDP 192.0.2.15;;,;,,',
    'SIP/2.0/UDP',
    'SIP/2.0 host',
    'SIP/2.0/UDP host:port',
    'SIP/2.0/UDP host:70000',
    'SIP/2.0/UDP host;rport=abc',
    'SIP/2.0/UDP host;ttl=300',
    'SIP/2.0/UDP host;branch',
    'SIP/2.0/UDP host;received',
    'SIP/2.0/UDP host,',
    'SIP/2.0/UDP [::1;branch=x',
    'SIP/2.0/UDPhost',
  ]) {
    t.throws(() => parseVia(bad), ParseError, JSON.stringify(bad));
  }
});

t.test('setTopVia rewrites only the first Via value and refreshes the typed cache (RFC 3581 §4)', async (t) => {
  const req = options('Via: SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKa, SIP/2.0/UDP p.example.com;branch=z9hG4bKb', 'Via: SIP/2.0/UDP q;branch=z9hG4bKc');
  const top = req.topVia;
  t.equal(req.via.length, 3);
  const params = new Map(top.params);
  params.set('rport', '40000');
  params.set('received', '203.0.113.9');
  req.setTopVia({ ...top, params });
  t.equal(req.topVia.params.get('received'), '203.0.113.9', 'the getter sees the new value');
  t.equal(req.topVia.params.get('rport'), '40000');
  t.same(req.via.map((v) => viaBranch(v)), ['z9hG4bKa', 'z9hG4bKb', 'z9hG4bKc'], 'other values untouched');
  t.equal(req.headers.lines('via').length, 2);
  t.equal(req.headers.lines('via')[0], 'SIP/2.0/UDP 10.0.0.1;rport=40000;branch=z9hG4bKa;received=203.0.113.9, SIP/2.0/UDP p.example.com;branch=z9hG4bKb');
});

t.test('setTopVia keeps the other typed values cached and leaves the lower Via values as parsed (RFC 3581 §4)', async (t) => {
  const req = options('Via: SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKa', 'Via: SIP/2.0/UDP q;branch=z9hG4bKc', 'From: <sip:x@y>;tag=1', 'CSeq: 4 OPTIONS');
  const from = req.from;
  const lower = req.via[1];
  const top = req.topVia;
  const params = new Map(top.params);
  params.set('rport', '5070');
  req.setTopVia({ ...top, params });
  t.equal(req.from, from, 'From is not parsed again');
  t.equal(req.via[1], lower, 'the second Via is the same parsed value');
  t.equal(req.topVia.params.get('rport'), '5070');
  t.equal(req.headers.lines('via')[0], 'SIP/2.0/UDP 10.0.0.1;rport=5070;branch=z9hG4bKa');
  // A later change of any header still invalidates everything.
  req.headers.set('From', '<sip:z@y>;tag=2');
  t.equal(req.from.params.get('tag'), '2');
  t.equal(req.topVia.params.get('rport'), '5070', 'the Via re-parsed from the rewritten text agrees');
});

t.test('setTopVia on a message whose headers changed since the last read parses afresh (RFC 3581 §4)', async (t) => {
  const req = options('Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa', 'From: <sip:x@y>;tag=1');
  const top = req.topVia;
  void req.from;
  req.headers.set('From', '<sip:x@y>;tag=9');
  req.setTopVia({ ...top, params: new Map([...top.params, ['received', '192.0.2.1']]) });
  t.equal(req.from.params.get('tag'), '9', 'the From set before setTopVia is seen');
  t.equal(req.topVia.params.get('received'), '192.0.2.1');
});
