import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { TransportLayer } from '../transport/transport.js';
import type { TimerQueues } from './timer-queue.js';
import type { TransactionTimers } from './transaction-timers.js';

export interface TransactionStats {
  /** Requests sent again by Timer E. */
  requestRetransmissions: number;
  /** Responses sent again because their request was retransmitted. */
  responseRetransmissions: number;
  /** Retransmitted requests absorbed while no response existed yet. */
  requestsAbsorbed: number;
  /** Responses that matched no client transaction. */
  strayResponses: number;
  /** Client transactions ended by Timer F. */
  timeouts: number;
}

/**
 * What every transaction of one layer shares, made once per layer: transactions hold this one reference instead of
 * an options object with closures of their own, which under load would live (and be promoted) with each of them.
 */
export interface TransactionContext {
  readonly transport: TransportLayer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timers: TransactionTimers;
  readonly queues: TimerQueues;
  readonly stats: TransactionStats;
  /** A server transaction reached Terminated: the layer forgets it. */
  serverEnded(key: string, tx: unknown): void;
  /** A client transaction reached Terminated: the layer forgets it. */
  clientEnded(key: string, tx: unknown): void;
  /** A client transaction over UDP reached Completed: the layer keeps its key until Timer K and lets it go. */
  clientCompleted(key: string, tx: unknown): void;
}
