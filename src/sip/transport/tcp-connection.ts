import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { StreamFramer, type FramerOutput } from '../parser/stream-framer.js';
import { normalizeAddress } from './address.js';
import type { ConnectionLimits } from './admission.js';
import type { Flow, TlsPeer } from './flow.js';
import { SendBacklog } from './send-backlog.js';
import { TCP, type TransportDescriptor } from './transport-descriptor.js';
import { TransportError } from './transport-error.js';

/** Corked bytes that are handed to the kernel at once instead of waiting for the end of the current run. */
const CORK_FLUSH_BYTES = 64 * 1024;

export interface TcpConnectionOptions {
  id: number;
  socket: Socket;
  direction: 'inbound' | 'outbound';
  clock: Clock;
  logger: Logger;
  /** Close after this long without bytes in either direction. */
  idleMs: number;
  /** Largest message the framer will buffer; bounds what one peer can make us hold (inbound). */
  maxMessageBytes: number;
  /** Unsent data we queue for a peer before it is dropped (outbound); trusted peers that drain may get more (send-backlog.ts). */
  maxBufferedBytes: number;
  /** TCP unless said (TLS: the socket is a TLSSocket, framed the same way, RFC 3261 §18.3). */
  transport?: TransportDescriptor;
  /** TLS: the client certificate the peer presented, put on the flow. */
  tlsPeer?: TlsPeer | undefined;
  /** Deadlines and the shared framer byte budget (admission.ts); absent: none. */
  limits?: ConnectionLimits | undefined;
  onFrame(conn: TcpConnection, out: FramerOutput): void;
  onClose(conn: TcpConnection): void;
}

const CRLF = Buffer.from('\r\n');

/**
 * One TCP connection: a StreamFramer cutting messages by Content-Length (RFC 3261 §18.3), the CRLF keep-alive
 * pong (RFC 5626 §4.4.1), byte limits, and an idle timer on the injected clock.
 */
export class TcpConnection {
  readonly id: number;
  readonly direction: 'inbound' | 'outbound';
  readonly flow: Flow;
  private readonly socket: Socket;
  private readonly framer: StreamFramer;
  private readonly opts: TcpConnectionOptions;
  private lastActivity: number;
  private idleTimer: TimerHandle | undefined;
  private lingerTimer: TimerHandle | undefined;
  /** Armed from accept until the first byte (inbound only). */
  private firstBytesTimer: TimerHandle | undefined;
  /** Armed while the framer holds the start of a message. */
  private messageTimer: TimerHandle | undefined;
  /** Bytes of the framer's buffer counted against the shared budget. */
  private budgeted = 0;
  private closed = false;
  /** Set once the stream can no longer be framed: later bytes are ignored until the socket closes. */
  private failed = false;
  private corked = false;
  private readonly backlog: SendBacklog;

  constructor(opts: TcpConnectionOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.direction = opts.direction;
    this.socket = opts.socket;
    this.flow = {
      protocol: (opts.transport ?? TCP).name,
      localAddress: normalizeAddress(this.socket.localAddress ?? ''),
      localPort: this.socket.localPort ?? 0,
      remoteAddress: normalizeAddress(this.socket.remoteAddress ?? ''),
      remotePort: this.socket.remotePort ?? 0,
      connectionId: opts.id,
      ...(opts.tlsPeer ? { tlsPeer: opts.tlsPeer } : {}),
    };
    this.framer = new StreamFramer({ maxMessageBytes: opts.maxMessageBytes });
    this.backlog = new SendBacklog({
      softBytes: opts.maxBufferedBytes,
      allowance: opts.limits?.sendAllowance,
      flow: this.flow,
      clock: opts.clock,
      queued: () => this.socket.writableLength,
      onStall: (why) => this.dropBacklogged(why),
    });
    this.lastActivity = opts.clock.now();
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => {
      opts.logger.debug({ conn: this.id, err: err.message }, 'tcp connection error');
    });
    this.socket.on('close', () => this.onSocketClose());
    this.armIdleTimer(opts.idleMs);
    const firstBytesMs = opts.limits?.firstBytesMs ?? 0;
    if (opts.direction === 'inbound' && firstBytesMs > 0) {
      this.firstBytesTimer = opts.clock.setTimer(firstBytesMs, () => this.limitReached('first-bytes', `nothing sent within ${firstBytesMs} ms`));
    }
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** Writes bytes; rejects with `flow-closed` when the connection is gone. */
  write(bytes: Buffer): Promise<void> {
    if (!this.isOpen) {
      return Promise.reject(new TransportError('flow-closed', `connection ${this.id} is closed`));
    }
    // A peer that does not read must not make us queue without bound: drop it, never the server.
    const refused = this.backlog.check(bytes.length);
    if (refused !== undefined) {
      this.dropBacklogged(refused);
      return Promise.reject(new TransportError('limit', `connection ${this.id} ${refused}`));
    }
    this.touch();
    this.corkUntilIdle();
    const written = new Promise<void>((resolve, reject) => {
      this.socket.write(bytes, (err) => {
        if (err) return reject(new TransportError('send-failed', err.message));
        this.backlog.taken();
        resolve();
      });
    });
    // A large fan-out to one peer (a proxy carrying many watchers) leaves in batches rather than as one pile that
    // would count against the buffer limit above before the kernel got any of it.
    if (this.socket.writableLength >= CORK_FLUSH_BYTES) {
      this.socket.uncork();
      this.socket.cork();
    }
    return written;
  }

  /**
   * Holds writes until the current run of code is done (or CORK_FLUSH_BYTES are waiting), so that what one event produces for this peer (a 200 and its
   * NOTIFY; a fan-out's NOTIFYs to a proxy) leaves in one writev instead of one syscall and one segment each.
   */
  private corkUntilIdle(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    queueMicrotask(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  /** Sends `bytes` (if any) and then closes: used after a framing error (RFC 3261 §18.3). */
  closeAfter(bytes: Buffer | undefined, reason: string): void {
    if (!this.isOpen) return;
    this.failed = true;
    this.opts.logger.debug({ conn: this.id, remote: this.flow.remoteAddress, reason }, 'closing tcp connection');
    this.socket.end(bytes ?? Buffer.alloc(0), () => this.socket.destroy());
    // If the peer never reads what is left, do not wait for it forever.
    this.lingerTimer = this.opts.clock.setTimer(5000, () => this.socket.destroy());
  }

  /** Logged at info: an operator wants to know that a peer was cut off for not reading (a stuck phone, a slow proxy). */
  private dropBacklogged(why: string): void {
    if (this.closed) return;
    this.opts.logger.info({ conn: this.id, remote: this.flow.remoteAddress, transport: this.flow.protocol, reason: why }, 'dropping a peer that does not read');
    this.opts.limits?.onLimit?.('send-backlog');
    this.destroy(why);
  }

  destroy(reason: string): void {
    if (this.closed) return;
    this.opts.logger.debug({ conn: this.id, remote: this.flow.remoteAddress, reason }, 'dropping tcp connection');
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.failed || this.closed) return;
    this.touch();
    if (this.firstBytesTimer !== undefined) {
      this.firstBytesTimer.cancel();
      this.firstBytesTimer = undefined;
    }
    let completed = false;
    for (const out of this.framer.push(chunk)) {
      if (out.kind === 'ping') {
        // RFC 5626 §4.4.1: a double-CRLF ping is answered with a single CRLF pong.
        this.write(CRLF).catch(() => {});
        continue;
      }
      if (out.kind === 'error' && out.fatal) this.failed = true;
      completed = true;
      this.opts.onFrame(this, out);
      if (this.failed || !this.isOpen) return;
    }
    this.checkHeld(completed);
  }

  /**
   * After each chunk: what the framer holds counts against the shared budget (the connection that passes it is the
   * one closed), and a message begun must be finished within the deadline, which restarts when a message completes
   * (a proxy's pipelined traffic often ends a chunk mid-message) (C2 in security.md).
   */
  private checkHeld(completed: boolean): void {
    const limits = this.opts.limits;
    if (limits === undefined) return;
    const held = this.framer.buffered;
    if (limits.budget !== undefined && held !== this.budgeted) {
      if (!limits.budget.adjust(held - this.budgeted)) {
        this.limitReached('byte-budget', `framer byte budget of ${limits.budget.limit} exceeded`);
        return;
      }
      this.budgeted = held;
    }
    const messageMs = limits.messageMs ?? 0;
    if (messageMs <= 0) return;
    if (this.messageTimer !== undefined && (held === 0 || completed)) {
      this.messageTimer.cancel();
      this.messageTimer = undefined;
    }
    if (held > 0 && this.messageTimer === undefined) {
      this.messageTimer = this.opts.clock.setTimer(messageMs, () => this.limitReached('message-deadline', `message not complete within ${messageMs} ms`));
    }
  }

  private limitReached(reason: 'first-bytes' | 'message-deadline' | 'byte-budget', why: string): void {
    if (this.closed) return;
    this.opts.limits?.onLimit?.(reason);
    this.destroy(why);
  }

  private touch(): void {
    this.lastActivity = this.opts.clock.now();
  }

  private armIdleTimer(ms: number): void {
    this.idleTimer = this.opts.clock.setTimer(ms, () => {
      const idle = this.opts.clock.now() - this.lastActivity;
      if (idle >= this.opts.idleMs) this.destroy(`idle for ${idle} ms`);
      else this.armIdleTimer(this.opts.idleMs - idle);
    });
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.idleTimer?.cancel();
    this.lingerTimer?.cancel();
    this.firstBytesTimer?.cancel();
    this.messageTimer?.cancel();
    this.backlog.dispose();
    if (this.budgeted > 0) {
      this.opts.limits?.budget?.adjust(-this.budgeted);
      this.budgeted = 0;
    }
    this.opts.onClose(this);
  }
}
