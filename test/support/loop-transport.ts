/**
 * An in-memory network for tests (the pjsip idea): endpoints that implement TransportLayer, carry serialised bytes
 * to each other through a ManualClock, and can drop, delay or fail sends, so retransmission paths are tested exactly.
 *
 *   const clock = new ManualClock(0);
 *   const net = new LoopNetwork(clock);
 *   const server = net.endpoint('10.0.0.1', 5060);
 *   const phone = net.endpoint('192.168.1.20', 5062);
 *   phone.onMessage((msg, flow) => ...);
 *   phone.send(bytes, phone.flowTo(server, 'udp'));
 *   clock.advance(0);             // deliveries happen on the clock, never synchronously
 *
 * Receivers parse the bytes with the real parser and stamp Via received/rport like SipTransport does.
 */
import type { ManualClock } from '../../src/lib/clock.js';
import type { SipMessage } from '../../src/sip/message/message.js';
import { serialize } from '../../src/sip/message/serialize.js';
import { parseMessage } from '../../src/sip/parser/parse-message.js';
import type { Flow, Target } from '../../src/sip/transport/flow.js';
import type { TransportName } from '../../src/sip/transport/transport-descriptor.js';
import { TransportError } from '../../src/sip/transport/transport-error.js';
import type { FlowClosedHandler, MessageHandler, TransportLayer } from '../../src/sip/transport/transport.js';
import { stampVia } from '../../src/sip/transport/via-stamp.js';

export type Fault = 'deliver' | 'drop' | 'fail';

export interface LoopSend {
  /** Clock time of the send. */
  at: number;
  bytes: Buffer;
  flow: Flow;
  fault: Fault;
}

export interface LoopReceive {
  at: number;
  msg: SipMessage;
  flow: Flow;
}

export class LoopNetwork {
  private readonly endpoints = new Map<string, LoopTransport>();
  private nextConnectionId = 1;

  constructor(readonly clock: ManualClock) {}

  endpoint(address: string, port: number): LoopTransport {
    const ep = new LoopTransport(this, address, port);
    this.endpoints.set(`${address}|${port}`, ep);
    return ep;
  }

  /** @internal */
  find(address: string, port: number): LoopTransport | undefined {
    return this.endpoints.get(`${address}|${port}`);
  }

  /** @internal */
  newConnectionId(): number {
    return this.nextConnectionId++;
  }
}

export class LoopTransport implements TransportLayer {
  /** Everything this endpoint was asked to send, in order, with what happened to it. */
  readonly sent: LoopSend[] = [];
  /** Everything delivered to this endpoint. */
  readonly received: LoopReceive[] = [];
  /** Delay added to every delivery from this endpoint. */
  delayMs = 0;
  /** Decides the fate of each send; the default delivers everything. Overridden by dropNext/failNext. */
  fault: (bytes: Buffer, flow: Flow) => Fault = () => 'deliver';
  /** TCP connections that are gone: sends on them reject with `flow-closed`. */
  readonly closedConnections = new Set<number>();

  private handler: MessageHandler | undefined;
  private flowClosedHandler: FlowClosedHandler | undefined;
  private queued: Fault[] = [];
  private closed = false;

  constructor(
    private readonly network: LoopNetwork,
    readonly address: string,
    readonly port: number,
  ) {}

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onFlowClosed(handler: FlowClosedHandler): void {
    this.flowClosedHandler = handler;
  }

  /** The next `n` sends are lost on the way. */
  dropNext(n = 1): void {
    for (let i = 0; i < n; i++) this.queued.push('drop');
  }

  /** The next `n` sends reject with a transport error. */
  failNext(n = 1): void {
    for (let i = 0; i < n; i++) this.queued.push('fail');
  }

  /** A flow from this endpoint to another (a new TCP connection id for 'tcp'). */
  flowTo(peer: LoopTransport, protocol: TransportName): Flow {
    return {
      protocol,
      localAddress: this.address,
      localPort: this.port,
      remoteAddress: peer.address,
      remotePort: peer.port,
      ...(protocol === 'tcp' ? { connectionId: this.network.newConnectionId() } : {}),
    };
  }

  /** Marks a TCP connection as gone and tells the flow-closed handler. */
  closeConnection(flow: Flow): void {
    if (flow.connectionId === undefined) return;
    this.closedConnections.add(flow.connectionId);
    this.flowClosedHandler?.(flow);
  }

  send(msg: SipMessage | Buffer, flow: Flow): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('closed', 'loop transport closed'));
    const bytes = Buffer.isBuffer(msg) ? msg : serialize(msg);
    // A TCP flow without a connection names none to write on (SipTransport: flow-closed), as a restored one does.
    if (flow.connectionId !== undefined ? this.closedConnections.has(flow.connectionId) : flow.protocol === 'tcp') {
      this.sent.push({ at: this.network.clock.now(), bytes, flow, fault: 'fail' });
      return Promise.reject(new TransportError('flow-closed', `loop connection ${flow.connectionId} is closed`));
    }
    const fault = this.queued.shift() ?? this.fault(bytes, flow);
    this.sent.push({ at: this.network.clock.now(), bytes, flow, fault });
    if (fault === 'fail') return Promise.reject(new TransportError('send-failed', 'loop send failed (injected)'));
    if (fault === 'deliver') {
      this.network.clock.setTimer(this.delayMs, () => this.network.find(flow.remoteAddress, flow.remotePort)?.deliver(bytes, flow));
    }
    return Promise.resolve();
  }

  async sendTo(msg: SipMessage | Buffer, target: Target): Promise<Flow> {
    const flow: Flow = {
      protocol: target.protocol,
      localAddress: this.address,
      localPort: this.port,
      remoteAddress: target.host,
      remotePort: target.port,
      ...(target.protocol === 'tcp' ? { connectionId: this.network.newConnectionId() } : {}),
    };
    await this.send(msg, flow);
    return flow;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Delivers bytes as if they had arrived on `from`'s flow (seen from the sender's side). */
  deliver(bytes: Buffer, senderFlow: Flow): void {
    if (this.closed) return;
    const flow: Flow = {
      protocol: senderFlow.protocol,
      localAddress: this.address,
      localPort: this.port,
      remoteAddress: senderFlow.localAddress,
      remotePort: senderFlow.localPort,
      ...(senderFlow.connectionId !== undefined ? { connectionId: senderFlow.connectionId } : {}),
    };
    const msg = parseMessage(bytes, { datagram: flow.protocol === 'udp' });
    if (msg.isRequest()) stampVia(msg, flow.remoteAddress, flow.remotePort);
    this.received.push({ at: this.network.clock.now(), msg, flow });
    this.handler?.(msg, flow);
  }
}
