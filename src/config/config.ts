import { z } from 'zod';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { parseCidr } from '../lib/cidr.js';
import { parseClusterRedisUrl, type ClusterConfig, type ClusterRedisTarget } from './cluster-config.js';

/**
 * Configuration comes from environment variables only (twelve-factor), validated once at start:
 * a bad value stops the server with a message that names the variable and what was wrong.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Listen addresses are IP literals: a socket binds an address, and a host name (even `localhost`, which may resolve
 * to ::1 on one machine and 127.0.0.1 on another) would make where we listen depend on the resolver.
 */
const notAnIp = (h: string): string => `${JSON.stringify(h)} is not an IP address (a bind address such as 127.0.0.1, 0.0.0.0 or ::)`;

const hostList = z
  .string()
  .transform((s) => s.split(',').map((h) => h.trim()).filter((h) => h.length > 0))
  .superRefine((hosts, ctx) => {
    if (hosts.length === 0) ctx.addIssue({ code: 'custom', message: 'at least one IP address is needed' });
    for (const h of hosts) if (isIP(h) === 0) ctx.addIssue({ code: 'custom', message: notAnIp(h) });
  });

const PEER_TRANSPORTS = ['udp', 'tcp', 'tls', 'ws', 'wss'] as const;
type PeerTransport = (typeof PEER_TRANSPORTS)[number];
/** A port, or `off` for a listener that is on by default. */
const portOrOff = z.union([z.literal('off').transform(() => null), port]);

const list = z.string().transform((s) => s.split(',').map((v) => v.trim()).filter((v) => v.length > 0));


/** `10.0.0.0/8,192.0.2.10;transport=tcp,2001:db8::/32`: the master account's first trusted peers (security.md §3.3). */
const trustedPeerList = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()).filter((p) => p.length > 0))
  .transform((entries, ctx) => {
    const out: { cidr: string; transport?: PeerTransport }[] = [];
    for (const entry of entries) {
      const [cidrText, ...params] = entry.split(';').map((p) => p.trim());
      const cidr = parseCidr(cidrText ?? '');
      if (!cidr) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(cidrText)} is not an IP address or CIDR block (10.0.0.0/8, 2001:db8::/32)` });
        continue;
      }
      const peer: { cidr: string; transport?: PeerTransport } = { cidr: cidr.text };
      for (const param of params) {
        const m = /^transport=(.*)$/i.exec(param);
        const transport = m?.[1]?.toLowerCase();
        if (transport === undefined || !(PEER_TRANSPORTS as readonly string[]).includes(transport)) {
          ctx.addIssue({ code: 'custom', message: `${JSON.stringify(param)}: only transport=udp|tcp|tls|ws|wss may follow a block` });
          continue;
        }
        peer.transport = transport as PeerTransport;
      }
      out.push(peer);
    }
    return out;
  });

const ipAddress = z.string().refine((h) => isIP(h) !== 0, { error: (issue) => notAnIp(String(issue.input)) });

/** Every variable the server reads, with its default. The README's configuration table mirrors this. */
const envSchema = z.object({
  PISTON_SIP_HOST: hostList.default(['0.0.0.0', '::']),
  PISTON_SIP_PORT: port.default(5060),
  PISTON_SIP_PUBLIC_HOST: z.string().min(1).optional(),
  // Loopback by default (security.md §5): exposing the admin API is a choice, best made with HTTPS.
  PISTON_API_HOST: ipAddress.default('127.0.0.1'),
  PISTON_API_PORT: port.default(8000),
  PISTON_API_TLS_CERT: z.string().min(1).optional(),
  PISTON_API_TLS_KEY: z.string().min(1).optional(),
  PISTON_SIP_TRUSTED_PEERS: trustedPeerList.optional(),
  PISTON_DATA_DIR: z.string().min(1).default('./data'),
  PISTON_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PISTON_NODE_NAME: z.string().min(1).max(255).default(`piston@${hostname()}`),
  PISTON_SIP_T1_MS: positiveInt.default(500),
  PISTON_SIP_T2_MS: positiveInt.default(4000),
  PISTON_SIP_T4_MS: positiveInt.default(5000),
  PISTON_SIP_MAX_MESSAGE_BYTES: positiveInt.max(65535).default(65535),
  PISTON_SIP_MAX_CONNECTIONS: positiveInt.default(10000),
  PISTON_SIP_TCP_IDLE_S: positiveInt.default(3600),
  // Above the NOTIFY window's worth (512 in flight, ~1 KB each), so a proxy carrying many watchers is not dropped.
  PISTON_SIP_MAX_BUFFERED_BYTES: positiveInt.default(1024 * 1024),
  PISTON_SIP_UDP_BUFFER_BYTES: positiveInt.default(4 * 1024 * 1024),
  // Several processes on one host may share the SIP ports (SO_REUSEPORT: the kernel spreads peers over them by their
  // address, so a phone keeps reaching the same process); with cluster mode they share the presence state.
  PISTON_SIP_REUSE_PORT: bool.default(false),
  // TLS and WebSocket (transports.md). TLS and WSS listen only when a certificate and key are set.
  PISTON_SIP_TLS_PORT: port.default(5061),
  PISTON_SIP_TLS_CERT: z.string().min(1).optional(),
  PISTON_SIP_TLS_KEY: z.string().min(1).optional(),
  PISTON_SIP_TLS_CA: z.string().min(1).optional(),
  PISTON_SIP_TLS_MIN_VERSION: z.enum(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  PISTON_SIP_HANDSHAKE_TIMEOUT_S: positiveInt.max(300).default(10),
  PISTON_SIP_WS_PORT: portOrOff.default(5066),
  PISTON_SIP_WSS_PORT: portOrOff.default(7443),
  PISTON_SIP_WS_ORIGINS: list.optional(),
  PISTON_SIP_WS_PING_S: positiveInt.default(30),
  PISTON_SUBSCRIBE_MIN_EXPIRES: positiveInt.default(60),
  PISTON_SUBSCRIBE_MAX_EXPIRES: positiveInt.default(3600),
  PISTON_SUBSCRIBE_DEFAULT_EXPIRES: positiveInt.default(3600),
  // Kamailio's pua_dialoginfo publishes the end of a call with Expires 11: a PUBLISH minimum of 60 would refuse it.
  PISTON_PUBLISH_MIN_EXPIRES: positiveInt.default(5),
  PISTON_DEFAULT_ACCOUNT_FOR_UNKNOWN_DOMAINS: bool.default(true),
  PISTON_DIALOG_ALL_DIALOGS: bool.default(false),
  // Garbage may grow to 1.5x the live data between full collections (V8's heuristics allow more): measured with
  // 100k subscriptions, RSS 238 MB instead of 290 MB. 0 leaves V8's own heuristics.
  PISTON_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(50),
  // Warm-up rounds run in idle slices after start (src/events/warm-up.ts, src/main-rehearsal.ts). 0: none.
  // Cluster mode (cluster.md): on when set; unset, a single node on SQLite with no Redis anywhere.
  PISTON_CLUSTER_REDIS_URL: z.string().transform((text, ctx): ClusterRedisTarget => {
    const target = parseClusterRedisUrl(text);
    if (typeof target === 'string') {
      ctx.addIssue({ code: 'custom', message: target });
      return z.NEVER;
    }
    return target;
  }).optional(),
  // Cluster mode: how long a first start (no account here yet) waits for Redis before its admin bootstrap decides.
  PISTON_CLUSTER_START_WAIT_S: nonNegativeInt.max(3600).default(30),
  // Cluster mode: how long after a dead node's last heartbeat its directory entries are removed (at least the 3 s TTL).
  PISTON_CLUSTER_JANITOR_GRACE_S: positiveInt.min(3).max(3600).default(30),
  PISTON_WARM_UP_ROUNDS: z.coerce.number().int().min(0).max(100_000).default(2000),
  // security.md: digest authentication of SUBSCRIBE and PUBLISH by default; `off` accepts them without credentials.
  PISTON_SIP_AUTH: z.enum(['digest', 'off']).default('digest'),
  PISTON_SIP_NONCE_LIFETIME_S: positiveInt.max(86_400).default(300),
  // Abuse limits (security.md §4.2); 0 turns a limit off. Trusted peers skip the per-source ones.
  PISTON_SIP_RATE_REQUESTS: nonNegativeInt.default(50),
  PISTON_SIP_RATE_WINDOW_S: positiveInt.default(2),
  PISTON_SIP_BAN_S: positiveInt.default(300),
  PISTON_SIP_DROP_SCANNERS: bool.default(true),
  PISTON_SIP_MAX_CONNECTIONS_PER_IP: nonNegativeInt.default(100),
  PISTON_SIP_FIRST_BYTES_S: nonNegativeInt.default(10),
  PISTON_SIP_MESSAGE_S: nonNegativeInt.default(20),
  PISTON_SIP_FRAMER_BUDGET_BYTES: nonNegativeInt.default(64 * 1024 * 1024),
  // A trusted peer (proxy, trunk) carries everyone's 200s and NOTIFYs on one connection: it may queue this much while
  // it drains, and is dropped once it takes nothing for PISTON_SIP_SEND_STALL_S. 0: the common limit for it too.
  PISTON_SIP_PEER_MAX_BUFFERED_BYTES: nonNegativeInt.default(64 * 1024 * 1024),
  PISTON_SIP_SEND_STALL_S: positiveInt.default(5),
  PISTON_SUBSCRIPTIONS_PER_WATCHER: nonNegativeInt.default(500),
  PISTON_SUBSCRIPTIONS_MAX: nonNegativeInt.default(200_000),
  PISTON_PUBLICATIONS_PER_RESOURCE: nonNegativeInt.default(20),
  PISTON_PUBLICATIONS_MAX: nonNegativeInt.default(50_000),
  PISTON_BOOTSTRAP_REALM: z.string().min(1).max(253).optional(),
  PISTON_BOOTSTRAP_API_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'must be 64 hexadecimal characters')
    .optional(),
});

export interface SipConfig {
  hosts: string[];
  port: number;
  /** Host name or address we put in Contact and Via when it cannot be derived from the flow. */
  publicHost?: string;
  t1: number;
  t2: number;
  t4: number;
  maxMessageBytes: number;
  maxConnections: number;
  tcpIdleMs: number;
  maxBufferedBytes: number;
  udpBufferBytes: number;
  /** Share the UDP, TCP, TLS and WS ports with other processes (Node 22.12 and later). */
  reusePort: boolean;
  /** TLS (SIPS) and WSS: present when a certificate and key are set. */
  tls?: { port: number; certPath: string; keyPath: string; caPath?: string; minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' };
  /** TLS handshake and WebSocket upgrade deadline. */
  handshakeTimeoutMs: number;
  /** SIP over WebSocket (RFC 7118): undefined ports are off; WSS needs `tls`. */
  websocket: { wsPort?: number; wssPort?: number; origins: string[]; pingIntervalMs: number };
}

/** The abuse limits (security.md §4.2), 0 meaning off; mirrors src/security/limits' AbuseLimitSettings. */
export interface LimitsConfig {
  requestsPerWindow: number;
  windowMs: number;
  banMs: number;
  dropScanners: boolean;
  connectionsPerAddress: number;
  firstBytesMs: number;
  messageMs: number;
  framerBudgetBytes: number;
  peerSendBufferBytes: number;
  sendStallMs: number;
  subscriptionsPerWatcher: number;
  subscriptionCeiling: number;
  publicationsPerResource: number;
  publicationCeiling: number;
}

export interface Config {
  sip: SipConfig;
  limits: LimitsConfig;
  /** V8 `--heap-growing-percent` set at start (0: not set). */
  heapGrowingPercent: number;
  /** Rounds of src/events/warm-up.ts and src/main-rehearsal.ts run after start (0: none). */
  warmUpRounds: number;
  api: {
    host: string;
    port: number;
    bootstrapApiKey?: string;
    bootstrapRealm?: string;
    /** PEM files for HTTPS on the API port (both or neither); re-read on SIGHUP. */
    tls?: { certFile: string; keyFile: string };
  };
  subscriptions: { minExpires: number; maxExpires: number; defaultExpires: number; allDialogs: boolean };
  publications: { minExpires: number };
  accounts: {
    defaultAccountForUnknownDomains: boolean;
    /** PISTON_SIP_TRUSTED_PEERS: the master account's trusted peers, written on first start only. */
    bootstrapTrustedPeers: { cidr: string; transport?: PeerTransport }[];
  };
  /** SIP digest authentication (security.md): mode and nonce lifetime. */
  sipAuth: { mode: 'digest' | 'off'; nonceLifetimeS: number };
  dataDir: string;
  logLevel: z.infer<typeof envSchema>['PISTON_LOG_LEVEL'];
  nodeName: string;
  /** Cluster mode (PISTON_CLUSTER_REDIS_URL); absent on a single node. */
  cluster?: ClusterConfig;
}

/** Node's dgram and net take `reusePort` from 22.12 (and 23.1); older versions ignore the option without a word. */
export function reusePortSupported(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the PISTON_* variables; throws ConfigError listing every bad one. Empty strings count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') relevant[key] = v.trim();
  }
  const parsed = envSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(relevant[String(i.path[0])] ?? '')}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.PISTON_SUBSCRIBE_MIN_EXPIRES > e.PISTON_SUBSCRIBE_MAX_EXPIRES) {
    problems.push('PISTON_SUBSCRIBE_MIN_EXPIRES must not exceed PISTON_SUBSCRIBE_MAX_EXPIRES');
  }
  if (
    e.PISTON_SUBSCRIBE_DEFAULT_EXPIRES < e.PISTON_SUBSCRIBE_MIN_EXPIRES ||
    e.PISTON_SUBSCRIBE_DEFAULT_EXPIRES > e.PISTON_SUBSCRIBE_MAX_EXPIRES
  ) {
    problems.push('PISTON_SUBSCRIBE_DEFAULT_EXPIRES must lie between the minimum and the maximum');
  }
  if ((e.PISTON_API_TLS_CERT === undefined) !== (e.PISTON_API_TLS_KEY === undefined)) {
    problems.push('PISTON_API_TLS_CERT and PISTON_API_TLS_KEY go together: set both for HTTPS, or neither');
  }
  if (e.PISTON_SIP_REUSE_PORT && !reusePortSupported()) {
    problems.push(`PISTON_SIP_REUSE_PORT needs Node.js 22.12 or later (this is ${process.version}): without it a second process could not bind the port`);
  }
  if (e.PISTON_SIP_T2_MS < e.PISTON_SIP_T1_MS) problems.push('PISTON_SIP_T2_MS must not be below PISTON_SIP_T1_MS');
  if ((e.PISTON_SIP_TLS_CERT === undefined) !== (e.PISTON_SIP_TLS_KEY === undefined)) {
    problems.push('PISTON_SIP_TLS_CERT and PISTON_SIP_TLS_KEY go together: set both (TLS and WSS on) or neither');
  }
  if (e.PISTON_SIP_TLS_CA !== undefined && e.PISTON_SIP_TLS_CERT === undefined) {
    problems.push('PISTON_SIP_TLS_CA needs PISTON_SIP_TLS_CERT and PISTON_SIP_TLS_KEY');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    heapGrowingPercent: e.PISTON_HEAP_GROWING_PERCENT,
    warmUpRounds: e.PISTON_WARM_UP_ROUNDS,
    sip: {
      hosts: e.PISTON_SIP_HOST,
      port: e.PISTON_SIP_PORT,
      ...(e.PISTON_SIP_PUBLIC_HOST ? { publicHost: e.PISTON_SIP_PUBLIC_HOST } : {}),
      t1: e.PISTON_SIP_T1_MS,
      t2: e.PISTON_SIP_T2_MS,
      t4: e.PISTON_SIP_T4_MS,
      maxMessageBytes: e.PISTON_SIP_MAX_MESSAGE_BYTES,
      maxConnections: e.PISTON_SIP_MAX_CONNECTIONS,
      tcpIdleMs: e.PISTON_SIP_TCP_IDLE_S * 1000,
      maxBufferedBytes: e.PISTON_SIP_MAX_BUFFERED_BYTES,
      udpBufferBytes: e.PISTON_SIP_UDP_BUFFER_BYTES,
      reusePort: e.PISTON_SIP_REUSE_PORT,
      ...(e.PISTON_SIP_TLS_CERT && e.PISTON_SIP_TLS_KEY
        ? {
            tls: {
              port: e.PISTON_SIP_TLS_PORT,
              certPath: e.PISTON_SIP_TLS_CERT,
              keyPath: e.PISTON_SIP_TLS_KEY,
              ...(e.PISTON_SIP_TLS_CA ? { caPath: e.PISTON_SIP_TLS_CA } : {}),
              minVersion: e.PISTON_SIP_TLS_MIN_VERSION,
            },
          }
        : {}),
      handshakeTimeoutMs: e.PISTON_SIP_HANDSHAKE_TIMEOUT_S * 1000,
      websocket: {
        ...(e.PISTON_SIP_WS_PORT === null ? {} : { wsPort: e.PISTON_SIP_WS_PORT }),
        ...(e.PISTON_SIP_WSS_PORT === null || !e.PISTON_SIP_TLS_CERT ? {} : { wssPort: e.PISTON_SIP_WSS_PORT }),
        origins: e.PISTON_SIP_WS_ORIGINS ?? [],
        pingIntervalMs: e.PISTON_SIP_WS_PING_S * 1000,
      },
    },
    limits: {
      requestsPerWindow: e.PISTON_SIP_RATE_REQUESTS,
      windowMs: e.PISTON_SIP_RATE_WINDOW_S * 1000,
      banMs: e.PISTON_SIP_BAN_S * 1000,
      dropScanners: e.PISTON_SIP_DROP_SCANNERS,
      connectionsPerAddress: e.PISTON_SIP_MAX_CONNECTIONS_PER_IP,
      firstBytesMs: e.PISTON_SIP_FIRST_BYTES_S * 1000,
      messageMs: e.PISTON_SIP_MESSAGE_S * 1000,
      framerBudgetBytes: e.PISTON_SIP_FRAMER_BUDGET_BYTES,
      peerSendBufferBytes: e.PISTON_SIP_PEER_MAX_BUFFERED_BYTES,
      sendStallMs: e.PISTON_SIP_SEND_STALL_S * 1000,
      subscriptionsPerWatcher: e.PISTON_SUBSCRIPTIONS_PER_WATCHER,
      subscriptionCeiling: e.PISTON_SUBSCRIPTIONS_MAX,
      publicationsPerResource: e.PISTON_PUBLICATIONS_PER_RESOURCE,
      publicationCeiling: e.PISTON_PUBLICATIONS_MAX,
    },
    api: {
      host: e.PISTON_API_HOST,
      port: e.PISTON_API_PORT,
      ...(e.PISTON_BOOTSTRAP_API_KEY ? { bootstrapApiKey: e.PISTON_BOOTSTRAP_API_KEY.toLowerCase() } : {}),
      ...(e.PISTON_BOOTSTRAP_REALM ? { bootstrapRealm: e.PISTON_BOOTSTRAP_REALM.toLowerCase() } : {}),
      ...(e.PISTON_API_TLS_CERT && e.PISTON_API_TLS_KEY ? { tls: { certFile: e.PISTON_API_TLS_CERT, keyFile: e.PISTON_API_TLS_KEY } } : {}),
    },
    subscriptions: {
      minExpires: e.PISTON_SUBSCRIBE_MIN_EXPIRES,
      maxExpires: e.PISTON_SUBSCRIBE_MAX_EXPIRES,
      defaultExpires: e.PISTON_SUBSCRIBE_DEFAULT_EXPIRES,
      allDialogs: e.PISTON_DIALOG_ALL_DIALOGS,
    },
    publications: { minExpires: e.PISTON_PUBLISH_MIN_EXPIRES },
    accounts: {
      defaultAccountForUnknownDomains: e.PISTON_DEFAULT_ACCOUNT_FOR_UNKNOWN_DOMAINS,
      bootstrapTrustedPeers: e.PISTON_SIP_TRUSTED_PEERS ?? [],
    },
    sipAuth: { mode: e.PISTON_SIP_AUTH, nonceLifetimeS: e.PISTON_SIP_NONCE_LIFETIME_S },
    dataDir: e.PISTON_DATA_DIR,
    logLevel: e.PISTON_LOG_LEVEL,
    // Nodes of one cluster must differ in name; on one machine the host name alone would not, so the SIP port joins it.
    nodeName: e.PISTON_CLUSTER_REDIS_URL && relevant.PISTON_NODE_NAME === undefined ? `${e.PISTON_NODE_NAME}-${e.PISTON_SIP_PORT}` : e.PISTON_NODE_NAME,
    ...(e.PISTON_CLUSTER_REDIS_URL ? { cluster: { redis: e.PISTON_CLUSTER_REDIS_URL, startWaitS: e.PISTON_CLUSTER_START_WAIT_S, janitorGraceS: e.PISTON_CLUSTER_JANITOR_GRACE_S } } : {}),
  };
}
