import { Redis, type RedisOptions } from 'ioredis';

export interface RedisLinkOptions {
  /** `redis://host:port/db`; absent when `redis` says where (Sentinel: `sentinels` and `name`). */
  url?: string;
  /** Passed to ioredis beside the URL (Sentinel, password, retry strategy, TLS); wins over the defaults here. */
  redis?: RedisOptions;
  /**
   * A call that gets no answer within this fails (default 2000 ms), so a frozen engine gives the node an error to
   * act on (island mode, cluster.md §8) instead of a hang. A timed-out write may still have been applied: the caller
   * re-reads before it retries.
   */
  commandTimeoutMs?: number;
  /** The longest wait a blocking stream read may ask for (default 5000 ms); longer asks are cut to it. */
  maxBlockMs?: number;
  autoPipelining?: boolean;
  /**
   * Told of every connection error (refused, reset) of either connection. Without a listener ioredis would print
   * them on the console; the node logs them through its Logger.
   */
  onConnectionError?: (err: Error) => void;
}

/**
 * One Redis connection for commands and, made on first use, a second one for blocking stream reads (a blocked
 * connection answers nothing else), shared by the Redis adapters of the cluster (presence state, admin data).
 */
export class RedisLink {
  readonly redis: Redis;
  readonly commandTimeoutMs: number;
  readonly maxBlockMs: number;
  private reader: Redis | null = null;
  private readonly onError: (err: Error) => void;

  constructor(options: RedisLinkOptions) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.maxBlockMs = options.maxBlockMs ?? 5000;
    const redisOptions: RedisOptions = {
      enableAutoPipelining: options.autoPipelining ?? false,
      commandTimeout: this.commandTimeoutMs,
      // Calls made while the connection is down wait for one reconnection attempt, then fail: the node goes on as
      // an island rather than queueing without bound (ioredis's default is 20 attempts).
      maxRetriesPerRequest: 1,
      ...options.redis,
    };
    this.redis = options.url === undefined ? new Redis(redisOptions) : new Redis(options.url, redisOptions);
    this.onError = options.onConnectionError ?? (() => undefined);
    this.redis.on('error', this.onError);
  }

  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /** The connection for XREAD BLOCK; its timeout covers the longest block plus the usual answer time. */
  blockingReader(): Redis {
    if (this.reader === null) {
      this.reader = this.redis.duplicate({ enableAutoPipelining: false, commandTimeout: this.maxBlockMs + this.commandTimeoutMs });
      this.reader.on('error', this.onError);
    }
    return this.reader;
  }

  async close(): Promise<void> {
    // The reader is cut: quit() would wait out a blocking read in flight (up to maxBlockMs), and a read loses nothing.
    this.reader?.disconnect();
    this.reader = null;
    // quit() waits for the writes in flight; a connection that is down is cut instead.
    if (this.redis.status === 'ready') await this.redis.quit();
    else this.redis.disconnect();
  }
}
