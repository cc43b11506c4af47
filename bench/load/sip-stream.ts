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
      let buf = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => {
        buf += d;
        for (;;) {
          let skip = 0;
          while (buf.startsWith('\r\n', skip)) skip += 2;
          if (skip) buf = buf.slice(skip);
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const m = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(buf.slice(0, end));
          const total = end + 4 + (m ? Number(m[1]) : 0);
          if (buf.length < total) return;
          const msg = buf.slice(0, total);
          buf = buf.slice(total);
          handler(msg);
        }
      });
      const closed = new Promise<void>((res) => sock.once('close', () => res()));
      resolve({
        kind: o.kind,
        viaHost: `${sock.localAddress}:${sock.localPort}`,
        send: (text) => void sock.write(text, 'latin1'),
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
        send: (text) => ws.send(text),
        onMessage: (fn) => void (handler = fn),
        close: () => ws.terminate(),
        closed,
      });
    });
  });
}

/** The first line and the named header's value (first occurrence, case-insensitive, compact forms not needed here). */
export function header(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}[ \\t]*:[ \\t]*([^\\r\\n]*)`, 'im').exec(text);
  return m?.[1];
}

export function statusOf(text: string): number | null {
  return text.startsWith('SIP/2.0 ') ? Number(text.slice(8, 11)) : null;
}

/** 200 OK for a request (a NOTIFY), copying Via(s), From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2). */
export function okFor(request: string): string {
  const head = request.slice(0, request.indexOf('\r\n\r\n'));
  const lines = head.split('\r\n').slice(1).filter((l) => /^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:/i.test(l));
  return `SIP/2.0 200 OK\r\n${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
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
