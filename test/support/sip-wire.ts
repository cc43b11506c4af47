/**
 * A deliberately small reader of SIP text for end-to-end tests: it splits a message into start line, headers and
 * body without any of the server's own parsing code, so a test checks the server's bytes with an independent eye.
 */

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  f: 'from',
  t: 'to',
  v: 'via',
  s: 'subject',
  k: 'supported',
  o: 'event',
  u: 'allow-events',
  c: 'content-type',
};

export interface WireMessage {
  readonly raw: string;
  readonly startLine: string;
  /** Request method, or undefined for a response. */
  readonly method?: string;
  /** Response status, or undefined for a request. */
  readonly status?: number;
  /** Header lines in order, names lower-cased and compact forms expanded. */
  readonly headerLines: readonly (readonly [string, string])[];
  readonly body: string;
  /** First value of a header (case-insensitive), trimmed. */
  header(name: string): string | undefined;
  /** Every line of a header, in order. */
  headers(name: string): string[];
  readonly callId: string;
  readonly cseq: { seq: number; method: string };
  /** The `tag` parameter of From / To, if any. */
  readonly fromTag: string | undefined;
  readonly toTag: string | undefined;
  /** Branch of the top Via. */
  readonly branch: string | undefined;
}

/** Parses one complete message (start line, headers, CRLF CRLF, body). */
export function parseWire(text: string): WireMessage {
  const split = text.indexOf('\r\n\r\n');
  const head = split >= 0 ? text.slice(0, split) : text;
  let body = split >= 0 ? text.slice(split + 4) : '';
  const lines = head.split('\r\n');
  const startLine = lines.shift() ?? '';
  const headerLines: [string, string][] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headerLines.length > 0) {
      headerLines[headerLines.length - 1]![1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headerLines.push([COMPACT[name] ?? name, line.slice(colon + 1).trim()]);
  }
  const get = (name: string): string | undefined => headerLines.find(([n]) => n === name.toLowerCase())?.[1];
  const length = get('content-length');
  if (length !== undefined && /^\d+$/.test(length)) body = Buffer.from(body, 'utf8').subarray(0, Number(length)).toString('utf8');
  const response = /^SIP\/2\.0 (\d{3})/.exec(startLine);
  const cseqMatch = /^(\d+)\s+(\S+)/.exec(get('cseq') ?? '');
  const tagOf = (v: string | undefined): string | undefined => (v ? /;\s*tag=([^;>\s,]+)/i.exec(v.replace(/<[^>]*>/, ''))?.[1] : undefined);
  return {
    raw: text,
    startLine,
    ...(response ? { status: Number(response[1]) } : { method: startLine.split(' ')[0] }),
    headerLines,
    body,
    header: get,
    headers: (name: string) => headerLines.filter(([n]) => n === name.toLowerCase()).map(([, v]) => v),
    callId: get('call-id') ?? '',
    cseq: { seq: cseqMatch ? Number(cseqMatch[1]) : NaN, method: cseqMatch?.[2] ?? '' },
    fromTag: tagOf(get('from')),
    toTag: tagOf(get('to')),
    branch: /;\s*branch=([^;,\s]+)/i.exec(get('via') ?? '')?.[1],
  };
}

/**
 * Splits a TCP byte stream into messages by Content-Length (RFC 3261 §18.3). Returns the complete messages and
 * the bytes left over for the next read.
 */
export function frameStream(buffer: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let rest = buffer;
  for (;;) {
    // Skip keep-alive CRLFs between messages (RFC 5626 §4.4.1).
    while (rest.length >= 2 && rest[0] === 13 && rest[1] === 10) rest = rest.subarray(2);
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.subarray(0, end).toString('utf8');
    const m = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec('\r\n' + head);
    const length = m ? Number(m[1]) : 0;
    if (rest.length < end + 4 + length) break;
    messages.push(rest.subarray(0, end + 4 + length).toString('utf8'));
    rest = rest.subarray(end + 4 + length);
  }
  return { messages, rest };
}

/** A response to `req` echoing Via (all lines), From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2). */
export function responseTo(req: WireMessage, status: number, reason = reasonPhrase(status), extra: string[] = []): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const [name, value] of req.headerLines) {
    if (name === 'via') lines.push(`Via: ${value}`);
  }
  lines.push(`From: ${req.header('from') ?? ''}`, `To: ${req.header('to') ?? ''}`, `Call-ID: ${req.callId}`, `CSeq: ${req.header('cseq') ?? ''}`);
  lines.push(...extra, 'Content-Length: 0', '', '');
  return lines.join('\r\n');
}

function reasonPhrase(status: number): string {
  return { 200: 'OK', 408: 'Request Timeout', 481: 'Call/Transaction Does Not Exist', 500: 'Server Internal Error' }[status] ?? 'Status';
}

/** The `version` attribute of a dialog-info document (RFC 4235 §4.1), or undefined. */
export function dialogInfoVersion(body: string): number | undefined {
  const m = /<dialog-info\b[^>]*\sversion="(\d+)"/.exec(body);
  return m ? Number(m[1]) : undefined;
}
