import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';

/**
 * Test peers for the TLS and WebSocket transports: a SIP-over-TLS client on Node's `tls` (transports.md §2.4: the
 * dependable TLS client) and a SIP-over-WebSocket client on `ws`, each keeping what it received and when it closed.
 */

async function waitFor(check: () => boolean, done: () => boolean, ms: number, hook: (wake: () => void) => void): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && !done() && Date.now() < deadline) {
    await new Promise<void>((res) => {
      const t = setTimeout(res, Math.max(1, Math.min(50, deadline - Date.now())));
      hook(() => {
        clearTimeout(t);
        res();
      });
    });
  }
}

export class TlsSipPeer {
  readonly chunks: Buffer[] = [];
  closed = false;
  error: Error | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', (e) => {
      this.error = e;
    });
  }

  /** Connects and finishes the handshake (rejects if it fails). Trusts any server certificate unless told. */
  static open(port: number, options: ConnectionOptions = {}, host = '127.0.0.1'): Promise<TlsSipPeer> {
    return new Promise((res, rej) => {
      const s = tlsConnect({ port, host, rejectUnauthorized: false, ...options }, () => res(new TlsSipPeer(s)));
      s.once('error', rej);
    });
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  write(bytes: Buffer | string): Promise<void> {
    return new Promise((res) => {
      if (this.socket.destroyed) return res();
      this.socket.write(bytes, () => res());
    });
  }

  async waitUntil(predicate: (text: string) => boolean, ms = 3000): Promise<string> {
    await waitFor(() => predicate(this.text), () => this.closed, ms, (w) => this.waiters.push(w));
    return this.text;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface WsPeerOptions {
  protocols?: string | string[];
  headers?: Record<string, string>;
  /** Answer pings (default true; false imitates a peer that went away without closing). */
  autoPong?: boolean;
  rejectUnauthorized?: boolean;
  /** Source address to connect from (127.0.0.0/8 on loopback: another "host" for per-address limits). */
  localAddress?: string;
}

export class WsSipPeer {
  /** Each WebSocket message received, as text. */
  readonly messages: string[] = [];
  closed = false;
  closeCode: number | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.messages.push(data.toString('utf8'));
      this.wake();
    });
    socket.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      this.wake();
    });
    socket.on('error', () => {
      /* a close by the server is an expected outcome in some tests */
    });
  }

  /** Opens with the `sip` subprotocol unless told otherwise; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, opts: WsPeerOptions = {}): Promise<WsSipPeer> {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url, opts.protocols ?? 'sip', {
        rejectUnauthorized: opts.rejectUnauthorized ?? false,
        autoPong: opts.autoPong ?? true,
        ...(opts.headers ? { headers: opts.headers } : {}),
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      });
      ws.once('open', () => res(new WsSipPeer(ws)));
      ws.once('unexpected-response', (_req, response) => rej(Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { status: response.statusCode })));
      ws.once('error', rej);
    });
  }

  send(text: string | Buffer, binary = false): Promise<void> {
    return new Promise((res, rej) => this.socket.send(text, { binary }, (err) => (err ? rej(err) : res())));
  }

  async waitUntil(predicate: (messages: string[]) => boolean, ms = 3000): Promise<string[]> {
    await waitFor(() => predicate(this.messages), () => this.closed, ms, (w) => this.waiters.push(w));
    return this.messages;
  }

  async waitClosed(ms = 3000): Promise<boolean> {
    await waitFor(() => this.closed, () => this.closed, ms, (w) => this.waiters.push(w));
    return this.closed;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  close(): void {
    this.socket.terminate();
  }
}
