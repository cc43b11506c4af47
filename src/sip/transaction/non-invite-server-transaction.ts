import { PistonError } from '../../lib/errors.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { serialize } from '../message/serialize.js';
import { formatHostPort, type Flow } from '../transport/flow.js';
import { transportOf } from '../transport/transport-descriptor.js';
import { TransportError } from '../transport/transport-error.js';
import type { ServerTransaction } from './server-transaction.js';
import type { TimerEntry, TimerTarget } from './timer-queue.js';
import type { TransactionContext } from './transaction-context.js';

/** RFC 3261 §17.2.2 / Figure 8. */
export const ServerTransactionState = {
  Trying: 'trying',
  Proceeding: 'proceeding',
  Completed: 'completed',
  Terminated: 'terminated',
} as const;
export type ServerTransactionState = (typeof ServerTransactionState)[keyof typeof ServerTransactionState];

const ALLOWED: Record<ServerTransactionState, readonly ServerTransactionState[]> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

const GUARD = 0;
const TIMER_J = 1;

const returnTrue = (): boolean => true;

/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2). Retransmitted requests are absorbed: in Trying silently, in
 * Proceeding and Completed by sending the last response again. Timer J (64·T1 on UDP, 0 on TCP) ends Completed.
 *
 * In Completed the transaction needs only its key, the final response's bytes and the flow to send them on
 * (§17.2.2), so it lets go of the request there: thousands of transactions sit in Timer J under load.
 *
 * Not from the RFC: a guard timer of 64·T1 ends a transaction whose handler never sent a final response, so a
 * forgotten request cannot hold memory forever; by then the client's Timer F has given up anyway.
 */
export class NonInviteServerTransaction implements ServerTransaction, TimerTarget {
  readonly key: string;
  private req: SipRequest | undefined;
  private currentFlow: Flow;
  private currentState: ServerTransactionState = ServerTransactionState.Trying;
  private lastResponse: Buffer | undefined;
  /** The guard timer until the final response, then Timer J. */
  private timer: TimerEntry | undefined;
  private readonly ctx: TransactionContext;
  private readonly reliable: boolean;

  constructor(ctx: TransactionContext, key: string, request: SipRequest, flow: Flow) {
    this.ctx = ctx;
    this.reliable = transportOf(flow.protocol).reliable;
    this.key = key;
    this.req = request;
    this.currentFlow = flow;
    this.timer = ctx.queues.schedule(64 * ctx.timers.t1, this, GUARD);
  }

  /** The request, until the final response is sent; after that only the response is kept (RFC 3261 §17.2.2). */
  get request(): SipRequest {
    if (this.req === undefined) {
      throw new PistonError('transaction-state', `the request of ${this.key} was released after the final response`);
    }
    return this.req;
  }

  get state(): ServerTransactionState {
    return this.currentState;
  }

  get flow(): Flow {
    return this.currentFlow;
  }

  respond(res: SipResponse): Promise<boolean> {
    if (this.currentState === ServerTransactionState.Terminated) {
      this.ctx.logger.debug({ status: res.status, key: this.key }, 'response after transaction end dropped');
      return Promise.resolve(false);
    }
    if (this.currentState === ServerTransactionState.Completed) {
      throw new PistonError('transaction-state', `a final response was already sent for ${this.key}`);
    }
    const bytes = serialize(res);
    if (res.status === 401 || res.status === 407) {
      // A challenge is answered as a stateless UAS would (RFC 3261 §8.2.7, §26.3.2.4): nothing kept for Timer J, so a
      // flood of unauthenticated requests holds no memory; a retransmitted request gets a fresh challenge.
      const sent = this.deliver(bytes);
      // deliver() may already have ended it (a send that failed at once).
      if (this.state !== ServerTransactionState.Terminated) this.transition(ServerTransactionState.Terminated);
      return sent;
    }
    this.lastResponse = bytes;
    const sent = this.deliver(bytes);
    if (res.status >= 200) this.transition(ServerTransactionState.Completed);
    else if (this.currentState === ServerTransactionState.Trying) this.transition(ServerTransactionState.Proceeding);
    return sent;
  }

  /** A retransmission of the request arrived (RFC 3261 §17.2.2). */
  receiveRetransmission(flow: Flow): void {
    switch (this.currentState) {
      case ServerTransactionState.Trying:
        this.ctx.stats.requestsAbsorbed++;
        return;
      case ServerTransactionState.Proceeding:
      case ServerTransactionState.Completed:
        // The retransmission shows the freshest path back to the client (its NAT binding may have moved).
        this.currentFlow = flow;
        if (this.lastResponse) {
          this.ctx.stats.responseRetransmissions++;
          void this.deliver(this.lastResponse);
        }
        return;
      case ServerTransactionState.Terminated:
        return;
    }
  }

  /** Ends the transaction at once, cancelling its timers (used when the layer closes). */
  dispose(): void {
    if (this.currentState !== ServerTransactionState.Terminated) this.transition(ServerTransactionState.Terminated);
  }

  /** @internal Called by the layer's timer queue: the guard timer or Timer J fell due. */
  onTimer(kind: number): void {
    this.timer = undefined;
    const s = this.currentState;
    if (kind === TIMER_J) {
      if (s === ServerTransactionState.Completed) this.transition(ServerTransactionState.Terminated);
      return;
    }
    if (s === ServerTransactionState.Trying || s === ServerTransactionState.Proceeding) {
      this.ctx.logger.debug({ method: this.req?.method, key: this.key }, 'no final response sent in 64*T1, transaction ended');
      this.transition(ServerTransactionState.Terminated);
    }
  }

  private transition(to: ServerTransactionState): void {
    const from = this.currentState;
    if (!ALLOWED[from].includes(to)) {
      throw new PistonError('transaction-state', `server transaction cannot go from ${from} to ${to}`);
    }
    this.currentState = to;
    switch (to) {
      case ServerTransactionState.Completed: {
        this.cancelTimer();
        this.req = undefined;
        // Timer J keeps the final response for retransmitted requests; a reliable transport has none (RFC 3261 §17.2.2).
        if (this.reliable) this.transition(ServerTransactionState.Terminated);
        else {
          this.lastResponse = ownCopy(this.lastResponse);
          this.timer = this.ctx.queues.schedule(64 * this.ctx.timers.t1, this, TIMER_J);
        }
        return;
      }
      case ServerTransactionState.Terminated:
        this.cancelTimer();
        this.req = undefined;
        this.lastResponse = undefined;
        this.ctx.serverEnded(this.key, this);
        return;
      default:
        return;
    }
  }

  private cancelTimer(): void {
    if (this.timer) {
      this.timer.queue.cancel(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * Hands bytes to the transport on the request's flow. A connection that is gone is replaced by a new one to the
   * Via `received` address (or sent-by host) and sent-by port (RFC 3261 §18.2.2), over a reliable transport we can
   * dial (TCP; not a WebSocket, whose peer only it can reach). A failure ends the transaction (§17.2.4).
   */
  private deliver(bytes: Buffer): Promise<boolean> {
    const flow = this.currentFlow;
    const transport = transportOf(flow.protocol);
    // Only the reconnect needs the request (for its Via); captured now because Completed releases it.
    const req = transport.reliable && transport.dialable ? this.req : undefined;
    let sending: Promise<void>;
    try {
      sending = this.ctx.transport.send(bytes, flow);
    } catch (err) {
      return Promise.resolve(this.sendFailed(err, bytes, flow, req));
    }
    return sending.then(returnTrue, (err: unknown) => this.sendFailed(err, bytes, flow, req));
  }

  private sendFailed(err: unknown, bytes: Buffer, flow: Flow, req: SipRequest | undefined): boolean | Promise<boolean> {
    // `req` is set only on a transport that can reconnect (deliver).
    if (req === undefined || !(err instanceof TransportError && err.code === 'flow-closed')) {
      return this.failed(err);
    }
    try {
      const via = req.topVia;
      const host = via.params.get('received') || via.host;
      const target = { protocol: flow.protocol, host, port: via.port ?? transportOf(flow.protocol).defaultPort };
      return this.ctx.transport.sendTo(bytes, target).then(
        (newFlow) => {
          this.currentFlow = newFlow;
          return true;
        },
        (retryErr: unknown) => this.failed(retryErr),
      );
    } catch (retryErr) {
      return this.failed(retryErr);
    }
  }

  private failed(err: unknown): false {
    this.ctx.logger.debug(
      { key: this.key, remote: formatHostPort(this.currentFlow.remoteAddress, this.currentFlow.remotePort), err: (err as Error).message },
      'response could not be sent, transaction ended',
    );
    if (this.currentState !== ServerTransactionState.Terminated) this.transition(ServerTransactionState.Terminated);
    return false;
  }
}

/**
 * Small Buffers are carved from Node's shared 8 KB pool, so a response kept for Timer J's 32 s would keep its whole
 * pool chunk alive with it (measured: ~150 MB for 64,000 completed transactions). A copy of its own frees the chunk.
 */
function ownCopy(bytes: Buffer | undefined): Buffer | undefined {
  if (!bytes || bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const own = Buffer.allocUnsafeSlow(bytes.byteLength);
  bytes.copy(own);
  return own;
}
