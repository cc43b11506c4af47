import { TOKEN, allIn, isDigits, isWs } from '../message/grammar.js';
import { headerNameAt } from '../message/header-names.js';
import { Headers } from '../message/headers.js';
import { SipRequest, SipResponse, type SipMessage } from '../message/message.js';
import { ParseError } from '../message/parse-error.js';
import { RequestParseError } from '../message/request-parse-error.js';

export interface ParseOptions {
  /**
   * Datagram semantics (the default): without Content-Length the body is the rest of the datagram, bytes
   * beyond Content-Length are ignored (RFC 3261 §18.3, RFC 4475 §3.1.1.8). With `false` (a message cut
   * from a stream) Content-Length is mandatory and must match the bytes exactly.
   */
  datagram?: boolean;
}

/** More header lines than this is an abuse, not a message (the framer bounds bytes, this bounds work). */
export const MAX_HEADER_LINES = 256;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

interface StartLine {
  request: boolean;
  method: string;
  uri: string;
  status: number;
  reason: string;
  version: string;
  /** Set when the line was understood but is not valid: the message is still built so a 400 can be sent. */
  error?: string;
  errorStatus?: number;
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 60) + '…' : s;
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, "SIP" case-insensitive (RFC 3261 §7.1). */
function versionKind(v: string): 'ok' | 'other' | 'bad' {
  if (v === 'SIP/2.0') return 'ok';
  if (v.length < 7 || v.slice(0, 4).toUpperCase() !== 'SIP/') return 'bad';
  const dot = v.indexOf('.', 4);
  if (dot === -1 || !isDigits(v.slice(4, dot)) || !isDigits(v.slice(dot + 1))) return 'bad';
  return Number(v.slice(4, dot)) === 2 && Number(v.slice(dot + 1)) === 0 ? 'ok' : 'other';
}

/** A Request-URI is an absolute URI without LWS or <> (RFC 3261 §7.1, §25.1; RFC 4475 §3.1.2.7). */
function requestUriProblem(uri: string): string | undefined {
  const colon = uri.indexOf(':');
  const c0 = uri.charCodeAt(0) | 0x20;
  if (colon <= 0 || c0 < 97 || c0 > 122) return `Request-URI '${clip(uri)}' has no scheme`;
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 60 || c === 62 || c === 34) return `Request-URI '${clip(uri)}' has an invalid character`;
  }
  return undefined;
}

function parseStartLine(line: string): StartLine {
  const c0 = line.charCodeAt(0) | 0x20;
  if (c0 === 115 && (line.charCodeAt(1) | 0x20) === 105 && (line.charCodeAt(2) | 0x20) === 112 && line.charCodeAt(3) === 47) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const sp = line.indexOf(' ');
    const version = sp === -1 ? line : line.slice(0, sp);
    const code = sp === -1 ? '' : line.slice(sp + 1, sp + 4);
    const after = line.charCodeAt(sp + 4);
    if (versionKind(version) !== 'ok') throw new ParseError(`unsupported SIP-Version in response '${clip(version)}'`);
    if (!isDigits(code) || code.length !== 3 || (sp + 4 < line.length && after !== 32)) {
      throw new ParseError(`malformed Status-Line '${clip(line)}'`);
    }
    const status = Number(code);
    if (status < 100) throw new ParseError(`status code ${status} out of range`);
    const reason = sp + 5 <= line.length ? line.slice(sp + 5) : '';
    return { request: false, method: '', uri: '', status, reason, version };
  }
  // Request-Line = Method SP Request-URI SP SIP-Version
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  let method: string;
  let uri: string;
  let version: string;
  let error: string | undefined;
  if (sp1 > 0 && sp2 > sp1 + 1 && line.indexOf(' ', sp1 + 1) === sp2 && line.indexOf('\t') === -1) {
    method = line.slice(0, sp1);
    uri = line.slice(sp1 + 1, sp2);
    version = line.slice(sp2 + 1);
  } else {
    // Understand what we can so a 400 can still be answered (RFC 4475 §3.1.2.8-3.1.2.10).
    const parts = line.split(/[ \t]+/).filter((p) => p.length > 0);
    if (parts.length < 3) throw new ParseError(`malformed Request-Line '${clip(line)}'`);
    method = parts[0] as string;
    version = parts[parts.length - 1] as string;
    uri = parts.slice(1, -1).join(' ');
    error = `malformed Request-Line '${clip(line)}': elements must be separated by single SP`;
  }
  if (!allIn(TOKEN, method)) throw new ParseError(`malformed Method '${clip(method)}'`);
  const vk = versionKind(version);
  if (vk === 'bad') throw new ParseError(`malformed SIP-Version '${clip(version)}'`);
  const start: StartLine = { request: true, method, uri, status: 0, reason: '', version };
  error ??= requestUriProblem(uri);
  if (error !== undefined) start.error = error;
  else if (vk === 'other') {
    start.error = `SIP-Version ${version} is not supported`;
    start.errorStatus = 505;
  }
  return start;
}

/**
 * Parses one SIP message (RFC 3261 §7). The start line, header lines and framing are checked here; header
 * values are parsed later, on first typed access (see SipMessage and validateRequest).
 * Throws ParseError; for a request whose start line could be read it carries `request`, so that a 400 (or 505)
 * can be answered when `canRespond(request)`.
 */
export function parseMessage(buf: Buffer, opts?: ParseOptions): SipMessage {
  const datagram = opts?.datagram !== false;
  const len = buf.length;
  let start = 0;
  // RFC 3261 §7.5: CRLFs preceding the start line are ignored.
  while (start + 1 < len && buf[start] === 13 && buf[start + 1] === 10) start += 2;
  if (start >= len) throw new ParseError('empty message');

  const headEnd = buf.indexOf(CRLFCRLF, start);
  let error: string | undefined;
  let text: string;
  let bodyStart: number;
  if (headEnd === -1) {
    // RFC 3261 §7: the empty line is mandatory even without a body (RFC 4475 baddn.dat lacks it).
    const end = len >= 2 && buf[len - 2] === 13 && buf[len - 1] === 10 ? len - 2 : len;
    text = buf.toString('utf8', start, end);
    bodyStart = len;
    error = 'header section is not terminated by an empty line';
  } else {
    text = buf.toString('utf8', start, headEnd);
    bodyStart = headEnd + 4;
  }

  const n = text.length;
  let lf = text.indexOf('\n');
  let lineEnd = lf === -1 ? n : lf - 1;
  if (lf !== -1 && text.charCodeAt(lineEnd) !== 13) throw new ParseError('bare LF in start line');
  const startLine = text.slice(0, lineEnd);
  if (startLine.indexOf('\r') !== -1) throw new ParseError('bare CR in start line');
  const sl = parseStartLine(startLine);
  let errorStatus = 400;
  if (sl.error !== undefined) {
    error ??= sl.error;
    if (sl.errorStatus !== undefined && error === sl.error) errorStatus = sl.errorStatus;
  }

  const headers = new Headers();
  const lengths: string[] = [];
  let count = 0;
  let pos = lf === -1 ? n : lf + 1;
  while (pos < n) {
    lf = text.indexOf('\n', pos);
    let eol = lf === -1 ? n : lf - 1;
    let next = lf === -1 ? n : lf + 1;
    if (lf !== -1 && text.charCodeAt(eol) !== 13) throw new ParseError('bare LF in header section');
    const cr = text.indexOf('\r', pos);
    if (cr !== -1 && cr < eol) throw new ParseError('bare CR in header section');
    if (++count > MAX_HEADER_LINES) throw new ParseError(`more than ${MAX_HEADER_LINES} header lines`);
    const lineStart = pos;
    // Continuation lines (RFC 3261 §7.3.1): a line starting with SP/HTAB continues the previous one.
    let folded: string | undefined;
    while (next < n && isWs(text.charCodeAt(next))) {
      lf = text.indexOf('\n', next);
      const e2 = lf === -1 ? n : lf - 1;
      if (lf !== -1 && text.charCodeAt(e2) !== 13) throw new ParseError('bare LF in header section');
      const cr2 = text.indexOf('\r', next);
      if (cr2 !== -1 && cr2 < e2) throw new ParseError('bare CR in header section');
      const piece = trimAll(text.slice(next, e2));
      folded = piece.length === 0 ? (folded ?? '') : (folded ?? '') + ' ' + piece;
      next = lf === -1 ? n : lf + 1;
    }
    pos = next;
    const c0 = text.charCodeAt(lineStart);
    if (isWs(c0)) {
      error ??= 'continuation line without a header field';
      continue;
    }
    const colon = text.indexOf(':', lineStart);
    if (colon === -1 || colon > eol) {
      error ??= `header line without ':' '${clip(text.slice(lineStart, eol))}'`;
      continue;
    }
    let ne = colon;
    while (ne > lineStart && isWs(text.charCodeAt(ne - 1))) ne--;
    if (!allIn(TOKEN, text, lineStart, ne)) {
      error ??= `malformed header name '${clip(text.slice(lineStart, ne))}'`;
      continue;
    }
    let vs = colon + 1;
    while (vs < eol && isWs(text.charCodeAt(vs))) vs++;
    let value: string;
    if (folded === undefined) {
      while (eol > vs && isWs(text.charCodeAt(eol - 1))) eol--;
      value = text.slice(vs, eol);
    } else {
      // The CRLF and the white space around it become one SP.
      value = trimAll(trimAll(text.slice(vs, eol)) + folded);
    }
    const h = headerNameAt(text, lineStart, ne);
    if (h.key === 'content-length') lengths.push(value);
    headers.pushParsed(h.key, h.wire, value);
  }

  // Framing (RFC 3261 §18.3).
  const rest = len - bodyStart;
  let body: Buffer = EMPTY;
  if (error === undefined || headEnd !== -1) {
    if (lengths.length === 0) {
      if (!datagram) error ??= 'missing Content-Length on a stream';
      body = rest > 0 ? buf.subarray(bodyStart) : EMPTY;
    } else if (lengths.length === 1 || lengths.every((l) => l === lengths[0])) {
      const raw = lengths[0] as string;
      if (!isDigits(raw) || raw.replace(/^0+(?=.)/, '').length > 10) {
        error ??= `invalid Content-Length '${clip(raw)}'`;
        body = rest > 0 ? buf.subarray(bodyStart) : EMPTY;
      } else {
        const cl = Number(raw);
        if (cl > rest) {
          error ??= `Content-Length ${cl} exceeds the ${rest} body bytes received`;
          body = rest > 0 ? buf.subarray(bodyStart) : EMPTY;
        } else {
          if (!datagram && cl < rest) error ??= `${rest - cl} bytes beyond Content-Length`;
          body = cl > 0 ? buf.subarray(bodyStart, bodyStart + cl) : EMPTY;
        }
      }
    } else {
      // Several differing values: ambiguous framing. The datagram still parses; validateRequest answers 400
      // (RFC 4475 §3.3.9). On a stream it is fatal.
      if (!datagram || !sl.request) error ??= 'several different Content-Length values';
      body = rest > 0 ? buf.subarray(bodyStart) : EMPTY;
    }
  }

  if (sl.request) {
    const req = new SipRequest(sl.method, sl.uri, headers, body, sl.version);
    if (error !== undefined) throw new RequestParseError(error, req, errorStatus);
    return req;
  }
  const res = new SipResponse(sl.status, sl.reason, headers, body, sl.version);
  if (error !== undefined) throw new ParseError(error);
  // Responses are never answered, only matched to client transactions: check what matching needs now and
  // drop the rest (RFC 4475 §3.1.2.5 scalarlg, §3.1.2.19 bigcode).
  void res.cseq;
  void res.topVia;
  return res;
}

function trimAll(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWs(s.charCodeAt(a))) a++;
  while (b > a && isWs(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}
