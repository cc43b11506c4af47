import fc from 'fast-check';
import t from 'tap';
import type { SipMessage } from '../../../src/sip/message/message.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { requestOf } from '../../../src/sip/message/request-parse-error.js';
import { canRespond, createResponse } from '../../../src/sip/message/response-factory.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import { StreamFramer, type FramerOutput } from '../../../src/sip/parser/stream-framer.js';
import { validateRequest } from '../../../src/sip/parser/validate.js';
import { loadAllCaptures, loadAllRfc4475 } from '../../support/sip-fixtures.js';

const GETTERS = [
  'via', 'topVia', 'cseq', 'from', 'to', 'callId', 'contact', 'contactStar', 'expires', 'minExpires', 'maxForwards',
  'contentLength', 'contentType', 'event', 'subscriptionState', 'accept', 'require', 'proxyRequire', 'supported',
  'allowEvents', 'sipIfMatch', 'sipETag', 'authorization', 'route', 'recordRoute',
] as const;

/** Runs fn; anything thrown that is not a ParseError fails the property. */
function onlyParseError(what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError)) {
      throw new Error(`${what} threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
    }
  }
}

/** Touches everything a caller may touch on a parsed (or partly parsed) message. */
function exercise(msg: SipMessage): void {
  const m = msg as unknown as Record<string, unknown>;
  for (const g of GETTERS) onlyParseError(g, () => void m[g]);
  onlyParseError('headers', () => {
    for (const [name] of msg.headers) void msg.headers.getAll(name);
  });
  if (msg.isRequest()) {
    onlyParseError('requestUri', () => void msg.requestUri);
    onlyParseError('validateRequest', () => validateRequest(msg));
    if (canRespond(msg)) void serialize(createResponse(msg, 400, undefined, { toTag: 'x1' }));
  }
  const wire = serialize(msg);
  onlyParseError('re-parse of serialized', () => {
    const again = parseMessage(wire);
    for (const g of GETTERS) onlyParseError(g, () => void (again as unknown as Record<string, unknown>)[g]);
  });
}

function check(buf: Buffer, datagram: boolean): void {
  let msg: SipMessage;
  try {
    msg = parseMessage(buf, { datagram });
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    const partial = requestOf(err);
    if (partial !== undefined) exercise(partial);
    return;
  }
  exercise(msg);
}

const corpus: Buffer[] = [...loadAllRfc4475().values(), ...loadAllCaptures().messages.map((m) => m.bytes)];

// Bytes that matter to the grammar, so insertions hit the interesting paths more often than random bytes.
const INTERESTING = [13, 10, 32, 9, 58, 59, 44, 34, 60, 62, 37, 92, 61, 64, 47, 63, 0, 0xff, 0xc3, 0x28, 48, 57];

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'dupline'; at: number };

const byteArb = fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 }));
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(byteArb, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dupline' as const), at: fc.nat() }),
);

function mutate(base: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(base);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'flip':
        b[at] = (b[at] as number) ^ m.mask;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + m.len))]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'dupline': {
        const start = b.lastIndexOf('\n', at) + 1;
        const endLf = b.indexOf('\n', at);
        const end = endLf === -1 ? b.length : endLf + 1;
        b = Buffer.concat([b.subarray(0, end), b.subarray(start, end), b.subarray(end)]);
        break;
      }
    }
  }
  return b;
}

t.test('mutated messages raise nothing but ParseError from parsing, validation, getters, serializer (RFC 3261 §7)', async (t) => {
  let parsed = 0;
  let rejected = 0;
  fc.assert(
    fc.property(
      fc.nat({ max: corpus.length - 1 }),
      fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      (i, mutations, datagram) => {
        const buf = mutate(corpus[i] as Buffer, mutations);
        try {
          parseMessage(buf, { datagram });
          parsed++;
        } catch {
          rejected++;
        }
        check(buf, datagram);
      },
    ),
    { numRuns: 12000, seed: 4475 },
  );
  t.equal(parsed + rejected, 12000, '12,000 mutated messages');
  t.ok(parsed > 1000 && rejected > 1000, `both outcomes are exercised (${parsed} parsed, ${rejected} rejected)`);
});

t.test('random bytes and header-like noise raise only ParseError', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => check(Buffer.from(bytes), true)),
    { numRuns: 2000, seed: 3261 },
  );
  const headerLine = fc
    .tuple(fc.constantFrom('Via', 'v', 'From', 'f', 'To', 'Contact', 'm', 'CSeq', 'Call-ID', 'Event', 'o', 'Expires', 'Accept',
      'Subscription-State', 'SIP-If-Match', 'Authorization', 'Route', 'l', 'Content-Length', 'Max-Forwards'),
      fc.string({ unit: fc.constantFrom(...'abc019 ;,:="<>@%\\/.-*tag=branch=sip:'.split('')), maxLength: 40 }))
    .map(([n, v]) => `${n}: ${v}\r\n`);
  fc.assert(
    fc.property(fc.array(headerLine, { maxLength: 12 }), (lines) =>
      check(Buffer.from(`SUBSCRIBE sip:a@b SIP/2.0\r\n${lines.join('')}\r\n`), true),
    ),
    { numRuns: 3000, seed: 6665 },
  );
  t.pass('no other error escaped');
});

// ---- stream framing ----

const PING = Buffer.from('\r\n\r\n');
const LONE = Buffer.from('\r\n');

/** Messages with a correct Content-Length, as they go on a stream. */
const framable: Buffer[] = loadAllCaptures().messages.map((m) => serialize(parseMessage(m.bytes)));
for (const [name, raw] of loadAllRfc4475()) {
  if (['wsinv', 'intmeth', 'esc01', 'mpart01', 'longreq', 'unreason', 'semiuri'].includes(name)) framable.push(raw);
}

type Sep = 'none' | 'ping' | 'lone' | 'ping+lone' | 'ping+ping';
const SEP_BYTES: Record<Sep, Buffer[]> = {
  none: [],
  ping: [PING],
  lone: [LONE],
  'ping+lone': [PING, LONE],
  'ping+ping': [PING, PING],
};
const SEP_PINGS: Record<Sep, number> = { none: 0, ping: 1, lone: 0, 'ping+lone': 1, 'ping+ping': 2 };

type Expected = { kind: 'message'; bytes: Buffer } | { kind: 'ping' };

function buildStream(parts: [Sep, number][]): { stream: Buffer; expected: Expected[] } {
  const chunks: Buffer[] = [];
  const expected: Expected[] = [];
  for (const [sep, idx] of parts) {
    chunks.push(...SEP_BYTES[sep]);
    for (let k = 0; k < SEP_PINGS[sep]; k++) expected.push({ kind: 'ping' });
    const msg = framable[idx % framable.length] as Buffer;
    chunks.push(msg);
    expected.push({ kind: 'message', bytes: msg });
  }
  return { stream: Buffer.concat(chunks), expected };
}

function feed(stream: Buffer, cuts: number[]): FramerOutput[] {
  const framer = new StreamFramer();
  const out: FramerOutput[] = [];
  let prev = 0;
  for (const c of [...cuts, stream.length]) {
    out.push(...framer.push(stream.subarray(prev, c)));
    prev = c;
  }
  return out;
}

function sameOutputs(out: FramerOutput[], expected: Expected[]): string | undefined {
  if (out.length !== expected.length) return `got ${out.length} outputs, expected ${expected.length}: ${out.map((o) => o.kind).join(',')}`;
  for (let i = 0; i < out.length; i++) {
    const o = out[i] as FramerOutput;
    const e = expected[i] as Expected;
    if (o.kind !== e.kind) return `output ${i} is ${o.kind}${o.kind === 'error' ? ' ' + o.error.message : ''}, expected ${e.kind}`;
    if (o.kind === 'message' && e.kind === 'message' && !o.bytes.equals(e.bytes)) return `message ${i} bytes differ`;
  }
  return undefined;
}

t.test('a stream split at every byte offset yields exactly its messages and pings (RFC 3261 §18.3, RFC 5626 §3.5.1)', async (t) => {
  const { stream, expected } = buildStream([
    ['ping', 0],
    ['none', 17],
    ['lone', 30],
    ['ping+lone', 5],
    ['ping+ping', 44],
  ]);
  t.equal(expected.filter((e) => e.kind === 'ping').length, 4);
  let failures = 0;
  for (let k = 0; k <= stream.length; k++) {
    const why = sameOutputs(feed(stream, [k]), expected);
    if (why !== undefined && failures++ < 3) t.fail(`split at ${k}: ${why}`);
  }
  t.equal(failures, 0, `all ${stream.length + 1} two-chunk splits agree`);
  const oneByOne = [...Array(stream.length).keys()].slice(1);
  t.equal(sameOutputs(feed(stream, oneByOne), expected), undefined, 'one byte at a time');
});

t.test('random streams with random multi-splits yield exactly their messages and pings', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom<Sep>('none', 'ping', 'lone', 'ping+lone', 'ping+ping'), fc.nat()), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (parts, rawCuts) => {
        const { stream, expected } = buildStream(parts);
        const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const why = sameOutputs(feed(stream, cuts), expected);
        if (why !== undefined) throw new Error(why);
      },
    ),
    { numRuns: 1500, seed: 5626 },
  );
  t.pass('1,500 random streams framed correctly');
});

t.test('the framer never throws on mutated streams and stops after a fatal error', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom<Sep>('none', 'ping', 'lone'), fc.nat()), { minLength: 1, maxLength: 4 }),
      fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (parts, mutations, rawCuts) => {
        const stream = mutate(buildStream(parts).stream, mutations);
        const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const out = feed(stream, cuts);
        const fatal = out.findIndex((o) => o.kind === 'error' && o.fatal);
        if (fatal !== -1 && fatal !== out.length - 1) throw new Error('output after a fatal error');
        for (const o of out) {
          if (o.kind === 'error' && !(o.error instanceof ParseError)) throw new Error('error is not a ParseError');
          if (o.kind === 'message') check(o.bytes, false);
        }
      },
    ),
    { numRuns: 2000, seed: 18 },
  );
  t.pass('no exception escaped the framer');
});
