import type { SipMessage, SipRequest } from '../message/message.js';
import { serviceUnavailable, type Admission } from './admission.js';
import type { Flow, Target } from './flow.js';
import { transportOf, type TransportDescriptor, type TransportName } from './transport-descriptor.js';
import type { TlsCredentials } from './tls-credentials.js';
import { TransportError } from './transport-error.js';
import type { FlowClosedHandler, MessageHandler, TransportLayer } from './transport.js';

/**
 * The transports of one server as one TransportLayer for the transaction layer: a listener per transport, keyed by
 * its descriptor's name, where one object may serve several (SipTransport serves UDP and TCP on one port). A message
 * leaves through the listener of its flow's or target's transport; every listener's messages come up through one
 * handler, after the admission gate.
 */

/** A listener: what the transaction layer needs, plus binding for the ones with sockets. */
export interface TransportListener extends TransportLayer {
  /** Binds its sockets (absent for in-process transports). */
  start?(): Promise<void>;
  /** The port it listens on, once started. */
  readonly port?: number;
  /** For a listener serving transports on different ports (TLS beside UDP and TCP): the port of one of them. */
  portOf?(transport: TransportDescriptor): number | undefined;
  /** New TLS handshakes use these credentials; throws, changing nothing, when they are unusable. */
  reloadTls?(credentials: TlsCredentials): void;
  /** Open connections per transport name, for metrics. */
  connectionCounts?(): Record<string, number>;
  /** Connections refused (at accept, in a TLS handshake or a WebSocket upgrade) per transport name, for metrics. */
  refusedCounts?(): Record<string, number>;
}

/** Listeners by transport name (`udp`, `tcp`, `tls`, `ws`, `wss`). */
export type TransportListeners = Partial<Readonly<Record<TransportName, TransportListener>>>;

/** Where a request comes from, as the admission gate sees it: before any transaction exists for it. */
export interface RequestSource {
  readonly request: SipRequest;
  /** The flow it came on: the remote address and port, our socket, the connection. */
  readonly flow: Flow;
  /** What its transport is (reliable, secure, stream ...). */
  readonly transport: TransportDescriptor;
}

/**
 * True admits; false drops the request silently: no transaction, no response (a flood, a scanner); a refusal is
 * answered 503 + Retry-After without a transaction (admission.ts). Responses are not asked about.
 */
export type AdmitRequest = (source: RequestSource) => Admission;

export interface TransportSetOptions {
  /** The admission gate; default every request is admitted. */
  admit?: AdmitRequest | undefined;
}

export class TransportSet implements TransportLayer {
  private readonly byName: TransportListeners;
  /** Each listener once, however many transports it serves, in the order first named. */
  private readonly distinct: TransportListener[];
  private readonly admit: AdmitRequest | undefined;

  constructor(listeners: TransportListeners, opts: TransportSetOptions = {}) {
    this.byName = { ...listeners };
    this.distinct = [...new Set(Object.values(this.byName).filter((l): l is TransportListener => l !== undefined))];
    this.admit = opts.admit;
  }

  /** The transports served, as descriptors. */
  get transports(): readonly TransportDescriptor[] {
    return (Object.keys(this.byName) as TransportName[]).filter((n) => this.byName[n] !== undefined).map(transportOf);
  }

  /** The listener serving `transport`, if any. */
  listener(transport: TransportDescriptor): TransportListener | undefined {
    return this.byName[transport.name];
  }

  /** The port `transport` listens on, once started. */
  portOf(transport: TransportDescriptor): number | undefined {
    const l = this.byName[transport.name];
    if (l === undefined) return undefined;
    return l.portOf ? l.portOf(transport) : l.port;
  }

  onMessage(handler: MessageHandler): void {
    const admit = this.admit;
    const gated: MessageHandler =
      admit === undefined
        ? handler
        : (msg, flow) => {
            if (msg.isRequest()) {
              const verdict = admit({ request: msg, flow, transport: transportOf(flow.protocol) });
              if (verdict !== true) {
                if (verdict !== false) this.refuse(msg, flow, verdict);
                return;
              }
            }
            handler(msg, flow);
          };
    for (const l of this.distinct) l.onMessage(gated);
  }

  /** The gate's stateless 503 + Retry-After, back on the request's flow; a failure to send is the peer's loss. */
  private refuse(req: SipRequest, flow: Flow, refusal: Exclude<Admission, boolean>): void {
    const answer = serviceUnavailable(req, refusal);
    if (answer !== undefined) this.send(answer, flow).catch(() => {});
  }

  onFlowClosed(handler: FlowClosedHandler): void {
    for (const l of this.distinct) l.onFlowClosed?.(handler);
  }

  send(msg: SipMessage | Buffer, flow: Flow): Promise<void> {
    const listener = this.byName[flow.protocol];
    if (listener === undefined) return Promise.reject(missing(flow.protocol));
    return listener.send(msg, flow);
  }

  sendTo(msg: SipMessage | Buffer, target: Target): Promise<Flow> {
    const listener = this.byName[target.protocol];
    if (listener === undefined) return Promise.reject(missing(target.protocol));
    return listener.sendTo(msg, target);
  }

  /**
   * Gives every TLS-serving listener (SIP TLS, WSS) new credentials for new handshakes; established connections keep
   * theirs. The credentials are checked first, so unusable ones throw before any listener changed.
   */
  reloadTls(credentials: TlsCredentials): void {
    for (const l of this.distinct) l.reloadTls?.(credentials);
  }

  /** Open connections per transport name over every listener (stream transports only). */
  connectionCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const l of this.distinct) Object.assign(counts, l.connectionCounts?.() ?? {});
    return counts;
  }

  /** Refused connections per transport name over every listener. */
  refusedCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const l of this.distinct) Object.assign(counts, l.refusedCounts?.() ?? {});
    return counts;
  }

  /** Binds every listener that has sockets, one after another; the first failure rejects (the caller closes). */
  async start(): Promise<void> {
    for (const l of this.distinct) await l.start?.();
  }

  /** Closes every listener; rejects with the first failure after all were asked. */
  async close(): Promise<void> {
    const results = await Promise.allSettled(this.distinct.map((l) => l.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

function missing(name: TransportName): TransportError {
  return new TransportError('no-socket', `no ${name} transport is configured`);
}
