import type { Logger } from './logger.js';
import { Fifo } from './fifo.js';

/** Stops a listener's deliveries, queued ones included. */
export type Unsubscribe = () => void;

/** Called synchronously inside `emit`: the SIP path (the notifier reacting to a change). */
export type CoreListener<E> = (event: E) => void;

/**
 * Called later, from the listener's own queue. A returned promise holds the next delivery until it settles, so a
 * listener that writes somewhere slow (a socket, a remote store) takes events at its own pace and its queue fills.
 */
export type Observer<E> = (event: E) => void | PromiseLike<void>;

export interface ObserverOptions<E> {
  /** Events that may wait for this observer; beyond that they are dropped and counted. Default DEFAULT_FEED_CAPACITY. */
  capacity?: number;
  /** Only events it accepts are queued. Asked synchronously inside `emit`, so it must be cheap and must not throw. */
  filter?: (event: E) => boolean;
  /**
   * Told how many events it missed, in sequence (after what was queued before the drop, before what came after): a
   * live view re-reads a snapshot there instead of trusting a history with holes.
   */
  onMissed?: (count: number) => void;
  /** For logs. */
  name?: string;
}

export interface FeedOptions {
  logger: Logger;
  /** Runs a drain later. Default setImmediate: pending I/O (the SIP sockets) is served before any observer runs. */
  schedule?: (drain: () => void) => void;
}

/** Default events an observer may have waiting. */
export const DEFAULT_FEED_CAPACITY = 4096;

/** Events an observer is handed per turn of the event loop before it gives the loop back (a slow observer delays SIP by one batch at most). */
export const FEED_DRAIN_BATCH = 256;

/** Where events were dropped from a full queue: a place in the sequence and how many. */
class Gap {
  constructor(public count: number) {}
}

/**
 * A hub for events with any number of listeners of two kinds. Core listeners are called synchronously by `emit`, in
 * the order they subscribed: they are the path whose timing matters (a resource change must reach the notifier, and
 * its NOTIFYs leave, in the same turn as today). Observers (metrics, live views, a cluster link) each get a bounded
 * queue drained asynchronously: `emit` only appends to it, so a slow or stuck observer costs the emitter nothing; when
 * its queue is full the event is dropped for that observer alone, counted, and marked (`onMissed`). Nothing an
 * observer or core listener throws reaches the emitter.
 */
export class Feed<E> {
  private cores: CoreListener<E>[] = [];
  private observers: ObserverQueue<E>[] = [];
  private readonly logger: Logger;
  private readonly schedule: (drain: () => void) => void;
  private droppedTotal = 0;

  constructor(opts: FeedOptions) {
    this.logger = opts.logger;
    this.schedule = opts.schedule ?? ((drain) => void setImmediate(drain));
  }

  /** A synchronous listener (the SIP path). Lists are copied on change, so (un)subscribing during `emit` is safe. */
  core(listener: CoreListener<E>): Unsubscribe {
    this.cores = [...this.cores, listener];
    return () => this.unsubscribe(listener);
  }

  /** A queued listener. */
  subscribe(observer: Observer<E>, options: ObserverOptions<E> = {}): Unsubscribe {
    const queue = new ObserverQueue(observer, options, this.schedule, this.logger, () => this.droppedTotal++);
    this.observers = [...this.observers, queue];
    return () => this.unsubscribe(observer);
  }

  /** Removes a core listener or an observer (by the function it subscribed with); what it had queued is discarded. */
  unsubscribe(listener: CoreListener<E> | Observer<E>): void {
    if (this.cores.includes(listener as CoreListener<E>)) this.cores = this.cores.filter((l) => l !== listener);
    const queue = this.observers.find((q) => q.observer === listener);
    if (queue) {
      queue.close();
      this.observers = this.observers.filter((q) => q !== queue);
    }
  }

  /**
   * Queues the event for every observer, then calls the core listeners. Queuing first keeps each observer's sequence
   * causal: what a core listener emits while reacting (a NOTIFY sent for this change) lands after this event.
   */
  emit(event: E): void {
    for (const queue of this.observers) queue.offer(event);
    for (const listener of this.cores) {
      try {
        listener(event);
      } catch (err) {
        // One failing listener must not keep the others from hearing of the event.
        this.logger.error({ err }, 'feed listener failed');
      }
    }
  }

  /** True when some listener would hear an event (an emitter may skip building one otherwise). */
  get listened(): boolean {
    return this.cores.length > 0 || this.observers.length > 0;
  }

  /** Events dropped from full queues since the start, all observers together. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Events waiting in observers' queues, all together. */
  get queued(): number {
    let n = 0;
    for (const q of this.observers) n += q.queued;
    return n;
  }
}

/** One observer's queue and its drain. */
class ObserverQueue<E> {
  /** Events waiting (gaps not counted). */
  queued = 0;
  private readonly items = new Fifo<E | Gap>();
  private readonly capacity: number;
  /** The gap at the tail of the queue, which further drops join; none once an event is queued behind it. */
  private openGap: Gap | undefined;
  /** A drain is scheduled. */
  private scheduled = false;
  /** The observer's promise for the last event has not settled. */
  private waiting = false;
  private closed = false;
  private readonly drain = (): void => this.run();
  private readonly resume = (): void => {
    this.waiting = false;
    this.kick();
  };

  constructor(
    readonly observer: Observer<E>,
    private readonly options: ObserverOptions<E>,
    private readonly schedule: (drain: () => void) => void,
    private readonly logger: Logger,
    private readonly countDrop: () => void,
  ) {
    this.capacity = options.capacity ?? DEFAULT_FEED_CAPACITY;
  }

  offer(event: E): void {
    if (this.closed) return;
    if (this.options.filter && !this.options.filter(event)) return;
    if (this.queued >= this.capacity) {
      this.countDrop();
      if (this.openGap) {
        this.openGap.count++;
        return;
      }
      this.openGap = new Gap(1);
      this.items.push(this.openGap);
      // Once per gap, not per event: a stuck observer must not flood the log either.
      this.logger.warn({ observer: this.options.name, capacity: this.capacity }, 'feed observer behind: dropping events');
      return;
    }
    this.items.push(event);
    this.queued++;
    this.openGap = undefined;
    this.kick();
  }

  close(): void {
    this.closed = true;
    while (this.items.shift() !== undefined);
    this.queued = 0;
    this.openGap = undefined;
  }

  private kick(): void {
    if (this.scheduled || this.waiting || this.closed || this.items.length === 0) return;
    this.scheduled = true;
    this.schedule(this.drain);
  }

  private run(): void {
    this.scheduled = false;
    for (let n = 0; n < FEED_DRAIN_BATCH && !this.closed; n++) {
      const item = this.items.shift();
      if (item === undefined) return;
      if (item instanceof Gap) {
        if (item === this.openGap) this.openGap = undefined;
        this.call(() => this.options.onMissed?.(item.count));
        continue;
      }
      this.queued--;
      const result = this.call(() => this.observer(item));
      if (result && typeof result.then === 'function') {
        this.waiting = true;
        result.then(this.resume, (err: unknown) => {
          this.logger.error({ err, observer: this.options.name }, 'feed observer failed');
          this.resume();
        });
        return;
      }
    }
    this.kick();
  }

  private call(fn: () => void | PromiseLike<void>): void | PromiseLike<void> {
    try {
      return fn();
    } catch (err) {
      this.logger.error({ err, observer: this.options.name }, 'feed observer failed');
      return undefined;
    }
  }
}
