import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { Flow } from './flow.js';
import { SendBacklog, type PeerSendAllowance } from './send-backlog.js';
import { TransportError } from './transport-error.js';

export interface WsConnectionOptions {
  id: number;
  socket: WebSocket;
  flow: Flow;
  clock: Clock;
  logger: Logger;
  /** A ping every this long; two unanswered in a row close the connection (transports.md §3.1). */
  pingIntervalMs: number;
  /** The first SIP message must come within this long of the upgrade (security.md §4.2: first bytes in 10 s). */
  firstMessageMs: number;
  /** Close after this long without a SIP message either way (the TCP idle limit). */
  idleMs: number;
  /**
   * A message begun (a frame or a fragment sequence started) must be complete within this long (security.md §4.2, C2:
   * the TCP rule); 0 or absent: none. Needs `rawSocket`.
   */
  messageMs?: number | undefined;
  /** The socket under the WebSocket (decrypted for WSS): its bytes arm the message deadline. */
  rawSocket?: Socket | undefined;
  /** Told when the message deadline closes the connection (the limit counters). */
  onMessageDeadline?: (() => void) | undefined;
  /** Unsent bytes queued for a peer that does not read, before it is dropped. */
  maxBufferedBytes: number;
  /** A trusted peer's larger room while it drains (send-backlog.ts); absent: maxBufferedBytes for all. */
  sendAllowance?: PeerSendAllowance | undefined;
  /** Told when the peer is dropped for not reading (the limit counters). */
  onBacklogDrop?: (() => void) | undefined;
  /** One WebSocket message: one SIP message (RFC 7118 §5.2), or a keep-alive already answered here. */
  onMessage(conn: WsConnection, bytes: Buffer): void;
  onClose(conn: WsConnection): void;
}

const CRLF = Buffer.from('\r\n');
/** Corked bytes handed to the kernel at once instead of at the end of the current run (as tcp-connection.ts). */
const CORK_FLUSH_BYTES = 64 * 1024;

/**
 * One SIP-over-WebSocket connection (RFC 7118): whole messages in, whole messages out (text frames, binary when the
 * bytes are not UTF-8), WebSocket pings with a two-miss limit, CRLFCRLF keep-alives answered with CRLF (JsSIP and
 * SIP.js send them), and the first-message and idle deadlines on the injected clock.
 */
export class WsConnection {
  readonly id: number;
  readonly flow: Flow;
  private readonly socket: WebSocket;
  private readonly opts: WsConnectionOptions;
  private missedPings = 0;
  private pingTimer: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private lastActivity: number;
  private gotMessage = false;
  private closed = false;
  /** Writes are corked until the current run of code ends (corkUntilIdle). */
  private corked = false;
  /** Armed while `ws` holds part of a message. */
  private messageTimer: TimerHandle | undefined;
  private readonly backlog: SendBacklog;

  constructor(opts: WsConnectionOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.flow = opts.flow;
    this.socket = opts.socket;
    this.lastActivity = opts.clock.now();
    this.backlog = new SendBacklog({
      softBytes: opts.maxBufferedBytes,
      allowance: opts.sendAllowance,
      flow: opts.flow,
      clock: opts.clock,
      queued: () => this.socket.bufferedAmount,
      onStall: (why) => this.dropBacklogged(why),
    });
    this.socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => this.onData(toBuffer(data)));
    this.socket.on('pong', () => {
      this.missedPings = 0;
    });
    // ws closes the connection itself on a protocol error (1002), a message over maxPayload (1009) or invalid UTF-8
    // in a text frame (1007); that connection only.
    this.socket.on('error', (err) => opts.logger.debug({ conn: this.id, err: err.message }, 'websocket error'));
    this.socket.on('close', (code: number) => this.onSocketClose(code));
    const messageMs = opts.messageMs ?? 0;
    // Added after ws's own listener, so ws has parsed the chunk when this runs.
    if (messageMs > 0 && opts.rawSocket) opts.rawSocket.on('data', () => this.checkPartial(messageMs));
    this.schedulePing();
    this.deadline = opts.clock.setTimer(opts.firstMessageMs, () => {
      if (!this.gotMessage) this.destroy(`no SIP message within ${opts.firstMessageMs} ms`);
      else this.armIdle(opts.idleMs);
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  /** Sends one SIP message as one WebSocket message; rejects with `flow-closed` once the connection is gone. */
  write(bytes: Buffer): Promise<void> {
    if (!this.isOpen) return Promise.reject(new TransportError('flow-closed', `websocket ${this.id} is closed`));
    const refused = this.backlog.check(bytes.length);
    if (refused !== undefined) {
      this.dropBacklogged(refused);
      return Promise.reject(new TransportError('limit', `websocket ${this.id} ${refused}`));
    }
    this.lastActivity = this.opts.clock.now();
    this.corkUntilIdle();
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, { binary: !isUtf8(bytes) }, (err) => {
        if (err) return reject(new TransportError('send-failed', err.message));
        this.backlog.taken();
        resolve();
      });
      // A large fan-out to one peer leaves in batches, not as one pile counted against the buffer limit (as on TCP).
      const raw = this.opts.rawSocket;
      if (this.corked && raw !== undefined && raw.writableLength >= CORK_FLUSH_BYTES) {
        raw.uncork();
        raw.cork();
      }
    });
  }

  /**
   * Holds the frames written in the current run of code (a 200 and its NOTIFY; a fan-out to one peer) and hands them
   * to the socket in one writev when it ends, as tcp-connection.ts does: ws writes each frame with its own writev
   * otherwise (cork/write/write/uncork per send), which was the top self-time entry of a WS profile. ws's own
   * cork/uncork nest inside this one. Each SIP message stays its own WebSocket message (RFC 7118 §5.2).
   */
  private corkUntilIdle(): void {
    const raw = this.opts.rawSocket;
    if (raw === undefined || this.corked) return;
    this.corked = true;
    raw.cork();
    queueMicrotask(() => {
      this.corked = false;
      raw.uncork();
    });
  }

  /** Logged at info: an operator wants to know that a peer was cut off for not reading. */
  private dropBacklogged(why: string): void {
    if (this.closed) return;
    this.opts.logger.info({ conn: this.id, remote: this.flow.remoteAddress, transport: this.flow.protocol, reason: why }, 'dropping a peer that does not read');
    this.opts.onBacklogDrop?.();
    this.destroy(why);
  }

  /** Closes at once (no closing handshake): a peer that broke a rule or stopped answering. */
  destroy(reason: string): void {
    if (this.closed) return;
    this.opts.logger.debug({ conn: this.id, remote: this.flow.remoteAddress, reason }, 'dropping websocket');
    this.socket.terminate();
  }

  private onData(bytes: Buffer): void {
    if (this.closed) return;
    this.lastActivity = this.opts.clock.now();
    if (isCrlfOnly(bytes)) {
      // RFC 5626 §4.4.1's double-CRLF ping, as JsSIP and SIP.js send it over WebSocket: answered with one CRLF.
      if (bytes.length >= 4) this.write(CRLF).catch(() => {});
      return;
    }
    this.gotMessage = true;
    this.opts.onMessage(this, bytes);
  }

  /**
   * After each chunk of bytes: while ws holds the start of a message (a frame header or payload not all in, or a
   * fragment sequence without its last frame) the deadline runs; it stops when nothing is held. A peer answering our
   * pings between fragments does not restart it. Reads ws 8's receiver state (test/sip/transport/ws-message-deadline.test.ts
   * fails if a ws upgrade changes it).
   */
  private checkPartial(messageMs: number): void {
    if (this.closed) return;
    if (!holdsPartial(this.socket)) {
      this.messageTimer?.cancel();
      this.messageTimer = undefined;
      return;
    }
    this.messageTimer ??= this.opts.clock.setTimer(messageMs, () => {
      this.messageTimer = undefined;
      if (this.closed || !holdsPartial(this.socket)) return;
      this.opts.onMessageDeadline?.();
      this.destroy(`message not complete within ${messageMs} ms`);
    });
  }

  private schedulePing(): void {
    this.pingTimer = this.opts.clock.setTimer(this.opts.pingIntervalMs, () => {
      if (this.closed) return;
      if (this.missedPings >= 2) {
        this.destroy('two pings unanswered');
        return;
      }
      this.missedPings++;
      try {
        this.socket.ping();
      } catch {
        // not open any more: the close event follows
      }
      this.schedulePing();
    });
  }

  private armIdle(ms: number): void {
    this.deadline = this.opts.clock.setTimer(ms, () => {
      const idle = this.opts.clock.now() - this.lastActivity;
      if (idle >= this.opts.idleMs) this.destroy(`idle for ${idle} ms`);
      else this.armIdle(this.opts.idleMs - idle);
    });
  }

  private onSocketClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.pingTimer?.cancel();
    this.deadline?.cancel();
    this.messageTimer?.cancel();
    this.backlog.dispose();
    this.opts.logger.debug({ conn: this.id, remote: this.flow.remoteAddress, code }, 'websocket closed');
    this.opts.onClose(this);
  }
}

/** The parts of ws 8's Receiver read here (lib/receiver.js): its parse state (0: waiting for a frame), held bytes, fragments. */
interface ReceiverState {
  _state: number;
  _bufferedBytes: number;
  _fragmented: number;
}

/** Whether ws holds part of a message: bytes of an unparsed frame, or a fragment sequence not finished. */
function holdsPartial(socket: WebSocket): boolean {
  const r = (socket as unknown as { _receiver?: ReceiverState | null })._receiver;
  if (!r) return false;
  return r._bufferedBytes > 0 || r._fragmented !== 0 || r._state !== 0;
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function isCrlfOnly(bytes: Buffer): boolean {
  if (bytes.length === 0) return true;
  for (const b of bytes) if (b !== 0x0d && b !== 0x0a) return false;
  return true;
}
