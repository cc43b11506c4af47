import { Redis, type RedisOptions } from 'ioredis';

export interface RedisLinkOptions {
  url?: string;
  /** ioredis options (Sentinel, password, db), over the defaults below. */
  redis?: RedisOptions;
  /** A call not answered within this fails (default 2000 ms): the node goes on as an island. */
  commandTimeoutMs?: number;
  /** Longest blocking stream read (default 5000 ms). */
  maxBlockMs?: number;
  autoPipelining?: boolean;
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
