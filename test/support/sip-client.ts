import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';

/**
 * Minimal raw SIP peers for end-to-end tests: they send bytes exactly as given and collect what comes back,
 * so tests see the server's real answers on real sockets (no SIP stack of ours on the client side).
 */

export class UdpPeer {
  private readonly socket: UdpSocket;
  readonly received: Buffer[] = [];
  private waiters: (() => void)[] = [];

  private constructor(socket: UdpSocket) {
    this.socket = socket;
    socket.on('message', (msg) => {
      this.received.push(msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(host = '127.0.0.1'): Promise<UdpPeer> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((res) => socket.bind(0, host, () => res()));
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Buffer | string, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((res, rej) => this.socket.send(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, port, host, (err) => (err ? rej(err) : res())));
  }

  /** Waits until `count` datagrams have arrived in total, or `ms` passed; returns all received so far. */
  async waitFor(count: number, ms = 3000): Promise<Buffer[]> {
    const deadline = Date.now() + ms;
    while (this.received.length < count && Date.now() < deadline) {
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    return this.received;
  }

  close(): Promise<void> {
    return new Promise((res) => this.socket.close(() => res()));
  }
}

export class TcpPeer {
  readonly chunks: Buffer[] = [];
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: TcpSocket) {
    socket.on('data', (d) => {
      this.chunks.push(d);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      /* a reset by the server is an expected outcome in some tests */
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static open(port: number, host = '127.0.0.1'): Promise<TcpPeer> {
    return new Promise((res, rej) => {
      const s = connect({ port, host }, () => res(new TcpPeer(s)));
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

  /** Waits until `predicate` holds for what was received (or the socket closed), or `ms` passed. */
  async waitUntil(predicate: (text: string) => boolean, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!predicate(this.text) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    return this.text;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Status codes of every SIP response in a text (several responses may share one TCP read). */
export function statusCodes(text: string): number[] {
  return [...text.matchAll(/^SIP\/2\.0 (\d{3})/gm)].map((m) => Number(m[1]));
}

/** A well-formed OPTIONS from a peer, with a fresh branch unless one is given. */
export function optionsRequest(opts: { transport: 'UDP' | 'TCP'; port: number; host?: string; branch?: string; callId?: string; cseq?: number }): string {
  const host = opts.host ?? '127.0.0.1';
  const branch = opts.branch ?? `z9hG4bK${Math.random().toString(36).slice(2)}`;
  const callId = opts.callId ?? `${Math.random().toString(36).slice(2)}@test`;
  return (
    `OPTIONS sip:ping@${host} SIP/2.0\r\n` +
    `Via: SIP/2.0/${opts.transport} ${host}:${opts.port};branch=${branch};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <sip:tester@${host}>;tag=t${Math.random().toString(36).slice(2, 8)}\r\n` +
    `To: <sip:ping@${host}>\r\n` +
    `Call-ID: ${callId}\r\n` +
    `CSeq: ${opts.cseq ?? 1} OPTIONS\r\n` +
    `Content-Length: 0\r\n\r\n`
  );
}
