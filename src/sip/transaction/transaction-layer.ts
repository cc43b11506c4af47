/**
 * The transaction layer (RFC 3261 §17) for a presence server: non-INVITE server and client transactions on top of a
 * TransportLayer, with time only from the injected Clock.
 *
 *   const transactions = new TransactionLayer(transport, { clock, logger, sentBy: { host: 'pbx.example.com', port: 5060 } });
 *   transactions.onRequest((req, tx) => { void tx.respond(createResponse(req, 200)); });
 *   const result = await transactions.request(notify, { flow: subscribeFlow, fallback: contactTarget },
 *                                             { onProvisional: (res) => ... });
 *   // result: { kind: 'response', response, flow } | { kind: 'timeout' } | { kind: 'transport-error', error }
 *
 * - Incoming non-INVITE requests create a NonInviteServerTransaction (matched per §17.2.3); retransmissions never
 *   reach the handler: they are absorbed, or answered with the last response again.
 * - INVITE and ACK reach the handler with a StatelessResponder (the UA answers INVITE 405 statelessly).
 * - A request without a Via gets one (`SIP/2.0/<viaToken> <sentBy>;branch=z9hG4bK…;rport`, RFC 3261 §8.1.1.7,
 *   RFC 3581 §3); a request with a Via keeps it and must carry a branch.
 * - Responses are matched to client transactions on branch + sent-by + CSeq method (§17.1.3); strays are dropped.
 * - `stats` counts retransmissions sent (requests by Timer E, responses for retransmitted requests) for metrics.
 */
import type { Clock } from '../../lib/clock.js';
import { PistonError } from '../../lib/errors.js';
import { newBranch } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.js';
import { ParseError } from '../message/parse-error.js';
import { canRespond, createResponse } from '../message/response-factory.js';
import { serialize } from '../message/serialize.js';
import { viaBranch, viaSentBy } from '../message/via.js';
import { formatHostPort, type Flow } from '../transport/flow.js';
import type { TransportDescriptor } from '../transport/transport-descriptor.js';
import type { TransportLayer } from '../transport/transport.js';
import {
  NonInviteClientTransaction,
  transportOfDestination,
  type ClientResult,
  type Destination,
} from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { ServerTransaction } from './server-transaction.js';
import { CompletedKeys } from './completed-keys.js';
import { StatelessResponder } from './stateless-responder.js';
import { TimerQueues } from './timer-queue.js';
import type { TransactionContext, TransactionStats } from './transaction-context.js';
import { clientTransactionKey, responseTransactionKey, serverTransactionKey } from './transaction-key.js';
import { DEFAULT_TRANSACTION_TIMERS, type TransactionTimers } from './transaction-timers.js';

export type { TransactionStats } from './transaction-context.js';

export type RequestHandler = (req: SipRequest, tx: ServerTransaction) => void;

/** What `clients` holds for a UDP client transaction in Completed: its key is all Timer K needs (completed-keys.ts). */
const COMPLETED: unique symbol = Symbol('completed client transaction');

export interface TransactionLayerOptions {
  clock: Clock;
  logger: Logger;
  timers?: Partial<TransactionTimers>;
  /** Our sent-by for the Via of requests we originate (RFC 3261 §18.1.1). */
  sentBy?: { host: string; port: number };
}

export interface RequestOptions {
  /** Called with each 1xx response. */
  onProvisional?: (res: SipResponse) => void;
}

export class TransactionLayer {
  readonly stats: TransactionStats = {
    requestRetransmissions: 0,
    responseRetransmissions: 0,
    requestsAbsorbed: 0,
    strayResponses: 0,
    timeouts: 0,
  };

  private readonly transport: TransportLayer;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly timers: TransactionTimers;
  private readonly sentBy: { host: string; port: number } | undefined;
  /** Shared by every transaction of this layer, so none needs an options object or closures of its own. */
  private readonly ctx: TransactionContext;
  private readonly servers = new Map<string, NonInviteServerTransaction>();
  private readonly clients = new Map<string, NonInviteClientTransaction | typeof COMPLETED>();
  private readonly completed: CompletedKeys;
  private handler: RequestHandler | undefined;

  constructor(transport: TransportLayer, opts: TransactionLayerOptions) {
    this.transport = transport;
    this.clock = opts.clock;
    this.logger = opts.logger.child({ module: 'sip-transaction' });
    this.timers = { ...DEFAULT_TRANSACTION_TIMERS, ...opts.timers };
    this.sentBy = opts.sentBy;
    const servers = this.servers;
    const clients = this.clients;
    const completed = new CompletedKeys(this.timers.t4, this.clock, (key) => {
      if (clients.get(key) === COMPLETED) clients.delete(key);
    });
    this.completed = completed;
    this.ctx = {
      transport,
      clock: this.clock,
      logger: this.logger,
      timers: this.timers,
      queues: new TimerQueues(this.clock, this.logger),
      stats: this.stats,
      serverEnded(key, tx) {
        if (servers.get(key) === tx) servers.delete(key);
      },
      clientEnded(key, tx) {
        if (clients.get(key) === tx) clients.delete(key);
      },
      clientCompleted(key, tx) {
        if (clients.get(key) !== tx) return;
        clients.set(key, COMPLETED);
        completed.add(key);
      },
    };
    transport.onMessage((msg, flow) => this.onMessage(msg, flow));
  }

  /** Retransmissions sent, requests and responses together (for metrics and benchmarks). */
  get retransmissionsSent(): number {
    return this.stats.requestRetransmissions + this.stats.responseRetransmissions;
  }

  get serverTransactionCount(): number {
    return this.servers.size;
  }

  get clientTransactionCount(): number {
    return this.clients.size;
  }

  onRequest(handler: RequestHandler): void {
    this.handler = handler;
  }

  /**
   * Starts a non-INVITE client transaction. Throws PistonError synchronously for a request that cannot form one
   * (no Via and no `sentBy`, a Via without branch, a transaction with that key already running).
   */
  request(req: SipRequest, destination: Destination, opts?: RequestOptions): Promise<ClientResult> {
    if (req.method === 'INVITE' || req.method === 'ACK') {
      throw new PistonError('unsupported-method', `${req.method} client transactions are not supported`);
    }
    this.ensureVia(req, transportOfDestination(destination));
    const via = req.topVia;
    const branch = viaBranch(via);
    if (!branch) throw new PistonError('no-branch', 'the top Via of a request we send must carry a branch');
    const key = clientTransactionKey(branch, viaSentBy(via), req.method);
    if (this.clients.has(key)) throw new PistonError('duplicate-transaction', `a client transaction ${key} is running`);
    let settle!: (r: ClientResult) => void;
    const result = new Promise<ClientResult>((resolve) => {
      settle = resolve;
    });
    const tx = new NonInviteClientTransaction(this.ctx, key, req, serialize(req), destination, settle, opts?.onProvisional);
    this.clients.set(key, tx);
    tx.start();
    return result;
  }

  /** Ends every transaction and cancels its timers; pending requests resolve as transport errors. */
  close(): void {
    for (const tx of [...this.servers.values()]) tx.dispose();
    for (const tx of [...this.clients.values()]) if (tx !== COMPLETED) tx.dispose();
    this.completed.clear();
    this.clients.clear();
  }

  private onMessage(msg: SipMessage, flow: Flow): void {
    if (msg.isRequest()) this.onIncomingRequest(msg, flow);
    else this.onIncomingResponse(msg as SipResponse, flow);
  }

  private onIncomingRequest(req: SipRequest, flow: Flow): void {
    if (req.method === 'INVITE' || req.method === 'ACK') {
      this.dispatch(req, new StatelessResponder(req, flow, this.transport, this.logger));
      return;
    }
    let key: string;
    try {
      key = serverTransactionKey(req);
    } catch (err) {
      this.rejectUnmatchable(req, flow, err);
      return;
    }
    const existing = this.servers.get(key);
    if (existing) {
      existing.receiveRetransmission(flow);
      return;
    }
    const tx = new NonInviteServerTransaction(this.ctx, key, req, flow);
    this.servers.set(key, tx);
    this.dispatch(req, tx);
  }

  private dispatch(req: SipRequest, tx: ServerTransaction): void {
    if (!this.handler) {
      this.logger.warn({ method: req.method }, 'no request handler registered');
      return;
    }
    try {
      this.handler(req, tx);
    } catch (err) {
      this.logger.error({ err: (err as Error).message, stack: (err as Error).stack, method: req.method }, 'request handler threw');
    }
  }

  /** A request whose Via, CSeq, From, To or Call-ID does not parse: 400 when a response can be built, else dropped. */
  private rejectUnmatchable(req: SipRequest, flow: Flow, err: unknown): void {
    if (!(err instanceof ParseError)) throw err;
    if (!canRespond(req)) {
      this.logger.debug({ remote: formatHostPort(flow.remoteAddress, flow.remotePort), reason: err.message }, 'unmatchable request dropped');
      return;
    }
    this.logger.debug({ remote: formatHostPort(flow.remoteAddress, flow.remotePort), reason: err.message }, 'unmatchable request answered 400');
    this.transport.send(createResponse(req, err.status || 400), flow).catch(() => {});
  }

  private onIncomingResponse(res: SipResponse, flow: Flow): void {
    let key: string | undefined;
    try {
      key = responseTransactionKey(res);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      key = undefined;
    }
    const tx = key === undefined ? undefined : this.clients.get(key);
    // RFC 3261 §17.1.2.2: in Completed a retransmitted final response is absorbed.
    if (tx === COMPLETED) return;
    if (!tx) {
      // RFC 3261 §17.1.3 / §18.1.2: a response that matches no transaction is discarded.
      this.stats.strayResponses++;
      this.logger.debug({ status: res.status, key, remote: formatHostPort(flow.remoteAddress, flow.remotePort) }, 'stray response dropped');
      return;
    }
    tx.receiveResponse(res);
  }

  /** Adds our Via when the request has none (RFC 3261 §8.1.1.7: a fresh branch with the magic cookie). */
  private ensureVia(req: SipRequest, transport: TransportDescriptor): void {
    if (req.headers.has('via')) return;
    if (!this.sentBy) throw new PistonError('no-via', 'request has no Via and no sentBy is configured');
    const sentBy = formatHostPort(this.sentBy.host, this.sentBy.port);
    req.headers.prepend('Via', `SIP/2.0/${transport.viaToken} ${sentBy};branch=${newBranch()};rport`);
  }
}
