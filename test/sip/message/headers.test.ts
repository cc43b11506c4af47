import t from 'tap';
import { COMPACT } from '../../../src/sip/message/header-names.js';
import { Headers } from '../../../src/sip/message/headers.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { splitList } from '../../../src/sip/message/split-list.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';

function req(lines: string[]): SipRequest {
  return parseMessage(Buffer.from(['OPTIONS sip:a@example.com SIP/2.0', ...lines, '', ''].join('\r\n'))) as SipRequest;
}

t.test('compact header forms map to their long names (RFC 3261 §7.3.3, RFC 6665 §8.2, RFC 3515, RFC 4028)', async (t) => {
  const expected: Record<string, string> = {
    i: 'Call-ID', m: 'Contact', e: 'Content-Encoding', l: 'Content-Length', f: 'From', t: 'To', v: 'Via',
    s: 'Subject', k: 'Supported', o: 'Event', u: 'Allow-Events', r: 'Refer-To', b: 'Referred-By',
    x: 'Session-Expires', y: 'Identity', c: 'Content-Type',
  };
  for (const [compact, long] of Object.entries(expected)) {
    const h = new Headers();
    h.append(compact, `value-${compact}`);
    t.equal(h.get(long), `value-${compact}`, `${compact} is ${long}`);
    t.equal(h.get(long.toUpperCase()), `value-${compact}`);
    t.equal(h.get(compact.toUpperCase()), `value-${compact}`, `${compact.toUpperCase()} is ${long} too`);
    t.same([...h][0], [long, `value-${compact}`], 'written with the long canonical name');
    t.equal(COMPACT.get(compact), long.toLowerCase());
  }
  const parsed = req(['v: SIP/2.0/UDP h;branch=z9hG4bK1', 'I: cid', 'L: 0', 'o: dialog;id=7', 'u: dialog', 'k: eventlist', 'c: text/plain']);
  t.equal(parsed.callId, 'cid');
  t.equal(parsed.contentLength, 0);
  t.equal(parsed.event?.package, 'dialog');
  t.same(parsed.allowEvents, ['dialog']);
  t.same(parsed.supported, ['eventlist']);
  t.equal(parsed.contentType, 'text/plain');
});

t.test('header names are case-insensitive (RFC 3261 §7.3.1)', async (t) => {
  const h = req(['cAlL-iD: abc', 'CSEQ: 1 OPTIONS', 'www-authenticate: Digest realm="x"', 'X-Custom: one', 'x-custom: two']).headers;
  t.equal(h.get('Call-ID'), 'abc');
  t.equal(h.get('call-id'), 'abc');
  t.equal(h.get('i'), 'abc');
  t.equal(h.count('X-CUSTOM'), 2);
  t.same([...h].map(([n]) => n), ['Call-ID', 'CSeq', 'WWW-Authenticate', 'X-Custom', 'x-custom'], 'canonical capitalisation for known names, as sent for unknown');
  t.ok(h.has('cseq'));
  t.notOk(h.has('expires'));
});

t.test('list values split at commas outside quotes and <> (RFC 3261 §7.3.1)', async (t) => {
  const h = req([
    'Contact: "Doe, John" <sip:j@a.example.com;x=1,2>;q=0.5, <sip:k@b.example.com>',
    'Contact: sip:l@c.example.com',
    'Accept: application/pidf+xml, application/xpidf+xml,',
    'Authorization: Digest username="a,b", realm="r", nonce="n", uri="sip:x", response="0"',
    'Date: Sat, 15 Oct 2005 04:44:56 GMT',
    'X-Unknown: a, b, c',
    'Supported: replaces, 100rel',
    'Supported: timer',
  ]).headers;
  t.same(h.getAll('contact'), ['"Doe, John" <sip:j@a.example.com;x=1,2>;q=0.5', '<sip:k@b.example.com>', 'sip:l@c.example.com']);
  t.same(h.getAll('accept'), ['application/pidf+xml', 'application/xpidf+xml'], 'a trailing comma gives no empty element');
  t.equal(h.getAll('authorization').length, 1, 'Authorization is not split');
  t.same(h.getAll('date'), ['Sat, 15 Oct 2005 04:44:56 GMT'], 'Date is not split');
  t.same(h.getAll('x-unknown'), ['a, b, c'], 'unknown headers are split by line only');
  t.same(h.getAll('k'), ['replaces', '100rel', 'timer'], 'several lines are one list');
  t.equal(h.get('contact'), '"Doe, John" <sip:j@a.example.com;x=1,2>;q=0.5, <sip:k@b.example.com>', 'get gives the first raw line');
  t.same(h.lines('contact').length, 2);
});

t.test('splitList honours quoted-pairs and rejects empty elements when strict', async (t) => {
  t.same(splitList('"a\\",b" <x>, c', false), ['"a\\",b" <x>', 'c']);
  t.same(splitList('a,,b', false), ['a', 'b']);
  t.throws(() => splitList('a,,b', true, 'Via'), { message: /Via: empty list element/ });
  t.throws(() => splitList('"open, x', false), ParseError);
});

t.test('set, append, prepend, delete keep order and bump the revision', async (t) => {
  const h = new Headers();
  const r0 = h.rev;
  h.append('Via', 'SIP/2.0/UDP a');
  h.append('Route', '<sip:r1>');
  h.append('Via', 'SIP/2.0/UDP b');
  h.prepend('v', 'SIP/2.0/UDP top');
  t.same(h.lines('via'), ['SIP/2.0/UDP top', 'SIP/2.0/UDP a', 'SIP/2.0/UDP b']);
  h.set('VIA', 'SIP/2.0/UDP only');
  t.same([...h], [['Via', 'SIP/2.0/UDP only'], ['Route', '<sip:r1>']], 'set replaces at the first position');
  h.set('Expires', ' 60 ');
  t.equal(h.get('expires'), '60', 'values are trimmed');
  h.delete('route');
  t.notOk(h.has('Route'));
  t.equal(h.size, 2);
  t.ok(h.rev > r0);
  const c = h.clone();
  c.append('X', 'y');
  t.notOk(h.has('x'), 'clone is independent');
});

t.test('header values with CR or LF are refused: they would inject lines (RFC 3261 §7.3.1)', async (t) => {
  const h = new Headers();
  t.throws(() => h.append('Subject', 'a\r\nVia: evil'), ParseError);
  t.throws(() => h.set('Subject', 'a\nb'), ParseError);
  t.throws(() => h.prepend('Subject', 'a\rb'), ParseError);
  t.throws(() => h.append('Bad Name', 'x'), ParseError, 'names must be tokens');
  t.equal(h.size, 0);
});

t.test('setFirstValue replaces the first element of a multi-value line', async (t) => {
  const h = new Headers();
  h.append('Via', 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2');
  h.append('Via', 'SIP/2.0/UDP c;branch=z9hG4bK3');
  h.setFirstValue('via', 'SIP/2.0/UDP a;branch=z9hG4bK1;received=192.0.2.1');
  t.same(h.lines('via'), ['SIP/2.0/UDP a;branch=z9hG4bK1;received=192.0.2.1, SIP/2.0/UDP b;branch=z9hG4bK2', 'SIP/2.0/UDP c;branch=z9hG4bK3']);
});
