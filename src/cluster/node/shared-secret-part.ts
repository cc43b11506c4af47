import type { Logger } from '../../lib/logger.js';
import type { ClusterPart } from './cluster-node.js';
import type { NodeContext } from './node-context.js';

export interface SharedSecretOptions {
  /** The engine's name for it (`sharedValue`), e.g. `sip-nonce-secret`. */
  name: string;
  /** This node's own value: offered when the engine holds none (the first node's becomes the cluster's). */
  local: string;
  /**
   * Told the cluster's value when it differs from the one in use; false when it cannot be used (then the node keeps
   * its own, and says so).
   */
  adopt: (value: string) => boolean;
}

/**
 * A secret every node must hold the same (the SIP digest nonce key, so a challenge sent by one node is answered on
 * another): read from the engine at start, offered there when absent, and read again when the engine answers after
 * island mode or comes back without its data (the value in use is offered then, so the cluster keeps its key). Until
 * the engine answers the node uses its own.
 */
export class SharedSecretPart implements ClusterPart {
  private ctx: NodeContext | undefined;
  private logger: Logger | undefined;
  private inUse: string;
  private fetching: Promise<void> | undefined;

  constructor(private readonly opts: SharedSecretOptions) {
    this.inUse = opts.local;
  }

  /** The value in use now. */
  get current(): string {
    return this.inUse;
  }

  async start(ctx: NodeContext): Promise<void> {
    this.ctx = ctx;
    this.logger = ctx.logger.child({ part: 'shared-secret', name: this.opts.name });
    await this.fetch();
  }

  stop(): void {
    this.ctx = undefined;
  }

  onReturn(): void {
    void this.fetch();
  }

  onEpochChange(): void {
    void this.fetch();
  }

  /** One read at a time; a failure is the link's to report (island mode), and the next return reads again. */
  private fetch(): Promise<void> {
    this.fetching ??= this.fetchNow().finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  private async fetchNow(): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) return;
    let value: string;
    try {
      value = await ctx.engine.sharedValue(this.opts.name, this.inUse);
    } catch (err) {
      ctx.link.failed(err);
      return;
    }
    ctx.link.succeeded();
    if (value === this.inUse) return;
    if (this.opts.adopt(value)) {
      this.inUse = value;
      this.logger?.info({}, "adopted the cluster's shared secret");
    } else {
      this.logger?.error({}, "the cluster's shared secret is not usable: this node keeps its own");
    }
  }
}
