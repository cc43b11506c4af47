/**
 * RFC 3261 §17.1.2.2 / Table 4 timer bases. T1 is the round-trip estimate, T2 the cap on non-INVITE
 * retransmission intervals, T4 how long a message may linger in the network.
 */
export interface TransactionTimers {
  t1: number;
  t2: number;
  t4: number;
}

export const DEFAULT_TRANSACTION_TIMERS: Readonly<TransactionTimers> = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });
