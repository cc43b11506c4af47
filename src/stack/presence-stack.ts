import type { AccountResolver } from '../accounts/account-resolver.js';
import { createStoreAccountResolver } from '../accounts/store-account-resolver.js';
import { createDefaultRegistry, type DefaultRegistryOptions } from '../events/default-registry.js';
import type { EventPackageRegistry } from '../events/event-package.js';
import { createPresenceFeed, type PresenceFeed } from '../feed/presence-feed.js';
import { SystemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { PresentityService } from '../presentity/presentity-service.js';
import type { SipRequest } from '../sip/message/message.js';
import { TransactionLayer } from '../sip/transaction/transaction-layer.js';
import type { TransactionTimers } from '../sip/transaction/transaction-timers.js';
import type { Flow } from '../sip/transport/flow.js';
import { transportOf, type TransportDescriptor } from '../sip/transport/transport-descriptor.js';
import { TransportError } from '../sip/transport/transport-error.js';
import { TransportSet, type TransportListeners } from '../sip/transport/transport-set.js';
import { serviceUnavailable } from '../sip/transport/admission.js';
import { UserAgentCore, type IncomingRequest, type ResponseSink } from '../sip/ua/user-agent-core.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { StoreBackend } from '../store/ports.js';
import { Notifier, type NotifyChannel } from '../subscriptions/notifier.js';
import { OPEN_POLICY, type PresencePolicy } from './presence-policy.js';

/**
 * The one place the SIP side of the server is built: transports, transaction layer, user-agent core, event packages,
 * presentity (PUBLISH), notifier (SUBSCRIBE/NOTIFY) and the account resolver, around three ports:
 *
 *   transports  listeners by transport name, each a TransportLayer (SipTransport's sockets for udp and tcp in
 *               main.ts, the tests' loop network), or none and a `channel`: an in-process stand-in for the network
 *               (the start-up rehearsal), where requests enter through `receive` and NOTIFYs leave through it
 *   policy      admission, authentication and authorization hooks (presence-policy.ts); default: allow everything
 *   feed        the hub of resource changes and subscription events, created here unless given, for observers
 *
 * plus the presence store, clock and logger. Everything has an in-process default (a memory store, the system clock,
 * a silent logger, a store-backed account resolver, the default event packages, no network), so a test or a
 * benchmark names only what it cares about. main.ts, the rehearsal, the test harnesses and the benchmarks build
 * through here and nowhere else.
 */
export interface PresenceStackOptions {
  /** Presence state. Default: a fresh memory store, which the stack closes when it stops. */
  store?: StoreBackend;
  clock?: Clock;
  logger?: Logger;
  /** Event packages. Default: the three of createDefaultRegistry, with `events`. */
  registry?: EventPackageRegistry;
  /** Options of the default registry (expiry bounds per package from the configuration). */
  events?: DefaultRegistryOptions;
  /** Which account serves a SIP domain. Default: the store's accounts, the first one serving unclaimed domains. */
  accounts?: AccountResolver;
  /** Default: a new feed (on the stack as `feed`). */
  feed?: PresenceFeed;
  /** Default OPEN_POLICY: everything admitted and allowed. */
  policy?: PresencePolicy;
  /** Listeners by transport name; one object may serve several (SipTransport serves udp and tcp). */
  transports?: TransportListeners;
  /**
   * Without transports: how NOTIFYs leave (an in-process stand-in that answers them). Without either, the stack has
   * no network: NOTIFYs fail as transport errors.
   */
  channel?: NotifyChannel;
  /** RFC 3261 §17 timers of the transaction layer (T1, T2, T4). */
  timers?: Partial<TransactionTimers>;
  /** This node's name, recorded on each subscription (`stalker`). Default `piston`. */
  nodeName?: string;
  /** Host for our Contact when the flow's local address is a wildcard. */
  publicHost?: string;
  /** dialog-info lists every dialog instead of the most interesting one. Default false. */
  allDialogs?: boolean;
  /** Shortest PUBLISH lifetime accepted, every package (seconds). Default: each package's own minimum. */
  minPublishExpires?: number;
  /** NOTIFY transactions in flight at once. */
  notifyWindow?: number;
  /** Told of each new request the transport hands up (retransmissions excluded), also while not accepting. */
  onRequestArrived?: () => void;
  /** Told of each PUBLISH's answer: its Event package (one we serve, else `other`) and status, for metrics. */
  onPublishAnswered?: (event: string, status: number) => void;
}

export interface PresenceStack {
  readonly store: StoreBackend;
  readonly clock: Clock;
  readonly registry: EventPackageRegistry;
  readonly accounts: AccountResolver;
  readonly feed: PresenceFeed;
  readonly policy: PresencePolicy;
  readonly presentity: PresentityService;
  readonly notifier: Notifier;
  readonly ua: UserAgentCore;
  /** The transaction layer over `transports`; absent on a stack without transports. */
  readonly transactions: TransactionLayer | undefined;
  readonly transports: TransportSet | undefined;
  /** The port a transport listens on, once started. */
  portOf(transport: TransportDescriptor): number | undefined;
  /**
   * A request that came without a transport (the rehearsal's scripted phone): the admission gate, then the UA core,
   * as the transaction layer would hand it up.
   */
  receive(request: SipRequest, flow: Flow, sink: ResponseSink): void;
  /** Loads published state, then subscriptions; `headroom` moves every restored CSeq and version ahead (a crash). */
  restore(options?: { headroom?: number }): Promise<void>;
  /** Binds the listeners. A failure rejects as the listener threw; call `abort` then. */
  start(): Promise<void>;
  /** New requests are ignored from now on: their senders retransmit and reach the next start. */
  stopAccepting(): void;
  /**
   * A clean stop: waits up to `drainMs` for NOTIFYs and client transactions in flight, writes every subscription's
   * exact CSeq and version, ends transactions, closes the listeners (and the store, if the stack made it).
   */
  stop(options: { drainMs: number }): Promise<void>;
  /** After a failed start: closes the listeners (errors ignored) and ends everything; nothing is written. */
  abort(): Promise<void>;
  /** Ends timers and transactions at once (in-process stacks); listeners are left as they are. */
  dispose(): void;
}

/** How often a clean stop looks whether the work in flight is done. */
const DRAIN_POLL_MS = 50;

export function createPresenceStack(options: PresenceStackOptions = {}): PresenceStack {
  const ownStore = options.store === undefined;
  const store = options.store ?? new MemoryStore();
  const clock = options.clock ?? new SystemClock();
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? createDefaultRegistry(options.events ?? {});
  const accounts = options.accounts ?? createStoreAccountResolver(store, { defaultForUnknown: true });
  const policy = options.policy ?? OPEN_POLICY;
  // One feed for the stack: the notifier hears resource changes synchronously (PresentityService.onChange), metrics
  // and any later observer through its own bounded queue (lib/feed.ts).
  const feed = options.feed ?? createPresenceFeed({ logger: logger.child({ module: 'feed' }) });

  const transports = options.transports === undefined ? undefined : new TransportSet(options.transports, { admit: policy.admit });
  const transactions =
    transports === undefined
      ? undefined
      : new TransactionLayer(transports, { clock, logger, ...(options.timers ? { timers: options.timers } : {}) });
  const channel: NotifyChannel = transactions ?? options.channel ?? NO_NETWORK;

  const presentity = new PresentityService({
    store,
    registry,
    accounts,
    clock,
    logger,
    feed,
    policy,
    ...(options.minPublishExpires === undefined ? {} : { minPublishExpires: options.minPublishExpires }),
  });
  const notifier = new Notifier({
    store,
    registry,
    presentity,
    accounts,
    channel,
    clock,
    logger,
    nodeName: options.nodeName ?? 'piston',
    allDialogs: options.allDialogs ?? false,
    feed,
    policy,
    ...(options.publicHost ? { publicHost: options.publicHost } : {}),
    ...(options.notifyWindow === undefined ? {} : { notifyWindow: options.notifyWindow }),
  });
  const ua = new UserAgentCore({
    logger: logger.child({ module: 'sip-ua' }),
    allowEvents: () => registry.names(),
    accept: () => registry.contentTypes(),
  });
  ua.register('SUBSCRIBE', (incoming) => notifier.handleSubscribe(incoming));
  const answered = options.onPublishAnswered;
  ua.register(
    'PUBLISH',
    answered === undefined
      ? (incoming) => presentity.handlePublish(incoming)
      : (incoming) => presentity.handlePublish(counted(incoming, registry, answered)),
  );

  let accepting = true;
  const arrived = options.onRequestArrived;
  transactions?.onRequest((req, tx) => {
    arrived?.();
    if (!accepting) return; // shutting down: the peer retransmits, and reaches us again after the restart
    ua.receive(req, tx.flow, { respond: (res) => void tx.respond(res) });
  });
  // A WebSocket's subscriptions end with its connection (transports.md §3.2).
  transports?.onFlowClosed((flow) => notifier.flowClosed(flow));
  const admit = policy.admit;

  const dispose = (): void => {
    notifier.dispose();
    presentity.dispose();
    transactions?.close();
    if (ownStore) store.close();
  };

  return {
    store,
    clock,
    registry,
    accounts,
    feed,
    policy,
    presentity,
    notifier,
    ua,
    transactions,
    transports,
    portOf: (transport) => transports?.portOf(transport),
    receive(request, flow, sink) {
      const verdict = admit === undefined ? true : admit({ request, flow, transport: transportOf(flow.protocol) });
      if (verdict === true) ua.receive(request, flow, sink);
      else if (verdict !== false) {
        const answer = serviceUnavailable(request, verdict);
        if (answer !== undefined) sink.respond(answer);
      }
    },
    async restore(opts = {}) {
      await presentity.restore();
      await notifier.restore({ headroom: opts.headroom ?? 0 });
    },
    async start() {
      await transports?.start();
    },
    stopAccepting() {
      accepting = false;
    },
    async stop({ drainMs }) {
      accepting = false;
      const deadline = clock.now() + drainMs;
      while ((notifier.inFlight > 0 || (transactions?.clientTransactionCount ?? 0) > 0) && clock.now() < deadline) {
        await new Promise<void>((res) => clock.setTimer(DRAIN_POLL_MS, res));
      }
      notifier.dispose();
      // CSeq/version exactly as last sent, so the next start continues without a gap.
      notifier.checkpoint();
      presentity.dispose();
      transactions?.close();
      await transports?.close();
      if (ownStore) store.close();
    },
    async abort() {
      accepting = false;
      await transports?.close().catch(() => {});
      dispose();
    },
    dispose,
  };
}

/** A NOTIFY on a stack without a network fails as a transport error would. */
const NO_NETWORK: NotifyChannel = {
  request: () => Promise.resolve({ kind: 'transport-error', error: new TransportError('no-socket', 'this stack has no network') }),
};

/** The PUBLISH as the handler sees it, its answer told to `answered` with the Event package as a bounded label. */
function counted(
  incoming: IncomingRequest,
  registry: EventPackageRegistry,
  answered: (event: string, status: number) => void,
): IncomingRequest {
  return {
    ...incoming,
    respond: (status, respondOptions) => {
      answered(eventLabel(incoming.request, registry.names()), status);
      return incoming.respond(status, respondOptions);
    },
  };
}

/** The request's Event package when it is one of ours, else "other": peers cannot grow a metric's label set. */
function eventLabel(req: SipRequest, known: readonly string[]): string {
  try {
    const name = req.event?.package;
    return name !== undefined && known.includes(name) ? name : 'other';
  } catch {
    return 'other';
  }
}
