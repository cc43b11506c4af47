import type { Clock, TimerHandle } from '../../lib/clock.js';
import { PistonError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { isFlow, type Flow, type Target } from '../transport/flow.js';
import { TransportError } from '../transport/transport-error.js';
import type { TransportLayer } from '../transport/transport.js';
import type { TransactionTimers } from './transaction-timers.js';

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

export interface NonInviteClientTransactionOptions {
  key: string;
  request: SipRequest;
  bytes: Buffer;
  destination: Destination;
  transport: TransportLayer;
  clock: Clock;
  logger: Logger;
  timers: TransactionTimers;
  onProvisional?: (res: SipResponse) => void;
  /** Told each time the request is sent again by Timer E. */
  onRetransmit(): void;
  onTerminated(tx: NonInviteClientTransaction): void;
}

/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2). On UDP, Timer E retransmits from T1, doubling up to T2 (and at
 * T2 once a provisional arrived); Timer F (64·T1) gives up with a timeout on any transport; Timer K (T4 on UDP, 0 on
 * TCP) absorbs retransmitted final responses after Completed.
 */
export class NonInviteClientTransaction {
  readonly key: string;
  readonly request: SipRequest;
  readonly result: Promise<ClientResult>;
  private currentState: ClientTransactionState = ClientTransactionState.Trying;
  private readonly opts: NonInviteClientTransactionOptions;
  private readonly reliable: boolean;
  private flow: Flow | undefined;
  private timerE: TimerHandle | undefined;
  private timerF: TimerHandle | undefined;
  private timerK: TimerHandle | undefined;
  private intervalE: number;
  private settle!: (r: ClientResult) => void;
  private settled = false;

  constructor(opts: NonInviteClientTransactionOptions) {
    this.opts = opts;
    this.key = opts.key;
    this.request = opts.request;
    this.reliable = protocolOf(opts.destination) !== 'udp';
    this.intervalE = opts.timers.t1;
    this.result = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  get state(): ClientTransactionState {
    return this.currentState;
  }

  /** Sends the request and starts Timers E (UDP only) and F. */
  start(): void {
    const { clock, timers } = this.opts;
    this.timerF = clock.setTimer(64 * timers.t1, () => this.onTimerF());
    if (!this.reliable) this.timerE = clock.setTimer(this.intervalE, () => this.onTimerE());
    // With a flow in hand, retransmissions can use it at once; a target's flow is known once sendTo resolves.
    const d = this.opts.destination;
    this.flow = isDestinationWithFallback(d) ? d.flow : isFlow(d) ? d : undefined;
    this.sendFirst().then(
      (flow) => {
        this.flow = flow;
      },
      (err: Error) => this.onTransportError(err),
    );
  }

  /** A response matched this transaction (RFC 3261 §17.1.3). */
  receiveResponse(res: SipResponse): void {
    const s = this.currentState;
    if (s !== ClientTransactionState.Trying && s !== ClientTransactionState.Proceeding) return; // Completed absorbs
    if (res.status < 200) {
      if (s === ClientTransactionState.Trying) this.transition(ClientTransactionState.Proceeding);
      try {
        this.opts.onProvisional?.(res);
      } catch (err) {
        this.opts.logger.error({ err: (err as Error).message }, 'provisional response callback threw');
      }
      return;
    }
    this.finish({ kind: 'response', response: res, flow: this.flow ?? fallbackFlow(this.opts.destination) });
    this.transition(ClientTransactionState.Completed);
  }

  /** Ends the transaction at once (used when the layer closes): a pending caller sees a transport error. */
  dispose(): void {
    this.finish({ kind: 'transport-error', error: new TransportError('closed', 'transaction layer closed') });
    if (this.currentState !== ClientTransactionState.Terminated) this.transition(ClientTransactionState.Terminated);
  }

  private transition(to: ClientTransactionState): void {
    const from = this.currentState;
    if (!ALLOWED[from].includes(to)) {
      throw new PistonError('transaction-state', `client transaction cannot go from ${from} to ${to}`);
    }
    this.currentState = to;
    switch (to) {
      case ClientTransactionState.Completed: {
        this.cancel('E');
        this.cancel('F');
        const k = this.reliable ? 0 : this.opts.timers.t4;
        if (k === 0) this.transition(ClientTransactionState.Terminated);
        else this.timerK = this.opts.clock.setTimer(k, () => this.transition(ClientTransactionState.Terminated));
        return;
      }
      case ClientTransactionState.Terminated:
        this.cancel('E');
        this.cancel('F');
        this.cancel('K');
        this.opts.onTerminated(this);
        return;
      default:
        return;
    }
  }

  private onTimerE(): void {
    this.timerE = undefined;
    const s = this.currentState;
    if (s !== ClientTransactionState.Trying && s !== ClientTransactionState.Proceeding) return;
    // RFC 3261 §17.1.2.2: in Trying the interval doubles up to T2; in Proceeding it is T2.
    this.intervalE = s === ClientTransactionState.Trying ? Math.min(2 * this.intervalE, this.opts.timers.t2) : this.opts.timers.t2;
    if (this.flow) {
      this.opts.onRetransmit();
      this.opts.transport.send(this.opts.bytes, this.flow).catch((err: Error) => this.onTransportError(err));
    }
    this.timerE = this.opts.clock.setTimer(this.intervalE, () => this.onTimerE());
  }

  private onTimerF(): void {
    this.timerF = undefined;
    const s = this.currentState;
    if (s !== ClientTransactionState.Trying && s !== ClientTransactionState.Proceeding) return;
    this.opts.logger.debug({ key: this.key, method: this.request.method }, 'Timer F fired: no final response');
    this.finish({ kind: 'timeout' });
    this.transition(ClientTransactionState.Terminated);
  }

  /** RFC 3261 §17.1.4: a transport failure ends the transaction and is reported to the transaction user. */
  private onTransportError(err: Error): void {
    const s = this.currentState;
    if (s !== ClientTransactionState.Trying && s !== ClientTransactionState.Proceeding) return;
    this.opts.logger.debug({ key: this.key, err: err.message }, 'request could not be sent');
    this.finish({ kind: 'transport-error', error: err });
    this.transition(ClientTransactionState.Terminated);
  }

  private async sendFirst(): Promise<Flow> {
    const { transport, bytes, destination } = this.opts;
    if (isDestinationWithFallback(destination)) {
      try {
        await transport.send(bytes, destination.flow);
        return destination.flow;
      } catch (err) {
        if (!(err instanceof TransportError && err.code === 'flow-closed')) throw err;
        // The dialog's connection is gone: open a new one to the remote target (RFC 3261 §18.1.1).
        return transport.sendTo(bytes, destination.fallback);
      }
    }
    if (isFlow(destination)) {
      await transport.send(bytes, destination);
      return destination;
    }
    return transport.sendTo(bytes, destination);
  }

  private finish(result: ClientResult): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(result);
  }

  private cancel(which: 'E' | 'F' | 'K'): void {
    const key = `timer${which}` as const;
    this[key]?.cancel();
    this[key] = undefined;
  }
}

function isDestinationWithFallback(d: Destination): d is { flow: Flow; fallback: Target } {
  return (d as { fallback?: Target }).fallback !== undefined;
}

/** The protocol a destination will use; a fallback must use the same one as its flow. */
export function protocolOf(d: Destination): 'udp' | 'tcp' {
  if (isDestinationWithFallback(d)) return d.flow.protocol;
  return d.protocol;
}

/** A flow-shaped description of the destination, for a response that beat the send's completion. */
function fallbackFlow(d: Destination): Flow {
  if (isDestinationWithFallback(d)) return d.flow;
  if (isFlow(d)) return d;
  return { protocol: d.protocol, localAddress: '', localPort: 0, remoteAddress: d.host, remotePort: d.port };
}
