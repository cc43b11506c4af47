import t from 'tap';
import type { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { requestOf } from '../../../src/sip/message/request-parse-error.js';
import { MAX_HEADER_LINES, parseMessage } from '../../../src/sip/parser/parse-message.js';

const HEAD = ['SUBSCRIBE sip:1002@example.com SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:1001@example.com>;tag=1',
  'To: <sip:1002@example.com>', 'Call-ID: c1', 'CSeq: 1 SUBSCRIBE'];

function build(extra: string[], body = ''): Buffer {
  return Buffer.from([...HEAD, ...extra, '', body].join('\r\n'));
}

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

t.test('datagram framing: no Content-Length means the rest, extra bytes are ignored (RFC 3261 §18.3)', async (t) => {
  t.equal(parseMessage(build([], 'abc')).body.toString(), 'abc');
  t.equal(parseMessage(build(['Content-Length: 2'], 'abc')).body.toString(), 'ab');
  const err = parseError(() => parseMessage(build(['Content-Length: 4'], 'abc')));
  t.match(err.message, /exceeds/);
  t.ok(requestOf(err), 'request attached for the 400');
});

t.test('stream framing: Content-Length is mandatory and exact (RFC 3261 §18.3)', async (t) => {
  t.equal(parseMessage(build(['Content-Length: 3'], 'abc'), { datagram: false }).body.toString(), 'abc');
  t.match(parseError(() => parseMessage(build([], 'abc'), { datagram: false })).message, /missing Content-Length/);
  t.match(parseError(() => parseMessage(build(['Content-Length: 2'], 'abc'), { datagram: false })).message, /beyond Content-Length/);
});

t.test('bodies are Buffers, byte-exact, not strings', async (t) => {
  const body = Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0xc3]);
  const m = parseMessage(Buffer.concat([build([`Content-Length: ${body.length}`]), body]));
  t.ok(Buffer.isBuffer(m.body));
  t.ok(m.body.equals(body));
});

t.test('CRLFs before the start line are ignored (RFC 3261 §7.5)', async (t) => {
  const m = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), build(['Content-Length: 0'])]));
  t.equal((m as SipRequest).method, 'SUBSCRIBE');
  t.throws(() => parseMessage(Buffer.from('\r\n\r\n')), ParseError, 'only CRLFs is not a message');
});

t.test('folded header lines are joined with one SP (RFC 3261 §7.3.1)', async (t) => {
  const m = parseMessage(build(['Subject: first', ' \t second', '\tthird', 'Event: dialog', '  ;id=9'])) as SipRequest;
  t.equal(m.headers.get('subject'), 'first second third');
  t.equal(m.event?.id, '9');
});

t.test('malformed header sections throw ParseError, with the request when there is one', async (t) => {
  const noColon = parseError(() => parseMessage(build(['Expires 60'])));
  t.match(noColon.message, /without ':'/);
  t.equal(requestOf(noColon)?.callId, 'c1', 'the other headers are still there');
  t.match(parseError(() => parseMessage(build(['Bad Name: 1']))).message, /header name/);
  t.match(parseError(() => parseMessage(Buffer.from(HEAD.join('\r\n') + '\nExpires: 1\r\n\r\n'))).message, /bare LF/);
  t.match(parseError(() => parseMessage(Buffer.from(HEAD.join('\r\n') + '\r\nX: a\rb\r\n\r\n'))).message, /bare CR/);
  t.match(parseError(() => parseMessage(Buffer.from([...HEAD.slice(0, 1), ' folded-first: x', ...HEAD.slice(1), '', ''].join('\r\n')))).message, /continuation/);
  const many = Array.from({ length: MAX_HEADER_LINES }, (_, i) => `X-${i}: ${i}`);
  t.match(parseError(() => parseMessage(build(many))).message, /more than 256 header lines/);
});

t.test('start lines: methods, versions, status lines (RFC 3261 §7.1, §7.2)', async (t) => {
  const lower = parseMessage(Buffer.from('OPTIONS sip:a@b sip/2.0\r\nContent-Length: 0\r\n\r\n')) as SipRequest;
  t.equal(lower.version, 'sip/2.0', '"SIP" is case-insensitive');
  for (const bad of ['OPTIONS sip:a@b', 'OPT IONS sip:a@b SIP/2.0 x', 'OPTIONS sip:a@b HTTP/1.1', 'OPTI<ONS sip:a@b SIP/2.0', 'SIP/2.0 20 OK', 'SIP/2.0 2000 OK', 'SIP/2.0 099 Low', 'SIP/3.0 200 OK', 'SIP/2.0']) {
    t.throws(() => parseMessage(Buffer.from(`${bad}\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\n\r\n`)), ParseError, bad);
  }
  const v3 = parseError(() => parseMessage(Buffer.from('OPTIONS sip:a@b SIP/3.0\r\nContent-Length: 0\r\n\r\n')));
  t.equal(v3.status, 505, 'an unknown version is answered 505 (RFC 3261 §8.2.1... §21.5.6)');
  const res = parseMessage(Buffer.from('SIP/2.0 202 Accepted Later\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 2 SUBSCRIBE\r\nContent-Length: 0\r\n\r\n')) as SipResponse;
  t.equal(res.status, 202);
  t.equal(res.reason, 'Accepted Later');
  t.throws(() => parseMessage(Buffer.from('SIP/2.0 200 OK\r\nCSeq: 2 SUBSCRIBE\r\n\r\n')), ParseError, 'a response without Via is dropped');
});

t.test('header names resolve alike in every spelling: canonical, lower, upper, compact, mixed (RFC 3261 §7.3.1, §7.3.3)', async (t) => {
  const text = [
    'OPTIONS sip:a@b SIP/2.0',
    'VIA: SIP/2.0/UDP h1;branch=z9hG4bK1',
    'v: SIP/2.0/UDP h2;branch=z9hG4bK2',
    'V: SIP/2.0/UDP h3;branch=z9hG4bK3',
    'vIa: SIP/2.0/UDP h4;branch=z9hG4bK4',
    'call-id: c',
    'CSEQ: 1 OPTIONS',
    'Content-length: 0',
    'X-Custom-Thing: kept',
    '',
    '',
  ].join('\r\n');
  const m = parseMessage(Buffer.from(text));
  t.same(m.via.map((v) => v.host), ['h1', 'h2', 'h3', 'h4']);
  t.same([...m.headers].map(([name]) => name), ['Via', 'Via', 'Via', 'Via', 'Call-ID', 'CSeq', 'Content-Length', 'X-Custom-Thing']);
  t.equal(m.callId, 'c');
  t.equal(m.headers.get('x-custom-thing'), 'kept');
});
