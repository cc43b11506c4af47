import type { Logger } from '../../lib/logger.js';

/**
 * Whether this node reaches the engine (cluster.md §8): every engine call reports its outcome here. The first
 * failure turns island mode on (logged once); the first success after it ends it and tells `onReturn` listeners
 * (replay the outbox, resync), in order.
 */
export class ClusterLink {
  private isUp = true;
  private since = 0;
  private readonly returns: (() => void)[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  get up(): boolean {
    return this.isUp;
  }

  /** ms epoch when island mode began; 0 while connected. */
  get downSince(): number {
    return this.isUp ? 0 : this.since;
  }

  failed(err: unknown): void {
    if (!this.isUp) return;
    this.isUp = false;
    this.since = this.now();
    this.logger.warn({ err: (err as Error)?.message ?? String(err) }, 'cluster engine unreachable: island mode (local SIP goes on, changes wait in the outbox)');
  }

  succeeded(): void {
    if (this.isUp) return;
    this.isUp = true;
    this.logger.info({ downMs: this.now() - this.since }, 'cluster engine reachable again: replaying the outbox and resyncing');
    for (const fn of this.returns) fn();
  }

  onReturn(fn: () => void): void {
    this.returns.push(fn);
  }
}
