/**
 * SIP over WebSocket and secure WebSocket (RFC 7118), for browser softphones (SIP.js, JsSIP):
 *
 *   const ws = new WsTransport({ hosts: ['127.0.0.1'], ws: { port: 5066 }, wss: { port: 7443, credentials }, clock, logger });
 *   await ws.start();
 *
 * The HTTP upgrade is checked by us before `ws` sees it (transports.md §3.1): no `sip` in Sec-WebSocket-Protocol →
 * 400, an Origin outside the allow-list (when one is set) → 403, any other request → 426; the upgrade must be done
 * within a deadline. Each WebSocket message is one SIP message, parsed like a datagram (Content-Length optional);
 * two messages in one get 400. Clients' hosts are `.invalid`: everything to them goes on their connection (the
 * descriptors say `dialable: false`), and `sendTo` refuses.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { SipMessage } from '../message/message.js';
import { RequestParseError } from '../message/request-parse-error.js';
import { serialize } from '../message/serialize.js';
import { parseMessage } from '../parser/parse-message.js';
import { addressFamily, normalizeAddress } from './address.js';
import type { ConnectionLimits } from './admission.js';
import { formatHostPort, type Flow, type Target } from './flow.js';
import { answerUnparseable, intakeMessage, type MessageIntake } from './message-intake.js';
import { checkTlsCredentials, secureContextOptions, tlsPeerOf, tlsServerOptions, type TlsCredentials } from './tls-credentials.js';
import { WS, WSS, type TransportDescriptor } from './transport-descriptor.js';
import { TransportError } from './transport-error.js';
import type { FlowClosedHandler, MessageHandler, TransportLayer } from './transport.js';
import { WsConnection } from './ws-connection.js';

export interface WsTransportOptions {
  /** IP literals to listen on; default ['0.0.0.0', '::']. */
  hosts?: string[];
  /** Plain WebSocket; absent: none. Port 0 picks an ephemeral one (tests). */
  ws?: { port: number } | undefined;
  /** Secure WebSocket with the TLS certificate; absent: none. */
  wss?: { port: number; credentials: TlsCredentials } | undefined;
  /** SO_REUSEPORT on the listeners, as for SipTransport's (a WebSocket stays with the process that accepted it). */
  reusePort?: boolean;
  /** Largest WebSocket message, hence SIP message (default 64 KiB, transports.md §3.1). */
  maxMessageBytes?: number;
  /** Open WebSocket connections allowed in all (default 10 000). */
  maxConnections?: number;
  /** Unsent bytes queued per connection before the peer is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A ping every this long, closed after two missed (default 30 s). */
  pingIntervalMs?: number;
  /** TLS handshake plus HTTP upgrade must be done within this long of accept (default 10 s). */
  upgradeTimeoutMs?: number;
  /** The first SIP message must follow the upgrade within this long (default 10 s). */
  firstMessageMs?: number;
  /** A message begun must be complete within this long (default: the connection limits' messageMs; 0: none). */
  messageMs?: number;
  /** Closed after this long without SIP traffic (default 3600 s, the TCP idle limit). */
  idleMs?: number;
  /** Allowed `Origin` values (scheme://host[:port], compared case-insensitively); absent or empty: any. */
  origins?: readonly string[] | undefined;
  /**
   * The stream transports' shared limits (admission.ts): the per-address gate asked at accept, before the upgrade;
   * its first-bytes deadline as the first-SIP-message deadline unless `firstMessageMs` is given. Default none.
   */
  connectionLimits?: ConnectionLimits | undefined;
  clock: Clock;
  logger: Logger;
}

export interface WsTransportStats {
  messagesIn: number;
  messagesOut: number;
  parseErrors: number;
  parseErrorsAnswered: number;
  connectionsOpened: number;
  connectionsRejected: number;
  /** Upgrades refused: no `sip` subprotocol, a foreign Origin, not an upgrade, too slow, a failed TLS handshake. */
  upgradesRefused: number;
}

interface Listener {
  server: HttpServer | HttpsServer;
  transport: TransportDescriptor;
}

export class WsTransport implements TransportLayer {
  readonly stats: WsTransportStats = {
    messagesIn: 0,
    messagesOut: 0,
    parseErrors: 0,
    parseErrorsAnswered: 0,
    connectionsOpened: 0,
    connectionsRejected: 0,
    upgradesRefused: 0,
  };

  private readonly opts: WsTransportOptions;
  private readonly hosts: string[];
  private readonly logger: Logger;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<number, WsConnection>();
  private readonly origins: ReadonlySet<string> | undefined;
  private readonly maxConnections: number;
  private readonly upgradeTimeoutMs: number;
  private readonly intake: MessageIntake;
  private listeners: Listener[] = [];
  private readonly ports = new Map<string, number>();
  private readonly refused: Record<string, number> = {};
  /** Open connections per remote address, for the per-address gate. */
  private readonly perAddress = new Map<string, number>();
  private nextId = 1;
  private closing = false;
  private handler: MessageHandler | undefined;
  private flowClosedHandler: FlowClosedHandler | undefined;

  constructor(opts: WsTransportOptions) {
    this.opts = opts;
    this.hosts = (opts.hosts ?? ['0.0.0.0', '::']).map(normalizeAddress);
    for (const h of this.hosts) {
      if (addressFamily(h) === 0) throw new TransportError('no-socket', `listen address ${h} is not an IP literal`);
    }
    this.logger = opts.logger.child({ module: 'ws-transport' });
    this.maxConnections = opts.maxConnections ?? 10_000;
    this.upgradeTimeoutMs = opts.upgradeTimeoutMs ?? 10_000;
    const origins = (opts.origins ?? []).map((o) => o.toLowerCase().replace(/\/$/, ''));
    this.origins = origins.length > 0 ? new Set(origins) : undefined;
    this.wss = new WebSocketServer({
      noServer: true,
      // ws's default is 100 MiB; a SIP message is at most 64 KiB.
      maxPayload: opts.maxMessageBytes ?? 65_536,
      perMessageDeflate: false,
      clientTracking: false,
      // Only reached after upgrade() checked that `sip` was offered.
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
    this.intake = {
      stats: this.stats,
      logger: this.logger,
      handler: () => this.handler,
      send: (bytes, flow) => this.send(bytes, flow),
    };
  }

  /** The transports served: WS and/or WSS as configured. */
  get transports(): readonly TransportDescriptor[] {
    return [...(this.opts.ws ? [WS] : []), ...(this.opts.wss ? [WSS] : [])];
  }

  /** The port of WS or WSS, once started. */
  portOf(transport: TransportDescriptor): number | undefined {
    return this.ports.get(transport.name);
  }

  /** Open connections per transport (ws, wss), for metrics. */
  connectionCounts(): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(this.transports.map((t) => [t.name, 0]));
    for (const c of this.connections.values()) counts[c.flow.protocol] = (counts[c.flow.protocol] ?? 0) + 1;
    return counts;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Connections refused or dropped before they carried SIP, per transport (ws, wss), for metrics. */
  refusedCounts(): Record<string, number> {
    return { ...Object.fromEntries(this.transports.map((t) => [t.name, 0])), ...this.refused };
  }

  private countRefusal(transport: TransportDescriptor): void {
    this.refused[transport.name] = (this.refused[transport.name] ?? 0) + 1;
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onFlowClosed(handler: FlowClosedHandler): void {
    this.flowClosedHandler = handler;
  }

  async start(): Promise<void> {
    const ipv6Only = this.hosts.some((h) => addressFamily(h) === 4);
    if (this.opts.ws) await this.listenAll(WS, this.opts.ws.port, ipv6Only);
    if (this.opts.wss) await this.listenAll(WSS, this.opts.wss.port, ipv6Only);
    this.logger.info({ hosts: this.hosts, ws: this.ports.get(WS.name), wss: this.ports.get(WSS.name) }, 'websocket transport listening');
  }

  /** New WSS handshakes use these credentials; open connections keep theirs. Throws, changing nothing, if unusable. */
  reloadTls(credentials: TlsCredentials): void {
    checkTlsCredentials(credentials);
    for (const l of this.listeners) if (l.transport === WSS) (l.server as HttpsServer).setSecureContext(secureContextOptions(credentials));
  }

  send(msg: SipMessage | Buffer, flow: Flow): Promise<void> {
    if (this.closing) return Promise.reject(new TransportError('closed', 'transport is closed'));
    const conn = flow.connectionId === undefined ? undefined : this.connections.get(flow.connectionId);
    // Ids start again at 1 after a restart: a restored flow's id may name another browser's connection now.
    if (!conn || !conn.isOpen || conn.flow.protocol !== flow.protocol || conn.flow.remoteAddress !== flow.remoteAddress || conn.flow.remotePort !== flow.remotePort) {
      return Promise.reject(new TransportError('flow-closed', `websocket to ${formatHostPort(flow.remoteAddress, flow.remotePort)} is closed`));
    }
    const bytes = Buffer.isBuffer(msg) ? msg : serialize(msg);
    return conn.write(bytes).then(() => {
      this.stats.messagesOut++;
    });
  }

  /** A WebSocket peer is reached only on its own connection (RFC 7118: its host is `.invalid`): never dialled. */
  sendTo(_msg: SipMessage | Buffer, target: Target): Promise<Flow> {
    return Promise.reject(new TransportError('connect-failed', `a ${target.protocol} peer cannot be dialled (${target.host})`));
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const conn of this.connections.values()) conn.destroy('transport closing');
    const listeners = this.listeners;
    this.listeners = [];
    await Promise.all(
      listeners.map(
        (l) =>
          new Promise<void>((resolve) => {
            l.server.close(() => resolve());
            l.server.closeAllConnections();
          }),
      ),
    );
    this.wss.close();
  }

  // ---- listening ----

  private async listenAll(transport: TransportDescriptor, requested: number, ipv6Only: boolean): Promise<void> {
    let port = requested;
    for (const host of this.hosts) {
      try {
        const server = await this.listen(transport, host, port, ipv6Only);
        if (port === 0) port = (server.address() as { port: number }).port;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const missingFamily = addressFamily(host) === 6 && (host === '::') && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL');
        if (!missingFamily) throw err;
      }
    }
    this.ports.set(transport.name, port);
  }

  private listen(transport: TransportDescriptor, host: string, port: number, ipv6Only: boolean): Promise<HttpServer | HttpsServer> {
    const timeouts = {
      // A slow upgrade request is bounded by Node's own timers too, checked every second rather than every 30 s.
      headersTimeout: this.upgradeTimeoutMs,
      requestTimeout: this.upgradeTimeoutMs,
      connectionsCheckingInterval: 1000,
    };
    const server: HttpServer | HttpsServer =
      transport === WSS
        ? createHttpsServer({ ...tlsServerOptions(this.opts.wss!.credentials, this.upgradeTimeoutMs), ...timeouts })
        : createHttpServer(timeouts);
    server.on('connection', (socket: Socket) => this.onConnection(socket, transport));
    if (transport === WSS) {
      // As on the SIP TLS port: a failed or timed-out handshake's socket is destroyed, not left open.
      server.on('tlsClientError', (err: Error, socket: Socket) => {
        this.stats.upgradesRefused++;
        this.countRefusal(transport);
        this.logger.debug({ remote: socket.remoteAddress, err: err.message }, 'wss handshake failed');
        socket.destroy();
      });
    }
    server.on('request', (req: IncomingMessage, res) => {
      // Only upgrades are served here (RFC 6455 §4.2.2: 426 tells a client that asked for something else).
      this.stats.upgradesRefused++;
      this.countRefusal(transport);
      res.writeHead(426, { Upgrade: 'websocket', Connection: 'close', 'Content-Type': 'text/plain' });
      res.end('SIP over WebSocket only (RFC 7118): upgrade with Sec-WebSocket-Protocol: sip\n');
      req.socket.destroySoon?.();
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head, transport));
    server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.close();
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host, port, ipv6Only: addressFamily(host) === 6 && ipv6Only, ...(this.opts.reusePort ? ({ reusePort: true } as object) : {}) }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.logger.error({ err: err.message, host }, `${transport.name} listener error`));
        this.listeners.push({ server, transport });
        resolve(server);
      });
    });
  }

  /** Every accepted socket: the caps, then a deadline for TLS handshake and upgrade together. */
  private onConnection(socket: Socket, transport: TransportDescriptor): void {
    const limits = this.opts.connectionLimits;
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const full = this.connections.size >= this.maxConnections;
    const gated = !full && limits?.admit !== undefined && !limits.admit({ address, transport, open: this.perAddress.get(address) ?? 0 });
    if (this.closing || full || gated) {
      this.stats.connectionsRejected++;
      this.countRefusal(transport);
      if (!this.closing) limits?.onLimit?.(full ? 'total' : 'per-address');
      this.logger.debug({ remote: socket.remoteAddress, transport: transport.name }, 'websocket connection refused');
      socket.destroy();
      return;
    }
    const timer: TimerHandle = this.opts.clock.setTimer(this.upgradeTimeoutMs, () => {
      if (upgraded.has(socket)) return;
      this.stats.upgradesRefused++;
      this.countRefusal(transport);
      this.logger.debug({ remote: socket.remoteAddress, transport: transport.name }, 'websocket upgrade not done in time');
      socket.destroy();
    });
    socket.once('close', () => timer.cancel());
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer, transport: TransportDescriptor): void {
    const refuse = (status: number, reason: string): void => {
      this.stats.upgradesRefused++;
      this.countRefusal(transport);
      this.logger.debug({ remote: socket.remoteAddress, status, reason }, 'websocket upgrade refused');
      const body = `${reason}\n`;
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      socket.destroySoon?.();
    };
    if (this.closing) return refuse(503, 'Service Unavailable');
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    // RFC 7118 §4: the `sip` subprotocol, or no SIP at all (ws would otherwise accept with no subprotocol).
    if (!offered.includes('sip')) return refuse(400, 'Bad Request: Sec-WebSocket-Protocol sip required');
    if (this.origins) {
      const origin = (req.headers.origin ?? '').toLowerCase().replace(/\/$/, '');
      if (!this.origins.has(origin)) return refuse(403, 'Forbidden: Origin not allowed');
    }
    upgraded.add(socket);
    // ws answers a malformed upgrade (no Sec-WebSocket-Key, wrong version) with 400 itself.
    this.wss.handleUpgrade(req, socket, head, (ws) => this.adopt(ws, req, socket, transport));
  }

  private adopt(socket: WebSocket, req: IncomingMessage, raw: Socket, transport: TransportDescriptor): void {
    if (this.closing) {
      socket.terminate();
      return;
    }
    const id = this.nextId++;
    const tlsPeer = transport === WSS ? tlsPeerOf(raw as TLSSocket) : undefined;
    const flow: Flow = {
      protocol: transport.name,
      localAddress: normalizeAddress(raw.localAddress ?? ''),
      localPort: raw.localPort ?? 0,
      remoteAddress: normalizeAddress(raw.remoteAddress ?? req.socket.remoteAddress ?? ''),
      remotePort: raw.remotePort ?? 0,
      connectionId: id,
      ...(tlsPeer ? { tlsPeer } : {}),
    };
    const conn = new WsConnection({
      id,
      socket,
      flow,
      clock: this.opts.clock,
      logger: this.logger,
      pingIntervalMs: this.opts.pingIntervalMs ?? 30_000,
      firstMessageMs: this.opts.firstMessageMs ?? (this.opts.connectionLimits?.firstBytesMs || 10_000),
      idleMs: this.opts.idleMs ?? 3_600_000,
      maxBufferedBytes: this.opts.maxBufferedBytes ?? 1024 * 1024,
      sendAllowance: this.opts.connectionLimits?.sendAllowance,
      messageMs: this.opts.messageMs ?? this.opts.connectionLimits?.messageMs,
      rawSocket: raw,
      onMessageDeadline: () => this.opts.connectionLimits?.onLimit?.('message-deadline'),
      onBacklogDrop: () => this.opts.connectionLimits?.onLimit?.('send-backlog'),
      onMessage: (c, bytes) => this.receive(c, bytes),
      onClose: (c) => {
        this.connections.delete(c.id);
        const n = (this.perAddress.get(c.flow.remoteAddress) ?? 1) - 1;
        if (n > 0) this.perAddress.set(c.flow.remoteAddress, n);
        else this.perAddress.delete(c.flow.remoteAddress);
        this.flowClosedHandler?.(c.flow);
      },
    });
    this.connections.set(id, conn);
    this.perAddress.set(flow.remoteAddress, (this.perAddress.get(flow.remoteAddress) ?? 0) + 1);
    this.stats.connectionsOpened++;
  }

  /** One WebSocket message: exactly one SIP message (RFC 7118 §5.2), else 400 for the first. */
  private receive(conn: WsConnection, bytes: Buffer): void {
    const extra = bytesBeyondMessage(bytes);
    if (extra > 0) {
      try {
        const first = parseMessage(bytes, { datagram: true });
        if (first.isRequest()) {
          answerUnparseable(this.intake, new RequestParseError(`${extra} bytes after the message: one SIP message per WebSocket message (RFC 7118 §5.2)`, first, 400), conn.flow);
          return;
        }
      } catch {
        // unparseable anyway: the intake answers or drops it as for any other bad message
      }
    }
    intakeMessage(this.intake, bytes, conn.flow, true);
  }
}

/** Sockets whose upgrade was accepted, so the upgrade deadline leaves them alone. */
const upgraded = new WeakSet<Socket>();

/**
 * Bytes after the first message, by its Content-Length (0 without one: then the message runs to the end). Trailing
 * CRLFs do not count.
 */
function bytesBeyondMessage(bytes: Buffer): number {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd === -1) return 0;
  const head = bytes.toString('latin1', 0, headEnd);
  const m = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(head);
  if (!m) return 0;
  let end = headEnd + 4 + Number(m[1]);
  if (end >= bytes.length) return 0;
  while (end < bytes.length && (bytes[end] === 0x0d || bytes[end] === 0x0a)) end++;
  return bytes.length - end;
}
