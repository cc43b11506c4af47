/**
 * The key layout of cluster.md §6 under a prefix (`pp:` in production; tests may give their own). `{R}` hash tags keep
 * one resource's keys in one slot, should Redis Cluster ever be needed.
 */
export class RedisKeys {
  constructor(readonly prefix = 'pp:') {}

  resource(r: string): string {
    return `${this.prefix}res:{${r}}`;
  }
  get pubexp(): string {
    return `${this.prefix}pubexp`;
  }
  get changes(): string {
    return `${this.prefix}chg`;
  }
  /** The cluster-wide rev counter (engine-port.ts, "Revisions"). */
  get rev(): string {
    return `${this.prefix}rev`;
  }
  subscription(id: string): string {
    return `${this.prefix}sub:{${id}}`;
  }
  domainIndex(domain: string): string {
    return `${this.prefix}subs:dom:{${domain}}`;
  }
  nodeIndex(node: string): string {
    return `${this.prefix}subs:node:{${node}}`;
  }
  heartbeat(node: string): string {
    return `${this.prefix}hb:{${node}}`;
  }
  get nodes(): string {
    return `${this.prefix}nodes`;
  }
  get epoch(): string {
    return `${this.prefix}epoch`;
  }
  /** A value every node agrees on (`sharedValue`), e.g. `pp:shared:sip-nonce-secret`. */
  shared(name: string): string {
    return `${this.prefix}shared:${name}`;
  }
}
