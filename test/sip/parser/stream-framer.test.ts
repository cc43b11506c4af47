import t from 'tap';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { requestOf } from '../../../src/sip/message/request-parse-error.js';
import { StreamFramer, type FramerOutput } from '../../../src/sip/parser/stream-framer.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';

function msg(extra: string[], body = ''): Buffer {
  return Buffer.from(
    ['OPTIONS sip:a@example.com SIP/2.0', 'Via: SIP/2.0/TCP h;branch=z9hG4bK1', 'From: <sip:b@example.com>;tag=1', 'To: <sip:a@example.com>',
      'Call-ID: c1', 'CSeq: 1 OPTIONS', ...extra, '', body].join('\r\n'),
  );
}

function kinds(out: FramerOutput[]): string[] {
  return out.map((o) => (o.kind === 'error' ? `error${o.fatal ? '!' : ''}` : o.kind));
}

// The subtest type (the last overload of t.test takes only the callback).
type Test = Parameters<Parameters<typeof t.test>[0]>[0];

function fatalError(t: Test, out: FramerOutput[]): ParseError {
  const last = out[out.length - 1];
  t.equal(last?.kind, 'error');
  if (last?.kind !== 'error') return new ParseError('none');
  t.equal(last.fatal, true, 'fatal');
  t.type(last.error, ParseError);
  return last.error;
}

t.test('Content-Length frames messages: several per chunk and split across chunks (RFC 3261 §18.3)', async (t) => {
  const a = msg(['Content-Length: 5'], 'hello');
  const b = msg(['l: 0']);
  const f = new StreamFramer();
  const out = f.push(Buffer.concat([a, b, a.subarray(0, 20)]));
  t.same(kinds(out), ['message', 'message']);
  t.ok(out[0]?.kind === 'message' && out[0].bytes.equals(a));
  t.ok(out[1]?.kind === 'message' && out[1].bytes.equals(b), "compact 'l' is Content-Length");
  t.equal(f.buffered, 20);
  const rest = f.push(a.subarray(20));
  t.same(kinds(rest), ['message']);
  t.ok(rest[0]?.kind === 'message' && rest[0].bytes.equals(a));
  t.equal(f.buffered, 0);
});

t.test('CRLFCRLF between messages is a ping, a lone CRLF is skipped (RFC 5626 §3.5.1, RFC 3261 §7.5)', async (t) => {
  const a = msg(['Content-Length: 0']);
  const f = new StreamFramer();
  t.same(kinds(f.push(Buffer.from('\r\n\r\n'))), ['ping']);
  t.same(kinds(f.push(Buffer.from('\r\n'))), [], 'a lone CRLF waits: it may be half a ping');
  t.same(kinds(f.push(Buffer.from('\r\n'))), ['ping'], 'the second half makes it a ping');
  t.same(kinds(f.push(Buffer.concat([Buffer.from('\r\n'), a]))), ['message'], 'lone CRLF before a message is skipped');
  t.same(kinds(f.push(Buffer.concat([a, Buffer.from('\r\n\r\n\r\n\r\n'), a]))), ['message', 'ping', 'ping', 'message']);
});

t.test('missing Content-Length on a stream is fatal, with the request for a 400 (RFC 3261 §18.3)', async (t) => {
  const f = new StreamFramer();
  const err = fatalError(t, f.push(msg([])));
  t.match(err.message, /missing Content-Length/);
  t.equal(err.status, 400);
  t.equal(requestOf(err)?.callId, 'c1', 'the partly parsed request is attached');
  t.ok(f.isFailed);
  t.same(f.push(msg(['Content-Length: 0'])), [], 'the framer stays failed');
});

t.test('negative Content-Length is fatal (RFC 4475 §3.1.2.3)', async (t) => {
  const err = fatalError(t, new StreamFramer().push(msg(['Content-Length: -999'], 'x')));
  t.match(err.message, /invalid Content-Length/);
  t.equal(requestOf(err)?.method, 'OPTIONS');
});

t.test('several Content-Length headers are fatal, even equal ones (RFC 4475 §3.3.9)', async (t) => {
  fatalError(t, new StreamFramer().push(msg(['Content-Length: 5', 'Content-Length: 13'], 'hello')));
  const err = fatalError(t, new StreamFramer().push(msg(['Content-Length: 0', 'l: 0'])));
  t.match(err.message, /several Content-Length/);
});

t.test('size limits: message and header section (framer options)', async (t) => {
  const big = msg([`Content-Length: 70000`]);
  const err = fatalError(t, new StreamFramer().push(big));
  t.match(err.message, /exceeds 65536/, 'default 64 KiB message limit');
  t.same(kinds(new StreamFramer({ maxMessageBytes: 100_000 }).push(Buffer.concat([big, Buffer.alloc(70000, 0x61)]))), ['message']);
  const small = new StreamFramer({ maxMessageBytes: 300 });
  const e2 = fatalError(t, small.push(msg(['Content-Length: 200'], 'x'.repeat(200))));
  t.match(e2.message, /exceeds 300/);
  const headerCap = new StreamFramer({ maxHeaderBytes: 256 });
  t.same(kinds(headerCap.push(Buffer.alloc(200, 0x61))), [], 'still below the header limit: waits');
  const e3 = fatalError(t, headerCap.push(Buffer.alloc(100, 0x61)));
  t.match(e3.message, /header section larger than 256/, 'no empty line within the limit');
  t.equal(requestOf(e3), undefined, 'nothing to answer');
  const longHeader = msg(['Content-Length: 0', `X-Long: ${'a'.repeat(400)}`]);
  t.match(fatalError(t, new StreamFramer({ maxHeaderBytes: 256 }).push(longHeader)).message, /header section larger/);
});

t.test('framed messages parse as stream messages', async (t) => {
  const a = msg(['Content-Length: 5'], 'hello');
  const out = new StreamFramer().push(a);
  const bytes = out[0]?.kind === 'message' ? out[0].bytes : Buffer.alloc(0);
  const parsed = parseMessage(bytes, { datagram: false });
  t.equal(parsed.body.toString(), 'hello');
});
