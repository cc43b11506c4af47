/**
 * Cluster mode's settings (cluster.md §1, §8): where the shared Redis is. Plain values only; ioredis is loaded by
 * main.ts and only when cluster mode is on.
 *
 *   redis://[user:password@]host:port[/db]     one Redis (or Valkey); rediss:// for TLS
 *   redis-sentinel://[:password@]host:port[,host:port...]/master-name[/db]
 *                                              Sentinel (HA): the sentinels to ask and the master's name
 */

export interface SentinelAddress {
  host: string;
  port: number;
}

export type ClusterRedisTarget =
  | { kind: 'url'; url: string }
  | { kind: 'sentinel'; sentinels: SentinelAddress[]; name: string; db: number; password?: string };

export interface ClusterConfig {
  redis: ClusterRedisTarget;
  /**
   * PISTON_CLUSTER_START_WAIT_S (default 30): a first start (no account in the local store) waits this long for Redis
   * before the admin bootstrap decides, so it takes the cluster's accounts instead of making a second master.
   */
  startWaitS?: number;
  /**
   * PISTON_CLUSTER_JANITOR_GRACE_S (default 30, 3-3600): how long after a node's last heartbeat the janitor removes its
   * directory entries. The list hides a dead node's entries as soon as its beat lapses (3 s): the grace bounds only
   * how long they take room in Redis (each also lapses with its subscription's expiry).
   */
  janitorGraceS?: number;
}

const DEFAULT_SENTINEL_PORT = 26379;

/** The target named by PISTON_CLUSTER_REDIS_URL, or a message saying what is wrong with it. */
export function parseClusterRedisUrl(text: string): ClusterRedisTarget | string {
  const scheme = /^([a-z-]+):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'not a valid URL (redis://host:port/db)';
    }
    if (url.hostname === '') return 'names no host (redis://host:port/db)';
    const db = url.pathname.replace(/^\//, '');
    if (db !== '' && !/^\d+$/.test(db)) return `the database "${db}" is not a number`;
    return { kind: 'url', url: text };
  }
  if (scheme === 'redis-sentinel') return parseSentinel(text.slice('redis-sentinel://'.length));
  return 'must start with redis://, rediss:// or redis-sentinel://';
}

function parseSentinel(rest: string): ClusterRedisTarget | string {
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    const auth = rest.slice(0, at);
    password = decodeURIComponent(auth.includes(':') ? auth.slice(auth.indexOf(':') + 1) : auth);
    rest = rest.slice(at + 1);
  }
  const [hostsPart = '', name = '', dbText = '', ...extra] = rest.split('/');
  if (extra.length > 0) return 'too many path parts (redis-sentinel://host:port,host:port/master-name/db)';
  if (name === '') return 'names no master (redis-sentinel://host:port,host:port/master-name)';
  if (dbText !== '' && !/^\d+$/.test(dbText)) return `the database "${dbText}" is not a number`;
  const sentinels: SentinelAddress[] = [];
  for (const item of hostsPart.split(',').filter((h) => h !== '')) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(item);
    const port = m?.[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[2]);
    if (!m || port < 1 || port > 65535) return `"${item}" is not host:port`;
    sentinels.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  if (sentinels.length === 0) return 'names no sentinel (redis-sentinel://host:port,host:port/master-name)';
  return { kind: 'sentinel', sentinels, name: decodeURIComponent(name), db: dbText === '' ? 0 : Number(dbText), ...(password ? { password } : {}) };
}

/** Where the URL points, for logs: never the password. */
export function describeClusterTarget(target: ClusterRedisTarget): string {
  if (target.kind === 'sentinel') return `sentinel ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')} master ${target.name}`;
  try {
    const u = new URL(target.url);
    u.password = '';
    u.username = '';
    return u.toString();
  } catch {
    return 'redis';
  }
}
