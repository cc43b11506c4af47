/**
 * What our server answers to each RFC 4475 message (../shared/fixtures/rfc4475/README.md gives the verdicts).
 * `null` means no response: responses that are not ours to answer are dropped, as are messages no response can be
 * built for. Where the README's listed answer belongs to a UAS that serves the method (invut 415, sdp01 406,
 * regaut01 401), we answer 405 first because method inspection precedes header and body checks (RFC 3261 §8.2.1).
 * `tcp` overrides the answer on a stream where framing differs (clerr: Content-Length larger than what was sent
 * means "wait for more" on a stream, RFC 3261 §18.3).
 */
export interface ExpectedAnswer {
  status: number | null;
  tcp?: number | null;
  why: string;
}

export const RFC4475_EXPECTED: Record<string, ExpectedAnswer> = {
  // §3.1.1 valid messages: parsed, then answered by method
  'wsinv.dat': { status: 405, why: '§3.1.1.1 valid; INVITE is not served by a presence server' },
  'intmeth.dat': { status: 501, why: '§3.1.1.2 valid; the odd method is unknown' },
  'esc01.dat': { status: 405, why: '§3.1.1.3 valid; INVITE not served' },
  'escnull.dat': { status: 405, why: '§3.1.1.4 valid; REGISTER not served' },
  'esc02.dat': { status: 501, why: '§3.1.1.5 RE%47IST%45R is not REGISTER' },
  'lwsdisp.dat': { status: 200, why: '§3.1.1.6 valid OPTIONS' },
  'longreq.dat': { status: 405, why: '§3.1.1.7 valid; INVITE not served' },
  'dblreq.dat': { status: 405, why: '§3.1.1.8 first REGISTER answered, trailing octets ignored' },
  'semiuri.dat': { status: 200, why: '§3.1.1.9 valid OPTIONS' },
  'transports.dat': { status: 200, why: '§3.1.1.10 valid OPTIONS' },
  'mpart01.dat': { status: 405, why: '§3.1.1.11 valid; MESSAGE not served' },
  'unreason.dat': { status: null, why: '§3.1.1.12 a response matching no transaction is dropped' },
  'noreason.dat': { status: null, why: '§3.1.1.13 a response matching no transaction is dropped' },
  // §3.1.2 invalid messages
  'badinv01.dat': { status: 400, why: '§3.1.2.1 extraneous header separators' },
  'clerr.dat': { status: 400, tcp: null, why: '§3.1.2.2 Content-Length larger than the datagram; a stream waits for more' },
  'ncl.dat': { status: 400, why: '§3.1.2.3 negative Content-Length' },
  'scalar02.dat': { status: 400, why: '§3.1.2.4 overlarge scalar values' },
  'scalarlg.dat': { status: null, why: '§3.1.2.5 invalid response dropped' },
  'quotbal.dat': { status: 400, why: '§3.1.2.6 unterminated quoted string' },
  'ltgtruri.dat': { status: 400, why: '§3.1.2.7 <> around the Request-URI' },
  'lwsruri.dat': { status: 400, why: '§3.1.2.8 LWS inside the Request-URI' },
  'lwsstart.dat': { status: 400, why: '§3.1.2.9 several SP in the request line' },
  'trws.dat': { status: 400, why: '§3.1.2.10 SP at the end of the request line' },
  'escruri.dat': { status: 400, why: '§3.1.2.11 escaped headers in the Request-URI' },
  'baddate.dat': { status: 400, why: '§3.1.2.12 invalid time zone in Date: rejected as malformed (the README allows either)' },
  'regbadct.dat': { status: 400, why: '§3.1.2.13 addr-spec with headers outside <>' },
  'badaspec.dat': { status: 400, why: '§3.1.2.14 spaces within addr-spec' },
  'baddn.dat': { status: 400, tcp: null, why: '§3.1.2.15 non-token display name; on a stream the header section never ends, so nothing is framed' },
  'badvers.dat': { status: 505, why: '§3.1.2.16 SIP/7.0' },
  'mismatch01.dat': { status: 400, why: '§3.1.2.17 CSeq method differs from the request method' },
  'mismatch02.dat': { status: 501, why: '§3.1.2.18 unknown method (501 preferred over 400)' },
  'bigcode.dat': { status: null, why: '§3.1.2.19 invalid response dropped' },
  // §3.2 to §3.4: well-formed, handled by the transaction or application layer
  'badbranch.dat': { status: 200, why: '§3.2.1 RFC 2543 transaction matching is the fallback' },
  'insuf.dat': { status: 400, why: '§3.3.1 To, From and Call-ID missing' },
  'unkscm.dat': { status: 416, why: '§3.3.2 unknown Request-URI scheme' },
  'novelsc.dat': { status: 416, why: '§3.3.3 atypical scheme we do not support' },
  'unksm2.dat': { status: 405, why: '§3.3.4 parses; REGISTER not served' },
  'bext01.dat': { status: 420, why: '§3.3.5 Require names an extension we lack' },
  'invut.dat': { status: 405, why: '§3.3.6 parses; INVITE not served (§8.2.1 before §8.2.3)' },
  'regaut01.dat': { status: 405, why: '§3.3.7 parses; REGISTER not served' },
  'multi01.dat': { status: 400, why: '§3.3.8 several values in single-value fields' },
  'mcl01.dat': { status: 400, why: '§3.3.9 several Content-Length values' },
  'bcast.dat': { status: null, why: '§3.3.10 response dropped' },
  'zeromf.dat': { status: 200, why: '§3.3.11 a UAS may answer Max-Forwards 0' },
  'cparam01.dat': { status: 405, why: '§3.3.12 parses; REGISTER not served' },
  'cparam02.dat': { status: 405, why: '§3.3.13 parses; REGISTER not served' },
  'regescrt.dat': { status: 405, why: '§3.3.14 parses; REGISTER not served' },
  'sdp01.dat': { status: 405, why: '§3.3.15 parses; INVITE not served (§8.2.1 before §8.2.2)' },
  'inv2543.dat': { status: 405, tcp: 400, why: '§3.4.1 RFC 2543 syntax parses; INVITE not served (on a stream its missing Content-Length cannot be framed, RFC 3261 §18.3)' },
};
