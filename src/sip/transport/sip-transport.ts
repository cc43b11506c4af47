/**
 * UDP and TCP on one port, IPv4 and IPv6 (RFC 3261 §18), and TLS on a port of its own when given a certificate
 * (RFC 3261 §26.2; transports.md §2): TLS connections are TcpConnections over a TLSSocket, so framing, limits and
 * deadlines are the same code for both.
 *
 *   const transport = new SipTransport({ hosts: ['127.0.0.1'], port: 0, clock, logger });
 *   await transport.start();            // transport.port is the bound port (the same for UDP and TCP)
 *   transport.onMessage((msg, flow) => ...);
 *   await transport.send(response, flow);              // back the way the request came
 *   const flow = await transport.sendTo(req, { protocol: 'tcp', host, port }); // reuse or open a connection
 *   await transport.close();
 *
 * Response routing: RFC 3261 §18.2.2 sends UDP responses to `received` and the sent-by port unless the client asked
 * for `rport` (RFC 3581 §4). NAT is the normal case for phones, and a response to the sent-by port of a phone behind
 * NAT is lost, so we always answer from the socket the request arrived on to the request's source address and port:
 * the result RFC 3581 gives when rport is asked for, and what Kamailio's `force_rport` does. TCP responses go on the
 * connection the request came on.
 */
import { createServer, connect, isIP, type ListenOptions, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, rootCertificates, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { SipMessage } from '../message/message.js';
import { serialize } from '../message/serialize.js';
import type { FramerOutput } from '../parser/stream-framer.js';
import { addressFamily, isInvalidHost, isWildcard, literalFirstLookup, normalizeAddress } from './address.js';
import type { ConnectionLimits } from './admission.js';
import { ConnectionTable } from './connection-table.js';
import { HandshakeTally } from './handshake-tally.js';
import { formatHostPort, type Flow, type Target } from './flow.js';
import { errorResponse, intakeMessage, type MessageIntake } from './message-intake.js';
import { TcpConnection } from './tcp-connection.js';
import { secureContextOptions, tlsPeerOf, tlsServerOptions, checkTlsCredentials, type TlsCredentials } from './tls-credentials.js';
import { TCP, TLS, UDP, type TransportDescriptor } from './transport-descriptor.js';
import { TransportError } from './transport-error.js';
import type { FlowClosedHandler, MessageHandler, TransportLayer } from './transport.js';

export interface SipTransportOptions {
  /** IP literals to listen on; default ['0.0.0.0', '::']. */
  hosts?: string[];
  /** Port for UDP and TCP alike; 0 picks an ephemeral one (tests). Default 5060. */
  port?: number;
  udp?: boolean;
  tcp?: boolean;
  /**
   * Kernel buffer asked for each UDP socket, receive and send (default 4 MiB). Node's 208 KiB default drops
   * datagrams in a fan-out burst; the kernel caps the request at net.core.rmem_max / wmem_max.
   */
  udpBufferBytes?: number;
  /**
   * SO_REUSEPORT on every listener (Node 22.12+): processes on one host share the ports and the kernel hashes each
   * peer's address to one of them, so a phone's requests and its answers to our NOTIFYs reach the process holding its
   * dialog. Off by default: a second server on a taken port must fail, not share it.
   */
  reusePort?: boolean;
  /** Largest datagram accepted or sent (default 65 535). */
  maxDatagramBytes?: number;
  /** Largest message one TCP connection may buffer while framing it (default 65 536). */
  maxMessageBytes?: number;
  /** Open TCP connections allowed, inbound and outbound together (default 10 000). */
  maxConnections?: number;
  /** Unsent bytes queued per TCP connection before the peer is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A TCP connection without traffic for this long is closed (default 3600 s). */
  tcpIdleMs?: number;
  /** Give up opening a TCP connection after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** TLS (SIPS) on a port of its own; absent: no TLS. */
  tls?: SipTlsOptions | undefined;
  /** Per-address gate at accept, first-bytes and message deadlines, framer byte budget (admission.ts). Default none. */
  connectionLimits?: ConnectionLimits;
  clock: Clock;
  logger: Logger;
}

export interface SipTlsOptions {
  /** 0 picks an ephemeral one (tests). */
  port: number;
  credentials: TlsCredentials;
  /** A handshake not done by then is abandoned and its socket destroyed (default 10 s, transports.md §2.1). */
  handshakeTimeoutMs?: number;
}

export interface TransportStats {
  messagesIn: number;
  messagesOut: number;
  /** Messages that did not parse or frame. */
  parseErrors: number;
  /** Of those, the ones answered with 400 (or 505). */
  parseErrorsAnswered: number;
  connectionsOpened: number;
  connectionsRejected: number;
  /** TLS handshakes that failed or timed out (plaintext to the TLS port, old versions, silent clients). */
  tlsHandshakeFailures: number;
}

interface UdpListener {
  socket: UdpSocket;
  address: string;
  family: 4 | 6;
}

interface TcpListener {
  server: Server;
  address: string;
}

const BIND_ATTEMPTS = 10;

export class SipTransport implements TransportLayer {
  readonly stats: TransportStats = {
    messagesIn: 0,
    messagesOut: 0,
    parseErrors: 0,
    parseErrorsAnswered: 0,
    connectionsOpened: 0,
    connectionsRejected: 0,
    tlsHandshakeFailures: 0,
  };

  private readonly hosts: string[];
  private readonly requestedPort: number;
  private readonly useUdp: boolean;
  private readonly useTcp: boolean;
  private readonly maxDatagramBytes: number;
  private readonly maxMessageBytes: number;
  private readonly maxConnections: number;
  private readonly maxBufferedBytes: number;
  private readonly tcpIdleMs: number;
  private readonly connectTimeoutMs: number;
  private readonly udpBufferBytes: number;
  private readonly reusePort: boolean;
  private readonly connectionLimits: ConnectionLimits | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private readonly tlsOptions: SipTlsOptions | undefined;
  private tlsCredentials: TlsCredentials | undefined;
  private udp: UdpListener[] = [];
  private tcp: TcpListener[] = [];
  /** Per TLS listen address: the TCP listener that gates sockets, and the TLS server it hands the admitted ones. */
  private tlsServers: { front: Server; tls: TlsServer }[] = [];
  private readonly handshakes = new HandshakeTally();
  private boundTlsPort = 0;
  private refusedTcp = 0;
  private refusedTls = 0;
  private readonly intake: MessageIntake;
  private readonly connections = new ConnectionTable();
  private readonly connecting = new Map<string, Promise<TcpConnection>>();
  private nextConnectionId = 1;
  private boundPort = 0;
  private closing = false;
  private handler: MessageHandler | undefined;
  private flowClosedHandler: FlowClosedHandler | undefined;

  constructor(opts: SipTransportOptions) {
    this.hosts = (opts.hosts ?? ['0.0.0.0', '::']).map(normalizeAddress);
    for (const h of this.hosts) {
      if (addressFamily(h) === 0) throw new TransportError('no-socket', `listen address ${h} is not an IP literal`);
    }
    this.requestedPort = opts.port ?? 5060;
    this.useUdp = opts.udp ?? true;
    this.useTcp = opts.tcp ?? true;
    this.maxDatagramBytes = opts.maxDatagramBytes ?? 65_535;
    this.maxMessageBytes = opts.maxMessageBytes ?? 65_536;
    this.maxConnections = opts.maxConnections ?? 10_000;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
    this.tcpIdleMs = opts.tcpIdleMs ?? 3_600_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.udpBufferBytes = opts.udpBufferBytes ?? 4 * 1024 * 1024;
    this.reusePort = opts.reusePort ?? false;
    this.connectionLimits = opts.connectionLimits;
    this.clock = opts.clock;
    this.logger = opts.logger.child({ module: 'sip-transport' });
    this.tlsOptions = opts.tls;
    this.tlsCredentials = opts.tls?.credentials;
    this.intake = {
      stats: this.stats,
      logger: this.logger,
      handler: () => this.handler,
      send: (bytes, flow) => this.send(bytes, flow),
    };
  }

  /** The port UDP and TCP listen on (known after start()). */
  get port(): number {
    return this.boundPort;
  }

  /** The port `transport` listens on (TLS has its own), once started. */
  portOf(transport: TransportDescriptor): number | undefined {
    if (transport.name === TLS.name) return this.tlsOptions ? this.boundTlsPort : undefined;
    return this.transports.includes(transport) ? this.boundPort : undefined;
  }

  /** The transports this instance serves (UDP and TCP unless one is turned off; TLS with a certificate). */
  get transports(): readonly TransportDescriptor[] {
    return [...(this.useUdp ? [UDP] : []), ...(this.useTcp ? [TCP] : []), ...(this.tlsOptions ? [TLS] : [])];
  }

  /** Number of open TCP and TLS connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Connections refused at accept or in their TLS handshake, per transport (tcp, tls), for metrics. */
  refusedCounts(): Record<string, number> {
    return { tcp: this.refusedTcp, ...(this.tlsOptions ? { tls: this.refusedTls + this.stats.tlsHandshakeFailures } : {}) };
  }

  /** Open connections per transport (tcp, tls), for metrics. */
  connectionCounts(): Record<string, number> {
    const counts: Record<string, number> = { tcp: 0, ...(this.tlsOptions ? { tls: 0 } : {}) };
    for (const c of this.connections.all()) counts[c.flow.protocol] = (counts[c.flow.protocol] ?? 0) + 1;
    return counts;
  }

  /**
   * New TLS handshakes use these credentials from now on; established connections keep theirs ("existing connections
   * to the server are not interrupted", Node's setSecureContext). Throws TlsCredentialsError, changing nothing, when
   * they do not make a context (transports.md: the old context stays if the new files are broken).
   */
  reloadTls(credentials: TlsCredentials): void {
    if (!this.tlsOptions) return;
    checkTlsCredentials(credentials);
    for (const { tls } of this.tlsServers) tls.setSecureContext(secureContextOptions(credentials));
    this.tlsCredentials = credentials;
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onFlowClosed(handler: FlowClosedHandler): void {
    this.flowClosedHandler = handler;
  }

  /** Binds every listen address, TCP and UDP on the same port. With port 0 retries when UDP finds it taken. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bindAll();
        this.logger.info({ hosts: this.hosts, port: this.boundPort }, 'sip transport listening');
        return;
      } catch (err) {
        await this.closeListeners();
        const code = (err as NodeJS.ErrnoException).code;
        if (this.requestedPort !== 0 || code !== 'EADDRINUSE' || attempt >= BIND_ATTEMPTS) throw err;
      }
    }
  }

  send(msg: SipMessage | Buffer, flow: Flow): Promise<void> {
    // Not an async function: on UDP the promise of sendDatagram is the only one made per message.
    try {
      if (this.closing) throw new TransportError('closed', 'transport is closed');
      const bytes = Buffer.isBuffer(msg) ? msg : serialize(msg);
      if (flow.protocol === UDP.name) {
        const listener = this.udpFor(flow.localAddress, flow.localPort, flow.remoteAddress);
        return this.sendDatagram(listener, bytes, flow.remoteAddress, flow.remotePort);
      }
      return this.sendOnConnection(bytes, flow);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private async sendOnConnection(bytes: Buffer, flow: Flow): Promise<void> {
    const conn = flow.connectionId === undefined ? undefined : this.connections.get(flow.connectionId);
    // Connection ids start again at 1 after a restart: a restored flow's id may name another peer's connection now.
    if (!conn || !conn.isOpen || !sameConnection(conn.flow, flow)) {
      throw new TransportError('flow-closed', `tcp flow to ${formatHostPort(flow.remoteAddress, flow.remotePort)} is closed`);
    }
    await conn.write(bytes);
    this.stats.messagesOut++;
  }

  async sendTo(msg: SipMessage | Buffer, target: Target): Promise<Flow> {
    if (this.closing) throw new TransportError('closed', 'transport is closed');
    const bytes = Buffer.isBuffer(msg) ? msg : serialize(msg);
    const address = await this.resolve(target.host);
    if (target.protocol === UDP.name) {
      const listener = this.udpFor(undefined, undefined, address);
      await this.sendDatagram(listener, bytes, address, target.port);
      return { protocol: UDP.name, localAddress: listener.address, localPort: this.boundPort, remoteAddress: address, remotePort: target.port };
    }
    const transport = target.protocol === TLS.name ? TLS : TCP;
    if (target.protocol !== transport.name) throw new TransportError('no-socket', `${target.protocol} is not served here`);
    const conn = await this.connectionTo(transport, target.host, address, target.port);
    await conn.write(bytes);
    this.stats.messagesOut++;
    return conn.flow;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const conn of this.connections.all()) conn.destroy('transport closing');
    await this.closeListeners();
  }

  // ---- listening ----

  private async bindAll(): Promise<void> {
    let port = this.requestedPort;
    // With both an IPv4 and an IPv6 address, the IPv6 socket must not also claim IPv4 or the second bind fails.
    const ipv6Only = this.hosts.some((h) => addressFamily(h) === 4);
    let bound = 0;
    for (const host of this.hosts) {
      if (this.useTcp) {
        let server: Server;
        try {
          server = await this.listenTcp(host, port, ipv6Only);
        } catch (err) {
          // Hosts without IPv6 (some containers) cannot bind '::': the default list should still start there.
          if (!this.missingFamily(err, host)) throw err;
          this.logger.warn({ host, err: (err as Error).message }, 'address family unavailable, not listening there');
          continue;
        }
        if (port === 0) port = (server.address() as { port: number }).port;
      }
      if (this.useUdp) {
        const socket = await this.bindUdp(host, port, ipv6Only);
        if (port === 0) port = socket.socket.address().port;
      }
      bound++;
    }
    if (bound === 0) throw new TransportError('no-socket', `could not listen on any of ${this.hosts.join(', ')}`);
    this.boundPort = port;
    if (this.tlsOptions) this.boundTlsPort = await this.bindTls(this.tlsOptions, ipv6Only);
  }

  /** A TLS server on every listen address, on the TLS port (the first address's when 0 was asked for). */
  private async bindTls(opts: SipTlsOptions, ipv6Only: boolean): Promise<number> {
    let port = opts.port;
    for (const host of this.hosts) {
      try {
        const server = await this.listenTls(host, port, ipv6Only, opts);
        if (port === 0) port = (server.address() as { port: number }).port;
      } catch (err) {
        if (!this.missingFamily(err, host)) throw err;
      }
    }
    return port;
  }

  private listenTls(host: string, port: number, ipv6Only: boolean, opts: SipTlsOptions): Promise<Server> {
    return new Promise((resolve, reject) => {
      // Never listens itself: the TCP listener below hands it the sockets the gate admits (Node documents emitting
      // 'connection' to inject a socket), so a source over its cap costs no handshake.
      const tls = createTlsServer(tlsServerOptions(this.tlsCredentials!, opts.handshakeTimeoutMs ?? 10_000), (socket) => {
        this.handshakes.settle(normalizeAddress(socket.remoteAddress ?? ''), socket.remotePort ?? 0);
        this.accept(socket, TLS);
      });
      // Node leaves the socket of a failed or timed-out handshake open (transports.md §2.1, tried): close it here.
      tls.on('tlsClientError', (err, socket) => {
        this.stats.tlsHandshakeFailures++;
        this.logger.debug({ remote: socket.remoteAddress, err: err.message }, 'tls handshake failed');
        socket.destroy();
      });
      const server = createServer((raw) => {
        const address = normalizeAddress(raw.remoteAddress ?? '');
        if (!this.admitted(raw, address, TLS, this.handshakes.count(address))) return;
        this.handshakes.begin(address, raw);
        tls.emit('connection', raw);
      });
      // Sockets still in their handshake count against the same global cap as established connections.
      server.maxConnections = this.maxConnections;
      // Node refuses those itself ('drop', before any handshake): counted like the refusals at accept.
      server.on('drop', () => {
        this.stats.connectionsRejected++;
        this.refusedTls++;
        if (!this.closing) this.connectionLimits?.onLimit?.('total');
      });
      const onError = (err: Error): void => {
        server.close();
        reject(err);
      };
      server.once('error', onError);
      server.listen(this.listenOptions(host, port, ipv6Only), () => {
        server.off('error', onError);
        server.on('error', (err) => this.logger.error({ err: err.message, host }, 'tls listener error'));
        this.tlsServers.push({ front: server, tls });
        resolve(server);
      });
    });
  }

  private listenOptions(host: string, port: number, ipv6Only: boolean): ListenOptions {
    return { host, port, ipv6Only: addressFamily(host) === 6 && ipv6Only, ...(this.reusePort ? ({ reusePort: true } as object) : {}) };
  }

  private missingFamily(err: unknown, host: string): boolean {
    const code = (err as NodeJS.ErrnoException).code;
    return isWildcard(host) && addressFamily(host) === 6 && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL');
  }

  private listenTcp(host: string, port: number, ipv6Only: boolean): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      const onError = (err: Error): void => {
        server.close();
        reject(err);
      };
      server.once('error', onError);
      server.listen(this.listenOptions(host, port, ipv6Only), () => {
        server.off('error', onError);
        server.on('error', (err) => this.logger.error({ err: err.message, host }, 'tcp listener error'));
        this.tcp.push({ server, address: host });
        resolve(server);
      });
    });
  }

  private bindUdp(host: string, port: number, ipv6Only: boolean): Promise<UdpListener> {
    return new Promise((resolve, reject) => {
      const family = addressFamily(host) === 6 ? 6 : 4;
      const buffer = this.udpBufferBytes;
      const socket = createSocket({
        type: family === 6 ? 'udp6' : 'udp4',
        ipv6Only: family === 6 && ipv6Only,
        recvBufferSize: buffer,
        sendBufferSize: buffer,
        lookup: literalFirstLookup,
        // Not in Node 20's types; Node 22.12+ reads it (config.ts refuses the setting on older versions).
        ...(this.reusePort ? ({ reusePort: true } as object) : {}),
      });
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind({ address: host, port }, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.logger.error({ err: err.message, host }, 'udp socket error'));
        // Linux reports twice what it grants; a figure far below the request means net.core.rmem_max caps it.
        this.logger.debug({ host, asked: buffer, receive: socket.getRecvBufferSize(), send: socket.getSendBufferSize() }, 'udp socket buffers');
        const listener: UdpListener = { socket, address: host, family };
        socket.on('message', (buf, rinfo) => this.onDatagram(listener, buf, rinfo));
        this.udp.push(listener);
        resolve(listener);
      });
    });
  }

  private async closeListeners(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    const tls = this.tlsServers;
    this.udp = [];
    this.tcp = [];
    this.tlsServers = [];
    await Promise.all([
      ...udp.map((l) => new Promise<void>((resolve) => l.socket.close(() => resolve()))),
      ...tcp.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve()))),
      ...tls.map(({ front }) => new Promise<void>((resolve) => front.close(() => resolve()))),
    ]);
  }

  // ---- UDP ----

  private onDatagram(listener: UdpListener, buf: Buffer, rinfo: RemoteInfo): void {
    const flow: Flow = {
      protocol: UDP.name,
      localAddress: listener.address,
      localPort: this.boundPort,
      remoteAddress: normalizeAddress(rinfo.address),
      remotePort: rinfo.port,
    };
    if (buf.length > this.maxDatagramBytes) {
      this.logger.debug({ remote: flow.remoteAddress, bytes: buf.length }, 'datagram too large, dropped');
      return;
    }
    // RFC 3261 §7.5: CRLFs before the start line are ignored; a datagram of nothing else is a keep-alive.
    let start = 0;
    while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
    if (start === buf.length) return;
    this.receive(start === 0 ? buf : buf.subarray(start), flow, true);
  }

  private sendDatagram(listener: UdpListener, bytes: Buffer, address: string, port: number): Promise<void> {
    if (bytes.length > this.maxDatagramBytes) {
      return Promise.reject(new TransportError('too-large', `${bytes.length} bytes do not fit a datagram`));
    }
    return new Promise((resolve, reject) => {
      listener.socket.send(bytes, port, address, (err) => {
        if (err) reject(new TransportError('send-failed', err.message));
        else {
          this.stats.messagesOut++;
          resolve();
        }
      });
    });
  }

  /** The socket a flow left from, else any socket of the remote address's family (wildcards preferred). */
  private udpFor(localAddress: string | undefined, localPort: number | undefined, remote: string): UdpListener {
    if (localAddress !== undefined && localPort === this.boundPort) {
      const local = normalizeAddress(localAddress);
      const exact = this.udp.find((l) => l.address === local);
      if (exact) return exact;
    }
    const family = addressFamily(remote) === 6 ? 6 : 4;
    const candidates = this.udp.filter((l) => l.family === family);
    const remoteIsLoopback = remote === '::1' || remote.startsWith('127.');
    const pick =
      candidates.find((l) => isWildcard(l.address)) ??
      candidates.find((l) => (l.address === '::1' || l.address.startsWith('127.')) === remoteIsLoopback) ??
      candidates[0];
    if (!pick) throw new TransportError('no-socket', `no UDP socket for IPv${family}`);
    return pick;
  }

  // ---- TCP ----

  /** Every inbound stream connection, TCP or (after its handshake) TLS, passes here. */
  private accept(socket: Socket, transport: TransportDescriptor = TCP): void {
    if (this.closing || this.connections.size >= this.maxConnections) {
      this.stats.connectionsRejected++;
      if (transport === TLS) this.refusedTls++;
      else this.refusedTcp++;
      if (!this.closing) this.connectionLimits?.onLimit?.('total');
      this.logger.warn({ remote: socket.remoteAddress, limit: this.maxConnections, transport: transport.name }, 'connection limit reached, refusing');
      socket.destroy();
      return;
    }
    // TLS passed the gate before its handshake (listenTls), counted with the sockets still in theirs.
    if (transport !== TLS && !this.admitted(socket, normalizeAddress(socket.remoteAddress ?? ''), transport, 0)) return;
    this.adopt(socket, 'inbound', transport);
  }

  /** The per-address gate; a refused socket is destroyed before any byte is read. `handshaking`: its address's sockets in a TLS handshake. */
  private admitted(socket: Socket, address: string, transport: TransportDescriptor, handshaking: number): boolean {
    const admit = this.connectionLimits?.admit;
    if (admit === undefined || admit({ address, transport, open: this.connections.countFrom(address) + handshaking })) return true;
    this.stats.connectionsRejected++;
    if (transport === TLS) this.refusedTls++;
    else this.refusedTcp++;
    this.connectionLimits?.onLimit?.('per-address');
    // Debug only: a source over its cap would otherwise write a log line per attempt.
    this.logger.debug({ remote: address, transport: transport.name }, 'connection refused by the connection gate');
    socket.destroy();
    return false;
  }

  private adopt(socket: Socket, direction: 'inbound' | 'outbound', transport: TransportDescriptor = TCP): TcpConnection {
    const conn = new TcpConnection({
      transport,
      tlsPeer: transport === TLS ? tlsPeerOf(socket as TLSSocket) : undefined,
      id: this.nextConnectionId++,
      socket,
      direction,
      clock: this.clock,
      logger: this.logger,
      idleMs: this.tcpIdleMs,
      maxMessageBytes: this.maxMessageBytes,
      maxBufferedBytes: this.maxBufferedBytes,
      limits: this.connectionLimits,
      onFrame: (c, out) => this.onFrame(c, out),
      onClose: (c) => {
        this.connections.remove(c);
        this.flowClosedHandler?.(c.flow);
      },
    });
    this.connections.add(conn);
    this.stats.connectionsOpened++;
    return conn;
  }

  private onFrame(conn: TcpConnection, out: FramerOutput): void {
    if (out.kind === 'message') {
      this.receive(out.bytes, conn.flow, false);
      return;
    }
    if (out.kind !== 'error') return;
    this.stats.parseErrors++;
    const answer = errorResponse(this.logger, out.error, conn.flow);
    if (out.fatal) {
      // RFC 3261 §18.3: a stream that cannot be framed cannot be trusted any further; answer if we can, then close.
      if (answer) this.stats.parseErrorsAnswered++;
      conn.closeAfter(answer, `framing error: ${out.error.message}`);
      return;
    }
    if (answer) {
      this.stats.parseErrorsAnswered++;
      conn.write(answer).catch(() => {});
    } else {
      this.logger.debug({ remote: conn.flow.remoteAddress, reason: out.error.message }, 'unframeable message dropped');
    }
  }

  /**
   * An open connection of `transport` (TCP or TLS) to address:port (inbound ones count), one being opened, or a new
   * one. `host` is the name the target gave, which a TLS server's certificate must match.
   */
  private connectionTo(transport: TransportDescriptor, host: string, address: string, port: number): Promise<TcpConnection> {
    const existing = this.connections.findByRemote(transport.name, address, port);
    if (existing) return Promise.resolve(existing);
    const key = `${transport.name}|${formatHostPort(address, port)}`;
    const pending = this.connecting.get(key);
    if (pending) return pending;
    if (this.connections.size + this.connecting.size >= this.maxConnections) {
      return Promise.reject(new TransportError('limit', 'tcp connection limit reached'));
    }
    const opening = this.openConnection(transport, host, address, port).finally(() => this.connecting.delete(key));
    this.connecting.set(key, opening);
    return opening;
  }

  /**
   * A new connection. TLS checks the server's certificate against the system roots and the configured CA, for the
   * target's name: a `sips:` target that cannot prove itself gets nothing, never a plaintext fallback.
   */
  private openConnection(transport: TransportDescriptor, host: string, address: string, port: number): Promise<TcpConnection> {
    const secure = transport === TLS;
    return new Promise((resolve, reject) => {
      const ca = this.tlsCredentials?.ca;
      const socket: Socket = secure
        ? tlsConnect({
            host: address,
            port,
            ...(isIP(host) === 0 ? { servername: host } : {}),
            ca: ca ? [...rootCertificates, ca.toString('utf8')] : [...rootCertificates],
            minVersion: this.tlsCredentials?.minVersion ?? 'TLSv1.2',
          })
        : connect({ host: address, port });
      let timer: TimerHandle | undefined = this.clock.setTimer(this.connectTimeoutMs, () => {
        socket.destroy(new Error(`connect timed out after ${this.connectTimeoutMs} ms`));
      });
      const onError = (err: Error): void => {
        timer?.cancel();
        timer = undefined;
        socket.destroy();
        this.logger.debug({ remote: formatHostPort(address, port), err: err.message }, 'tcp connect failed');
        reject(new TransportError('connect-failed', `connect to ${formatHostPort(address, port)} failed: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        timer?.cancel();
        timer = undefined;
        socket.off('error', onError);
        if (this.closing) {
          socket.destroy();
          reject(new TransportError('closed', 'transport is closed'));
          return;
        }
        resolve(this.adopt(socket, 'outbound', transport));
      });
    });
  }

  // ---- both ----

  private receive(bytes: Buffer, flow: Flow, datagram: boolean): void {
    intakeMessage(this.intake, bytes, flow, datagram);
  }

  private async resolve(host: string): Promise<string> {
    if (addressFamily(host) !== 0) return normalizeAddress(host);
    // RFC 6761 §6.4: `.invalid` never resolves (a WebSocket client's made-up host, RFC 7118): not even asked.
    if (isInvalidHost(host)) throw new TransportError('connect-failed', `${host} is not a reachable host`);
    try {
      const { address } = await lookup(host);
      return normalizeAddress(address);
    } catch (err) {
      throw new TransportError('connect-failed', `cannot resolve ${host}: ${(err as Error).message}`);
    }
  }
}

/** The connection still joins the ends the flow names (same transport, same remote address and port). */
function sameConnection(live: Flow, wanted: Flow): boolean {
  return live.protocol === wanted.protocol && live.remoteAddress === wanted.remoteAddress && live.remotePort === wanted.remotePort;
}
