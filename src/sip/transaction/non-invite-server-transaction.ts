import type { Clock, TimerHandle } from '../../lib/clock.js';
import { PistonError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { serialize } from '../message/serialize.js';
import { formatHostPort, type Flow } from '../transport/flow.js';
import { TransportError } from '../transport/transport-error.js';
import type { TransportLayer } from '../transport/transport.js';
import type { ServerTransaction } from './server-transaction.js';
import type { TransactionTimers } from './transaction-timers.js';

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

export interface NonInviteServerTransactionOptions {
  key: string;
  request: SipRequest;
  flow: Flow;
  transport: TransportLayer;
  clock: Clock;
  logger: Logger;
  timers: TransactionTimers;
  /** Told each time a response is sent again for a retransmitted request. */
  onResponseRetransmitted(): void;
  /** Told each time a retransmitted request is absorbed without a response to repeat. */
  onRequestAbsorbed(): void;
  onTerminated(tx: NonInviteServerTransaction): void;
}

/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2). Retransmitted requests are absorbed: in Trying silently, in
 * Proceeding and Completed by sending the last response again. Timer J (64·T1 on UDP, 0 on TCP) ends Completed.
 *
 * Not from the RFC: a guard timer of 64·T1 ends a transaction whose handler never sent a final response, so a
 * forgotten request cannot hold memory forever; by then the client's Timer F has given up anyway.
 */
export class NonInviteServerTransaction implements ServerTransaction {
  readonly key: string;
  readonly request: SipRequest;
  private currentFlow: Flow;
  private currentState: ServerTransactionState = ServerTransactionState.Trying;
  private lastResponse: Buffer | undefined;
  private timerJ: TimerHandle | undefined;
  private guard: TimerHandle | undefined;
  private readonly opts: NonInviteServerTransactionOptions;
  private readonly reliable: boolean;

  constructor(opts: NonInviteServerTransactionOptions) {
    this.opts = opts;
    this.key = opts.key;
    this.request = opts.request;
    this.currentFlow = opts.flow;
    this.reliable = opts.flow.protocol !== 'udp';
    this.guard = opts.clock.setTimer(64 * opts.timers.t1, () => {
      this.guard = undefined;
      if (this.currentState === ServerTransactionState.Trying || this.currentState === ServerTransactionState.Proceeding) {
        opts.logger.debug({ method: this.request.method, key: this.key }, 'no final response sent in 64*T1, transaction ended');
        this.transition(ServerTransactionState.Terminated);
      }
    });
  }

  get state(): ServerTransactionState {
    return this.currentState;
  }

  get flow(): Flow {
    return this.currentFlow;
  }

  respond(res: SipResponse): Promise<boolean> {
    if (this.currentState === ServerTransactionState.Terminated) {
      this.opts.logger.debug({ status: res.status, key: this.key }, 'response after transaction end dropped');
      return Promise.resolve(false);
    }
    if (this.currentState === ServerTransactionState.Completed) {
      throw new PistonError('transaction-state', `a final response was already sent for ${this.request.method}`);
    }
    const bytes = serialize(res);
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
        this.opts.onRequestAbsorbed();
        return;
      case ServerTransactionState.Proceeding:
      case ServerTransactionState.Completed:
        // The retransmission shows the freshest path back to the client (its NAT binding may have moved).
        this.currentFlow = flow;
        if (this.lastResponse) {
          this.opts.onResponseRetransmitted();
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

  private transition(to: ServerTransactionState): void {
    const from = this.currentState;
    if (!ALLOWED[from].includes(to)) {
      throw new PistonError('transaction-state', `server transaction cannot go from ${from} to ${to}`);
    }
    this.currentState = to;
    switch (to) {
      case ServerTransactionState.Completed: {
        this.guard?.cancel();
        this.guard = undefined;
        // Timer J keeps the final response for retransmitted requests; a reliable transport has none (RFC 3261 §17.2.2).
        const j = this.reliable ? 0 : 64 * this.opts.timers.t1;
        if (j === 0) this.transition(ServerTransactionState.Terminated);
        else this.timerJ = this.opts.clock.setTimer(j, () => this.transition(ServerTransactionState.Terminated));
        return;
      }
      case ServerTransactionState.Terminated:
        this.guard?.cancel();
        this.timerJ?.cancel();
        this.guard = undefined;
        this.timerJ = undefined;
        this.opts.onTerminated(this);
        return;
      default:
        return;
    }
  }

  /**
   * Hands bytes to the transport on the request's flow. A TCP connection that is gone is replaced by a new one to the
   * Via `received` address (or sent-by host) and sent-by port (RFC 3261 §18.2.2). A failure ends the transaction (§17.2.4).
   */
  private async deliver(bytes: Buffer): Promise<boolean> {
    const flow = this.currentFlow;
    try {
      await this.opts.transport.send(bytes, flow);
      return true;
    } catch (err) {
      if (flow.protocol === 'tcp' && err instanceof TransportError && err.code === 'flow-closed') {
        try {
          const via = this.request.topVia;
          const host = via.params.get('received') || via.host;
          const target = { protocol: 'tcp' as const, host, port: via.port ?? 5060 };
          this.currentFlow = await this.opts.transport.sendTo(bytes, target);
          return true;
        } catch (retryErr) {
          return this.failed(retryErr);
        }
      }
      return this.failed(err);
    }
  }

  private failed(err: unknown): false {
    this.opts.logger.debug(
      { key: this.key, remote: formatHostPort(this.currentFlow.remoteAddress, this.currentFlow.remotePort), err: (err as Error).message },
      'response could not be sent, transaction ended',
    );
    if (this.currentState !== ServerTransactionState.Terminated) this.transition(ServerTransactionState.Terminated);
    return false;
  }
}
