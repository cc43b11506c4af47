import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';

/**
 * SIP over a stream for the load generator (bench/stream-load.ts): TCP, TLS (Node's tls client; Debian's SIPp 3.6.1
 * has no TLS) and WebSocket / secure WebSocket (RFC 7118, the `ws` package; SIPp has no WS at all). One SIP message
 * per WebSocket message; on TCP and TLS messages are framed by Content-Length. Self-signed certificates accepted.
 */

export type StreamKind = 'tcp' | 'tls' | 'ws' | 'wss';

export interface SipStream {
  readonly kind: StreamKind;
  /** Host written in Via and Contact: the local address and port on TCP/TLS, a `.invalid` name on WS (as browsers do). */
  readonly viaHost: string;
  send(text: string): void;
  onMessage(fn: (text: string) => void): void;
  close(): void;
  readonly closed: Promise<void>;
}

export interface OpenOptions {
  kind: StreamKind;
  host: string;
  port: number;
  localAddress?: string;
  timeoutMs?: number;
}

export function openStream(o: OpenOptions): Promise<SipStream> {
  return o.kind === 'ws' || o.kind === 'wss' ? openWs(o) : openTcpOrTls(o);
}

function openTcpOrTls(o: OpenOptions): Promise<SipStream> {
  return new Promise((resolve, reject) => {
    const onReady = (sock: Socket): void => {
      clearTimeout(timer);
      sock.setNoDelay(true);
      let handler: (text: string) => void = () => undefined;
      // Unparsed bytes (latin1) and how far into them the messages already handed out reach: one slice per chunk,
      // not one per message.
      let buf = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => {
        buf = buf.length === 0 ? d : buf + d;
        let at = 0;
        for (;;) {
          while (buf.startsWith('\r\n', at)) at += 2;
          const end = buf.indexOf('\r\n\r\n', at);
          if (end < 0) break;
          const total = end + 4 + contentLengthIn(buf, at, end);
          if (buf.length < total) break;
          const msg = buf.slice(at, total);
          at = total;
          handler(msg);
        }
        buf = at === 0 ? buf : buf.slice(at);
      });
      const closed = new Promise<void>((res) => sock.once('close', () => res()));
      resolve({
        kind: o.kind,
        viaHost: `${sock.localAddress}:${sock.localPort}`,
        send: batched((joined) => void sock.write(joined, 'latin1')),
        onMessage: (fn) => void (handler = fn),
        close: () => sock.destroy(),
        closed,
      });
    };
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${o.kind} connect to ${o.host}:${o.port} timed out`));
    }, o.timeoutMs ?? 10_000);
    // localAddress goes on to net.connect for TLS too (not in tls's types).
    const base = { host: o.host, port: o.port, ...(o.localAddress ? ({ localAddress: o.localAddress } as object) : {}) };
    const sock: Socket = o.kind === 'tls'
      ? tlsConnect({ ...base, rejectUnauthorized: false, servername: 'localhost' }, () => onReady(sock))
      : netConnect(base, () => onReady(sock));
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function openWs(o: OpenOptions): Promise<SipStream> {
  return new Promise((resolve, reject) => {
    const scheme = o.kind === 'wss' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${o.host}:${o.port}`, 'sip', {
      rejectUnauthorized: false,
      handshakeTimeout: o.timeoutMs ?? 10_000,
      perMessageDeflate: false,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    const closed = new Promise<void>((res) => ws.once('close', () => res()));
    ws.once('error', (err) => reject(err));
    ws.once('open', () => {
      if (ws.protocol !== 'sip') {
        ws.terminate();
        reject(new Error(`server did not agree to the sip subprotocol (got "${ws.protocol}")`));
        return;
      }
      ws.on('error', () => undefined);
      let handler: (text: string) => void = () => undefined;
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
        if (text.trim() === '') return; // CRLF keep-alive answer
        handler(text);
      });
      resolve({
        kind: o.kind,
        viaHost: `${randomBytes(6).toString('hex')}.invalid`,
        send: corkedPerTick(ws, (text) => ws.send(text)),
        onMessage: (fn) => void (handler = fn),
        close: () => ws.terminate(),
        closed,
      });
    });
  });
}

/**
 * Sends queued in this turn leave together once it ends (setImmediate): one TLS record and one write for a tick's
 * SUBSCRIBEs and the 200s to the NOTIFYs just read, instead of one each (the loader must not be the step's limit).
 */
function batched(write: (joined: string) => void): (text: string) => void {
  let queued: string[] = [];
  const flush = (): void => {
    const q = queued;
    queued = [];
    write(q.length === 1 ? q[0]! : q.join(''));
  };
  return (text) => {
    if (queued.push(text) === 1) setImmediate(flush);
  };
}

/**
 * WebSocket: each SIP message stays its own WebSocket message (RFC 7118 §5.2), but the socket under it is corked for
 * the rest of the turn, so a tick's frames leave in one write. Reads ws's `_socket` (the net.Socket it writes to).
 */
function corkedPerTick(ws: WebSocket, send: (text: string) => void): (text: string) => void {
  const sock = (ws as unknown as { _socket?: Socket | null })._socket ?? null;
  let corked = false;
  return (text) => {
    if (sock && !corked) {
      corked = true;
      sock.cork();
      setImmediate(() => {
        corked = false;
        sock.uncork();
      });
    }
    send(text);
  };
}

/** The Content-Length of the head buf[from, end): the usual spelling found with indexOf, others with a regex. */
function contentLengthIn(buf: string, from: number, end: number): number {
  const i = buf.indexOf('\r\nContent-Length: ', from);
  if (i >= 0 && i < end) {
    let n = 0;
    for (let j = i + 18; j < end; j++) {
      const c = buf.charCodeAt(j);
      if (c < 48 || c > 57) break;
      n = n * 10 + c - 48;
    }
    return n;
  }
  const m = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(buf.slice(from, end));
  return m ? Number(m[1]) : 0;
}

/** The Call-ID: the usual spelling found with indexOf, others (any case, compact `i`) with header(). */
export function callIdOf(text: string): string | undefined {
  const i = text.indexOf('\r\nCall-ID: ');
  if (i >= 0) {
    const e = text.indexOf('\r\n', i + 11);
    return text.slice(i + 11, e < 0 ? undefined : e);
  }
  return header(text, '(?:call-id|i)');
}

/** The first line and the named header's value (first occurrence, case-insensitive, compact forms not needed here). */
export function header(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}[ \\t]*:[ \\t]*([^\\r\\n]*)`, 'im').exec(text);
  return m?.[1];
}

export function statusOf(text: string): number | null {
  return text.startsWith('SIP/2.0 ') ? Number(text.slice(8, 11)) : null;
}

const OK_COPIED = /\r\n(?:via|v|from|f|to|t|call-id|i|cseq)[ \t]*:[^\r]*/gi;

/** 200 OK for a request (a NOTIFY), copying Via(s), From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2). */
export function okFor(request: string): string {
  const head = request.slice(request.indexOf('\r\n'), request.indexOf('\r\n\r\n'));
  // One pass over the head (lines after the request line), not a split and a test per line.
  const lines = head.match(OK_COPIED) ?? [];
  return `SIP/2.0 200 OK${lines.join('')}\r\nContent-Length: 0\r\n\r\n`;
}

/**
 * RFC 2617/7616 MD5 digest with qop=auth for one WWW-Authenticate challenge, as SIPp -au/-ap and SIP.js answer it.
 * Returns the Authorization header value, or null when the challenge is not MD5 digest.
 */
export function digestAuthorization(challenge: string, method: string, uri: string, user: string, password: string, nc = 1): string | null {
  if (!/^Digest\s/i.test(challenge)) return null;
  const p = (k: string): string | undefined => new RegExp(`${k}="?([^",]*)"?`, 'i').exec(challenge)?.[1];
  const realm = p('realm') ?? '';
  const nonce = p('nonce') ?? '';
  const algorithm = p('algorithm') ?? 'MD5';
  if (algorithm.toUpperCase() !== 'MD5') return null;
  const qop = p('qop');
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const opaque = p('opaque');
  if (qop && /\bauth\b/.test(qop)) {
    const cnonce = randomBytes(8).toString('hex');
    const ncs = nc.toString(16).padStart(8, '0');
    const response = md5(`${ha1}:${nonce}:${ncs}:${cnonce}:auth:${ha2}`);
    return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", qop=auth, nc=${ncs}${opaque ? `, opaque="${opaque}"` : ''}`;
  }
  const response = md5(`${ha1}:${nonce}:${ha2}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5${opaque ? `, opaque="${opaque}"` : ''}`;
}
