import { PistonError } from '../../lib/errors.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { isFlow, type Flow, type Target } from '../transport/flow.js';
import { transportOf, type TransportDescriptor } from '../transport/transport-descriptor.js';
import { TransportError } from '../transport/transport-error.js';
import type { TimerEntry, TimerTarget } from './timer-queue.js';
import type { TransactionContext } from './transaction-context.js';

/** RFC 3261 §17.1.2.2 / Figure 6. */
export const ClientTransactionState = {
  Trying: 'trying',
  Proceeding: 'proceeding',
  Completed: 'completed',
  Terminated: 'terminated',
} as const;
export type ClientTransactionState = (typeof ClientTransactionState)[keyof typeof ClientTransactionState];

const ALLOWED: Record<ClientTransactionState, readonly ClientTransactionState[]> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

/**
 * Where a request goes: an existing flow (e.g. the one a dialog's SUBSCRIBE came on), a target to open a flow to,
 * or a flow with a target to fall back on when the flow's TCP connection is gone (RFC 3261 §18.1.1, RFC 5626).
 */
export type Destination = Flow | Target | { flow: Flow; fallback: Target };

/** How a client transaction ended, as the transaction user sees it (RFC 3261 §17.1.2.2, §17.1.4). */
export type ClientResult =
  | { kind: 'response'; response: SipResponse; flow: Flow }
  | { kind: 'timeout' }
  | { kind: 'transport-error'; error: Error };

const TIMER_E = 0;
const TIMER_F = 1;

/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2). On UDP, Timer E retransmits from T1, doubling up to T2 (and at
 * T2 once a provisional arrived); Timer F (64·T1) gives up with a timeout on any transport; Timer K (T4 on UDP, 0 on
 * TCP) absorbs retransmitted final responses after Completed.
 *
 * In Completed only the key is needed to absorb retransmitted responses (§17.1.2.2): on UDP the transaction hands
 * its key to the layer (`clientCompleted`), which keeps it until Timer K (completed-keys.ts), and the object itself
 * is let go; on TCP Timer K is zero and it terminates at once.
 */
export class NonInviteClientTransaction implements TimerTarget {
  readonly key: string;
  private currentState: ClientTransactionState = ClientTransactionState.Trying;
  private readonly ctx: TransactionContext;
  private readonly reliable: boolean;
  private req: SipRequest | undefined;
  private bytes: Buffer | undefined;
  private destination: Destination | undefined;
  private onProvisional: ((res: SipResponse) => void) | undefined;
  private settle: ((r: ClientResult) => void) | undefined;
  private flow: Flow | undefined;
  private timerE: TimerEntry | undefined;
  private timerF: TimerEntry | undefined;
  private intervalE: number;

  /** `settle` is told the outcome once (RFC 3261 §17.1.4: timeouts and transport errors go to the transaction user). */
  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    bytes: Buffer,
    destination: Destination,
    settle: (r: ClientResult) => void,
    onProvisional?: (res: SipResponse) => void,
  ) {
    this.ctx = ctx;
    this.key = key;
    this.req = request;
    this.bytes = bytes;
    this.destination = destination;
    this.settle = settle;
    this.onProvisional = onProvisional;
    this.reliable = transportOfDestination(destination).reliable;
    this.intervalE = ctx.timers.t1;
  }

  /** The request, until a final response, timeout or transport error ends the Trying/Proceeding states. */
  get request(): SipRequest {
    if (this.req === undefined) {
      throw new PistonError('transaction-state', `the request of ${this.key} was released when the transaction completed`);
    }
    return this.req;
  }

  get state(): ClientTransactionState {
    return this.currentState;
  }

  /** Sends the request and starts Timers E (UDP only) and F. */
  start(): void {
    const { queues, timers } = this.ctx;
    this.timerF = queues.schedule(64 * timers.t1, this, TIMER_F);
    if (!this.reliable) this.timerE = queues.schedule(this.intervalE, this, TIMER_E);
    // With a flow in hand, retransmissions can use it at once; a target's flow is known once sendTo resolves.
    const d = this.destination!;
    const bytes = this.bytes!;
    const { transport } = this.ctx;
    try {
      if (isDestinationWithFallback(d)) {
        this.flow = d.flow;
        transport.send(bytes, d.flow).then(undefined, (err: unknown) => this.onFlowSendFailed(err, bytes, d.fallback));
      } else if (isFlow(d)) {
        this.flow = d;
        transport.send(bytes, d).then(undefined, (err: Error) => this.onTransportError(err));
      } else {
        transport.sendTo(bytes, d).then(
          (flow) => {
            if (this.settle !== undefined) this.flow = flow;
          },
          (err: Error) => this.onTransportError(err),
        );
      }
    } catch (err) {
      // A transport that throws instead of rejecting is reported the same way, after start() returns.
      queueMicrotask(() => this.onTransportError(err as Error));
    }
  }

  /** A response matched this transaction (RFC 3261 §17.1.3). */
  receiveResponse(res: SipResponse): void {
    const s = this.currentState;
    if (s !== ClientTransactionState.Trying && s !== ClientTransactionState.Proceeding) return; // Completed absorbs
    if (res.status < 200) {
      if (s === ClientTransactionState.Trying) this.transition(ClientTransactionState.Proceeding);
      try {
        this.onProvisional?.(res);
      } catch (err) {
        this.ctx.logger.error({ err: (err as Error).message }, 'provisional response callback threw');
      }
      return;
    }
    this.finish({ kind: 'response', response: res, flow: this.flow ?? fallbackFlow(this.destination!) });
    this.transition(ClientTransactionState.Completed);
  }

  /** Ends the transaction at once (used when the layer closes): a pending caller sees a transport error. */
  dispose(): void {
    this.finish({ kind: 'transport-error', error: new TransportError('closed', 'transaction layer closed') });
    if (this.currentState !== ClientTransactionState.Terminated) this.transition(ClientTransactionState.Terminated);
  }

  /** @internal Called by the layer's timer queues when Timer E or F falls due. */
  onTimer(kind: number): void {
    if (kind === TIMER_E) this.onTimerE();
    else if (kind === TIMER_F) this.onTimerF();
  }

  private transition(to: ClientTransactionState): void {
    const from = this.currentState;
    if (!ALLOWED[from].includes(to)) {
      throw new PistonError('transaction-state', `client transaction cannot go from ${from} to ${to}`);
    }
    this.currentState = to;
    switch (to) {
      case ClientTransactionState.Completed:
        this.cancelTimers();
        this.release();
        // Timer K: zero on a reliable transport; on UDP the layer keeps the key for T4 and this object goes.
        if (this.reliable) this.transition(ClientTransactionState.Terminated);
        else this.ctx.clientCompleted(this.key, this);
        return;
      case ClientTransactionState.Terminated:
        this.cancelTimers();
        this.release();
        this.ctx.clientEnded(this.key, this);
        return;
      default:
        return;
    }
  }

  /** Completed and Terminated need none of what sending took (RFC 3261 §17.1.2.2). */
  private release(): void {
    this.req = undefined;
    this.bytes = undefined;
    this.destination = undefined;
    this.onProvisional = undefined;
    this.flow = undefined;
  }

  private onTimerE(): void {
    this.timerE = undefined;
    const s = this.currentState;
    if (s !== ClientTransactionState.Trying && s !== ClientTransactionState.Proceeding) return;
    const { timers, transport, queues } = this.ctx;
    // RFC 3261 §17.1.2.2: in Trying the interval doubles up to T2; in Proceeding it is T2.
    this.intervalE = s === ClientTransactionState.Trying ? Math.min(2 * this.intervalE, timers.t2) : timers.t2;
    if (this.flow) {
      this.ctx.stats.requestRetransmissions++;
      transport.send(this.bytes!, this.flow).catch((err: Error) => this.onTransportError(err));
    }
    this.timerE = queues.schedule(this.intervalE, this, TIMER_E);
  }

  private onTimerF(): void {
    this.timerF = undefined;
    const s = this.currentState;
    if (s !== ClientTransactionState.Trying && s !== ClientTransactionState.Proceeding) return;
    this.ctx.logger.debug({ key: this.key, method: this.req?.method }, 'Timer F fired: no final response');
    this.ctx.stats.timeouts++;
    this.finish({ kind: 'timeout' });
    this.transition(ClientTransactionState.Terminated);
  }

  /** The dialog's connection is gone: open a new one to the remote target (RFC 3261 §18.1.1). */
  private onFlowSendFailed(err: unknown, bytes: Buffer, fallback: Target): void {
    if (!(err instanceof TransportError && err.code === 'flow-closed')) {
      this.onTransportError(err as Error);
      return;
    }
    const s = this.currentState;
    if (s !== ClientTransactionState.Trying && s !== ClientTransactionState.Proceeding) return;
    try {
      this.ctx.transport.sendTo(bytes, fallback).then(
        (flow) => {
          if (this.settle !== undefined) this.flow = flow;
        },
        (e: Error) => this.onTransportError(e),
      );
    } catch (e) {
      this.onTransportError(e as Error);
    }
  }

  /** RFC 3261 §17.1.4: a transport failure ends the transaction and is reported to the transaction user. */
  private onTransportError(err: Error): void {
    const s = this.currentState;
    if (s !== ClientTransactionState.Trying && s !== ClientTransactionState.Proceeding) return;
    this.ctx.logger.debug({ key: this.key, err: err.message }, 'request could not be sent');
    this.finish({ kind: 'transport-error', error: err });
    this.transition(ClientTransactionState.Terminated);
  }

  private finish(result: ClientResult): void {
    const settle = this.settle;
    if (settle === undefined) return;
    this.settle = undefined;
    settle(result);
  }

  private cancelTimers(): void {
    if (this.timerE) this.timerE.queue.cancel(this.timerE);
    if (this.timerF) this.timerF.queue.cancel(this.timerF);
    this.timerE = undefined;
    this.timerF = undefined;
  }
}

function isDestinationWithFallback(d: Destination): d is { flow: Flow; fallback: Target } {
  return (d as { fallback?: Target }).fallback !== undefined;
}

/** The transport a destination will use; a fallback must use the same one as its flow. */
export function transportOfDestination(d: Destination): TransportDescriptor {
  return transportOf(isDestinationWithFallback(d) ? d.flow.protocol : d.protocol);
}

/** A flow-shaped description of the destination, for a response that beat the send's completion. */
function fallbackFlow(d: Destination): Flow {
  if (isDestinationWithFallback(d)) return d.flow;
  if (isFlow(d)) return d;
  return { protocol: d.protocol, localAddress: '', localPort: 0, remoteAddress: d.host, remotePort: d.port };
}
