import { TOKEN, isDigits, isWs, scanHostName, scanPort } from './grammar.js';
import { formatParams, parseParams } from './header-params.js';
import { ParseError } from './parse-error.js';
import { splitList } from './split-list.js';

/** One via-parm (RFC 3261 §20.42, §25.1). */
export interface Via {
  /** protocol-name/protocol-version, upper-cased: 'SIP/2.0'. */
  protocol: string;
  /** Upper-cased transport: 'UDP', 'TCP', 'TLS', 'SCTP', or an unknown token. */
  transport: string;
  /** sent-by host as sent (an IPv6 reference keeps its brackets). */
  host: string;
  port?: number;
  /** branch, received, rport (null when empty), maddr, ttl, and extensions; names lower-cased. */
  params: Map<string, string | null>;
}

export function viaBranch(v: Via): string | undefined {
  return v.params.get('branch') ?? undefined;
}

/** sent-by as `host:port`, the port defaulting to 5060, for transaction matching (RFC 3261 §17.2.3). */
export function viaSentBy(v: Via): string {
  return `${v.host.toLowerCase()}:${v.port ?? 5060}`;
}

/** Parses one Via header line, which may hold several comma-separated values. */
export function parseVia(text: string): Via[] {
  const parts = splitList(text, true, 'Via');
  const out: Via[] = new Array(parts.length);
  for (let k = 0; k < parts.length; k++) out[k] = parseViaParm(parts[k] as string);
  return out;
}

function fail(s: string, why: string): never {
  throw new ParseError(`malformed Via '${s.length > 80 ? s.slice(0, 80) + '…' : s}': ${why}`);
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

function scanToken(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) break;
    i++;
  }
  return i;
}

function parseViaParm(s: string): Via {
  const n = s.length;
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport; SLASH = SWS "/" SWS
  let i = scanToken(s, 0);
  const name = s.slice(0, i);
  i = skipWs(s, i);
  if (name.length === 0 || s.charCodeAt(i) !== 47) fail(s, 'bad sent-protocol');
  i = skipWs(s, i + 1);
  let j = scanToken(s, i);
  const version = s.slice(i, j);
  i = skipWs(s, j);
  if (version.length === 0 || s.charCodeAt(i) !== 47) fail(s, 'bad sent-protocol');
  i = skipWs(s, i + 1);
  j = scanToken(s, i);
  const transport = s.slice(i, j);
  if (transport.length === 0) fail(s, 'missing transport');
  i = skipWs(s, j);
  if (i === j) fail(s, 'missing LWS before sent-by');
  // sent-by = host [ COLON port ]
  const hs = i;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close === -1) fail(s, 'unterminated IPv6 reference');
    i = close + 1;
  } else {
    i = scanHostName(s, i);
  }
  if (i === hs) fail(s, 'missing sent-by host');
  const host = s.slice(hs, i);
  const via: Via = {
    // The usual spellings skip the case mapping and the concatenation.
    protocol: name === 'SIP' && version === '2.0' ? 'SIP/2.0' : `${name.toUpperCase()}/${version}`,
    transport: transport === 'UDP' ? 'UDP' : transport === 'TCP' ? 'TCP' : transport.toUpperCase(),
    host,
    params: new Map(),
  };
  i = skipWs(s, i);
  if (i < n && s.charCodeAt(i) === 58) {
    const scanned = scanPort(s, skipWs(s, i + 1)) ?? fail(s, 'bad port');
    via.port = scanned.port;
    i = scanned.end;
  }
  via.params = parseParams(s, i, 'Via');
  // RFC 3581 §3 / RFC 3261 §25.1: rport and ttl are numbers when they have a value; received is an address.
  const rport = via.params.get('rport');
  if (rport != null && (!isDigits(rport) || rport.length > 5 || Number(rport) > 65535)) fail(s, 'bad rport');
  const ttl = via.params.get('ttl');
  if (ttl != null && (!isDigits(ttl) || ttl.length > 3 || Number(ttl) > 255)) fail(s, 'bad ttl');
  for (const key of ['received', 'maddr', 'branch']) {
    const v = via.params.get(key);
    if (v === null) fail(s, `'${key}' needs a value`);
    if (v !== undefined && v.charCodeAt(0) === 34) fail(s, `'${key}' cannot be quoted`);
  }
  return via;
}

export function formatVia(v: Via): string {
  return `${v.protocol}/${v.transport} ${v.host}${v.port === undefined ? '' : ':' + v.port}${formatParams(v.params)}`;
}
