/**
 * Command-line options of the load runner (`npm run bench -- [options]`). Every count and duration that a step uses
 * lives here, so `--quick` can shrink them all in one place.
 */

export type StepName = 'rate' | 'fanout' | 'memory' | 'restart' | 'storm' | 'tls-rate' | 'ws-rate' | 'idle-conns' | 'tls-handshakes' | 'auth-rate' | 'held' | 'cluster';
export type Transport = 'udp' | 'tcp';
export const ALL_STEPS: StepName[] = ['rate', 'fanout', 'memory', 'restart', 'storm', 'tls-rate', 'ws-rate', 'idle-conns', 'tls-handshakes', 'auth-rate', 'held', 'cluster'];

export interface TargetSpec {
  kind: 'piston' | 'kamailio' | 'floor' | 'external';
  /** host:port for an external target. */
  address?: { host: string; port: number };
  /** For the floor: which of our readers it runs (`sip`, `xml`, `sip,xml`; see bench/floor/floor-server.ts). */
  floorParse?: string;
}

export interface BenchOptions {
  target: TargetSpec;
  vs?: TargetSpec;
  steps: StepName[];
  transports: Transport[];
  reps: number;
  quick: boolean;
  outDir?: string;
  /** Rate search: seconds per step, first step, largest step, bisection resolution (subs/s). */
  rateDurationS: number;
  rateStart: number;
  rateMax: number;
  rateResolution: number;
  /** Cluster step (issue 22): nodes, watchers per node, PUBLISH rates (UDP; over fanResources extensions). */
  clusterNodes: number;
  clusterSubsPerNode: number;
  clusterRates: number[];
  /** Fan-out: subscriptions, resources, PUBLISH rates (calls/s, each call = 2 PUBLISHes), gap between them (ms). */
  fanSubs: number;
  fanResources: number;
  fanPublishRates: number[];
  fanFillRate: number;
  publishGapMs: number;
  /** Saturating burst: watchers per resource (over fanResources), PUBLISH rate, gap between the waves. */
  burstWatchers: number;
  burstPublishRate: number;
  burstGapMs: number;
  burstFillRate: number;
  /** Memory sampling points (active subscriptions), fill rate, settle time before each sample. */
  memoryPoints: number[];
  memoryFillRate: number;
  memorySettleS: number;
  /** Restart: stored subscriptions, fill rate when the memory step did not leave a filled server behind. */
  restartSubs: number;
  restartFillRate: number;
  /** Reboot storm: watchers, re-subscribe window (s), fill rate, publisher calls/s during the storm. */
  stormWatchers: number;
  stormWindowS: number;
  stormFillRate: number;
  stormPublishRate: number;
  /** Noise gate: wait at most this long for other processes to use no more than noiseMaxCores. */
  noiseWaitS: number;
  noiseMaxCores: number;
  /** Stop a rate step at its first failure or retransmission. */
  rateAbort: boolean;
  /** Extra sample at the last memory point after this many more seconds (transactions kept by the stack expire). */
  memoryLateS: number;
  /** Run our server with node --cpu-prof, profiles written here (one per server start). */
  cpuProfDir?: string;
  /** Extra node flags for our server (e.g. --trace-deopt, GC settings), split on spaces. */
  serverNodeArgs: string[];
  /** Extra environment for our server (e.g. PISTON_WARM_UP_ROUNDS=0). */
  serverEnv: Record<string, string>;
  /**
   * Our server as this many processes sharing the SIP port (PISTON_SIP_REUSE_PORT, Node 22.12+) in cluster mode over
   * one redis-server (issue 21 item 4). 1: the single process.
   */
  oursProcesses: number;
  /** SIPp with a socket per call (`-t un` / `-t tn`), so the kernel can spread the calls over processes sharing a port. */
  sippSocketPerCall: boolean;
  /** idle-conns: connections per transport, from 127.0.0.2-5, and which transports (default tcp, tls, ws). */
  idleConns: number;
  idleKinds: ('tcp' | 'tls' | 'ws')[];
  /** tls-rate/ws-rate: loader processes (each rate/N over its own connections) and connections per loader. */
  streamLoaders: number;
  streamConns: number;
  /** tls-handshakes: full handshakes to make. */
  tlsHandshakes: number;
  /**
   * held (issue 21 item 2): subscriptions held and refreshed during the rate search, the held counts of the CPU
   * curve (0 allowed), its fixed SUBSCRIBE rate, the Expires range of the held ones (s), their fill rate, the pause
   * between the fill and the measurement (s), and which parts run (the search, the CPU curve).
   */
  heldSubs: number;
  heldPoints: number[];
  heldRate: number;
  heldExpires: { min: number; max: number };
  heldFillRate: number;
  heldSettleS: number;
  /** Subscribe-and-unsubscribe calls every held-step server gets first, so all of them are as warm when measured. */
  heldPrime: number;
  heldParts: ('search' | 'cpu')[];
}

const USAGE = `usage: npm run bench -- [options]
  --target host:port   measure a running server (default: start our own from dist/src/main.js)
  --vs host:port|kamailio|floor[:sip,xml]   run the same steps against a reference in the same invocation and
                       print ratios; floor: the least a Node.js process does for the rate and fan-out steps over UDP
                       (bench/floor/floor-server.ts), to tell the platform's cost from ours; floor:sip,xml also
                       runs our SIP parser and/or PUBLISH body reader
  --only rate,fanout,memory,restart,storm,tls-rate,ws-rate,idle-conns,tls-handshakes,auth-rate,held,cluster
                       run a subset (default: all). tls-rate/ws-rate: SUBSCRIBE rate over one TLS / WebSocket
                       connection (bench/stream-load.ts); idle-conns: memory per idle TCP, TLS and WS connection;
                       tls-handshakes: full handshakes/s; auth-rate: SUBSCRIBE rate with digest (SIPp -au/-ap, UDP).
                       cluster: one redis-server and N nodes in cluster mode, watchers on every node, PUBLISHes
                       spread over the nodes, against a single node in the same run (UDP; ours only)
                       With --vs kamailio these run bench/kamailio/kamailio-tw.cfg (tls, websocket, auth_db).
                       held: the rate search while --held N subscriptions are held and refreshed
                       (bench/scenarios/hold-refresh.xml), and CPU per subscription at --held-rate as the held count
                       grows (--held-points)
  --held N             subscriptions held during the held step's rate search (default 100000, --quick 2000)
  --held-points 0,10000,50000,100000   held counts of the CPU curve (default 0, N/10, N/2, N; --quick 0, N)
  --held-rate R        fixed SUBSCRIBE rate of the CPU curve (default 1000/s, --quick 500)
  --held-expires 600-3600   Expires range of the held subscriptions, s (each refreshes at 80% of it)
  --held-fill-rate R   rate at which the held subscriptions are made (default 2000/s, --quick 1000)
  --held-settle S      pause between the fill and the measurement (default 5 s, --quick 2)
  --held-prime N       subscribe-and-unsubscribe calls each held-step server gets before its fill, so every
                       point is measured on an equally warm server (default 5000, --quick 1000; 0: none)
  --held-parts search,cpu   which parts of the held step run (default both)
  --idle-conns N       connections per transport for idle-conns (default 10000, --quick 1000)
  --idle-kinds tcp,tls,ws   which transports idle-conns measures (default all three)
  --stream-loaders N  --stream-conns C   tls-rate/ws-rate load from N stream-load.js processes (rate/N each), each
                       over C connections (default 1 and 1: one connection, as the figures in bench/README.md)
  --tls-handshakes N   handshakes for tls-handshakes (default 5000, --quick 500)
  --transports udp,tcp rate and fan-out transports (default: both)
  --quick              small counts and short steps: a smoke run of the whole pipeline (~3 min)
  --reps N             repeat every step N times, report medians (default 1)
  --out DIR            keep raw output here (default: a new folder under the system temp dir)
  --rate-duration S  --rate-start R  --rate-max R  --rate-res R
  --fan-subs N  --fan-resources N  --fan-rates 1000,100|none  --burst-watchers N (0: no burst)
  --publish-gap MS     pause between an extension's two PUBLISHes in the fan-out and cluster steps (default 3000,
                       --quick 1500); a NOTIFY backlog longer than it coalesces the two changes into one NOTIFY
  --memory-points 10000,50000,100000  --restart-subs N  --storm-watchers N  --storm-window S
  --fill-rate R        subscribe rate used to fill servers before fan-out, memory, restart and storm
  --burst-fill-rate R  --memory-late S (extra memory sample S seconds after the last fill)
  --ours-processes N   our server as N processes sharing the SIP port (PISTON_SIP_REUSE_PORT, Node 22.12+) in cluster
                       mode over one redis-server; their CPU and memory are summed, Redis's included
  --sipp-socket-per-call   SIPp with a socket per call (-t un / -t tn) so calls spread over processes sharing a port
  --cluster-nodes N  --cluster-subs N (watchers per node)  --cluster-rates 100,1000
  --cpu-prof DIR       run our server under node --cpu-prof (profiles in DIR; see bench/profile-top.ts)
  --server-node-args "FLAGS"   extra node flags for our server (e.g. "--trace-deopt")
  --server-env "NAME=value ..."   extra environment for our server (e.g. "PISTON_WARM_UP_ROUNDS=0")
  --noise-wait S       noise gate (0 disables)`;

/** `floor`, `floor:sip`, `floor:xml` or `floor:sip,xml`. */
function parseFloor(s: string): TargetSpec {
  const m = /^floor(?::((?:sip|xml)(?:,(?:sip|xml))?))?$/.exec(s);
  if (!m) throw new Error(`expected floor, floor:sip, floor:xml or floor:sip,xml, got "${s}"`);
  return m[1] ? { kind: 'floor', floorParse: m[1] } : { kind: 'floor' };
}

function parseAddress(s: string): { host: string; port: number } {
  const m = /^(127\.\d+\.\d+\.\d+|localhost):(\d+)$/.exec(s);
  if (!m) throw new Error(`expected a loopback host:port (127.x.x.x:port), got "${s}"`);
  return { host: m[1] === 'localhost' ? '127.0.0.1' : m[1]!, port: Number(m[2]) };
}

function numberList(s: string): number[] {
  const out = s.split(',').map((x) => Number(x.trim()));
  if (out.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`expected a list of positive numbers, got "${s}"`);
  return out;
}

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const o: BenchOptions = {
    target: { kind: 'piston' },
    steps: [...ALL_STEPS],
    transports: ['udp', 'tcp'],
    reps: 1,
    quick,
    rateDurationS: quick ? 4 : 20,
    rateStart: quick ? 500 : 500,
    rateMax: quick ? 1000 : 32000,
    rateResolution: 250,
    fanSubs: quick ? 1000 : 10000,
    fanResources: quick ? 100 : 1000,
    fanPublishRates: quick ? [100] : [1000, 100],
    fanFillRate: 1000,
    publishGapMs: quick ? 1500 : 3000,
    burstWatchers: quick ? 20 : 100,
    burstPublishRate: 10000,
    burstGapMs: quick ? 4000 : 20000,
    burstFillRate: quick ? 1000 : 2000,
    memoryPoints: quick ? [2000, 5000] : [10000, 50000, 100000],
    memoryFillRate: 1000,
    memorySettleS: quick ? 3 : 8,
    restartSubs: quick ? 5000 : 100000,
    restartFillRate: quick ? 1000 : 2000,
    stormWatchers: quick ? 2000 : 20000,
    stormWindowS: quick ? 10 : 60,
    stormFillRate: 1000,
    stormPublishRate: quick ? 10 : 20,
    noiseWaitS: quick ? 0 : 5,
    noiseMaxCores: 0.3,
    rateAbort: true,
    serverNodeArgs: [],
    serverEnv: {},
    memoryLateS: quick ? 0 : 35,
    idleConns: quick ? 1000 : 10000,
    idleKinds: ['tcp', 'tls', 'ws'],
    tlsHandshakes: quick ? 500 : 5000,
    streamLoaders: 1,
    streamConns: 1,
    oursProcesses: 1,
    sippSocketPerCall: false,
    clusterNodes: 3,
    clusterSubsPerNode: quick ? 1000 : 10000,
    clusterRates: quick ? [100] : [100, 1000],
    heldSubs: quick ? 2000 : 100000,
    heldPoints: [],
    heldRate: quick ? 500 : 1000,
    heldExpires: { min: 600, max: 3600 },
    heldFillRate: quick ? 1000 : 2000,
    heldSettleS: quick ? 2 : 5,
    heldPrime: quick ? 1000 : 5000,
    heldParts: ['search', 'cpu'],
  };
  const need = (i: number): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${argv[i]} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--quick':
        break;
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      case '--target':
        o.target = { kind: 'external', address: parseAddress(need(i++)) };
        break;
      case '--vs': {
        const v = need(i++);
        o.vs = v === 'kamailio' ? { kind: 'kamailio' } : v.startsWith('floor') ? parseFloor(v) : { kind: 'external', address: parseAddress(v) };
        break;
      }
      case '--only': {
        const names = need(i++).split(',').map((s) => s.trim());
        for (const n of names) if (!ALL_STEPS.includes(n as StepName)) throw new Error(`unknown step "${n}"\n${USAGE}`);
        o.steps = ALL_STEPS.filter((s) => names.includes(s));
        break;
      }
      case '--transports': {
        const names = need(i++).split(',').map((s) => s.trim());
        if (names.some((n) => n !== 'udp' && n !== 'tcp')) throw new Error(`transports are udp and tcp\n${USAGE}`);
        o.transports = names as Transport[];
        break;
      }
      case '--ours-processes':
        o.oursProcesses = Math.max(1, Math.floor(Number(need(i++))));
        break;
      case '--sipp-socket-per-call':
        o.sippSocketPerCall = true;
        break;
      case '--cluster-nodes':
        o.clusterNodes = Math.max(2, Math.floor(Number(need(i++))));
        break;
      case '--cluster-subs':
        o.clusterSubsPerNode = Number(need(i++));
        break;
      case '--cluster-rates':
        o.clusterRates = numberList(need(i++));
        break;
      case '--reps':
        o.reps = Math.max(1, Math.floor(Number(need(i++))));
        break;
      case '--out':
        o.outDir = need(i++);
        break;
      case '--rate-duration':
        o.rateDurationS = Number(need(i++));
        break;
      case '--rate-start':
        o.rateStart = Number(need(i++));
        break;
      case '--rate-max':
        o.rateMax = Number(need(i++));
        break;
      case '--rate-res':
        o.rateResolution = Number(need(i++));
        break;
      case '--fan-subs':
        o.fanSubs = Number(need(i++));
        break;
      case '--fan-resources':
        o.fanResources = Number(need(i++));
        break;
      case '--publish-gap':
        o.publishGapMs = Number(need(i++));
        if (!Number.isFinite(o.publishGapMs) || o.publishGapMs < 0) throw new Error(`--publish-gap needs milliseconds, got "${argv[i]}"`);
        break;
      case '--fan-rates': {
        // `none`: only the burst (e.g. to measure it again on its own).
        const v = need(i++);
        o.fanPublishRates = v === 'none' ? [] : numberList(v);
        break;
      }
      case '--burst-watchers':
        o.burstWatchers = Number(need(i++));
        break;
      case '--memory-points':
        o.memoryPoints = numberList(need(i++)).sort((x, y) => x - y);
        break;
      case '--restart-subs':
        o.restartSubs = Number(need(i++));
        break;
      case '--storm-watchers':
        o.stormWatchers = Number(need(i++));
        break;
      case '--storm-window':
        o.stormWindowS = Number(need(i++));
        break;
      case '--fill-rate':
        o.fanFillRate = o.burstFillRate = o.memoryFillRate = o.stormFillRate = o.restartFillRate = Number(need(i++));
        break;
      case '--burst-fill-rate':
        o.burstFillRate = Number(need(i++));
        break;
      case '--memory-late':
        o.memoryLateS = Number(need(i++));
        break;
      case '--cpu-prof':
        o.cpuProfDir = need(i++);
        break;
      case '--server-node-args':
        o.serverNodeArgs = need(i++).split(' ').filter(Boolean);
        break;
      case '--server-env':
        for (const pair of need(i++).split(' ').filter(Boolean)) {
          const eq = pair.indexOf('=');
          if (eq < 1) throw new Error(`--server-env wants NAME=value pairs, got "${pair}"`);
          o.serverEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        break;
      case '--idle-conns':
        o.idleConns = Number(need(i++));
        break;
      case '--idle-kinds': {
        const kinds = need(i++).split(',').map((k) => k.trim());
        if (kinds.some((k) => k !== 'tcp' && k !== 'tls' && k !== 'ws')) throw new Error(`--idle-kinds takes tcp, tls, ws\n${USAGE}`);
        o.idleKinds = kinds as BenchOptions['idleKinds'];
        break;
      }
      case '--stream-loaders':
        o.streamLoaders = Math.max(1, Math.floor(Number(need(i++))));
        break;
      case '--stream-conns':
        o.streamConns = Math.max(1, Math.floor(Number(need(i++))));
        break;
      case '--tls-handshakes':
        o.tlsHandshakes = Number(need(i++));
        break;
      case '--noise-wait':
        o.noiseWaitS = Number(need(i++));
        break;
      case '--held':
        o.heldSubs = positiveInt(a, need(i++));
        break;
      case '--held-points':
        o.heldPoints = heldPointList(need(i++));
        break;
      case '--held-rate':
        o.heldRate = positiveInt(a, need(i++));
        break;
      case '--held-expires':
        o.heldExpires = expiresRange(need(i++));
        break;
      case '--held-fill-rate':
        o.heldFillRate = positiveInt(a, need(i++));
        break;
      case '--held-settle':
        o.heldSettleS = Number(need(i++));
        if (!Number.isFinite(o.heldSettleS) || o.heldSettleS < 0) throw new Error(`--held-settle wants seconds >= 0\n${USAGE}`);
        break;
      case '--held-prime':
        o.heldPrime = Number(need(i++));
        if (!Number.isInteger(o.heldPrime) || o.heldPrime < 0) throw new Error(`--held-prime wants a whole number >= 0\n${USAGE}`);
        break;
      case '--held-parts': {
        const parts = need(i++).split(',').map((p) => p.trim());
        if (parts.length === 0 || parts.some((p) => p !== 'search' && p !== 'cpu')) throw new Error(`--held-parts takes search, cpu\n${USAGE}`);
        o.heldParts = parts as BenchOptions['heldParts'];
        break;
      }
      default:
        throw new Error(`unknown option "${a}"\n${USAGE}`);
    }
  }
  // The CPU curve's points follow --held unless given: 0, a tenth, a half, all of it (--quick: 0 and all of it).
  if (o.heldPoints.length === 0) {
    o.heldPoints = [...new Set(quick ? [0, o.heldSubs] : [0, Math.round(o.heldSubs / 10), Math.round(o.heldSubs / 2), o.heldSubs])];
  }
  return o;
}

function positiveInt(flag: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} wants a positive whole number, got "${s}"\n${USAGE}`);
  return n;
}

/** `0,10000,50000,100000`: held counts, 0 allowed, sorted, no repeats. */
export function heldPointList(s: string): number[] {
  const out = s.split(',').map((x) => Number(x.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`expected a list of whole numbers >= 0, got "${s}"`);
  return [...new Set(out)].sort((x, y) => x - y);
}

/** `600-3600`: the Expires range of held subscriptions in seconds, at least 60 (our server's default minimum). */
export function expiresRange(s: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(s.trim());
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 60 || max < min || max > 3600) throw new Error(`--held-expires wants MIN-MAX seconds within 60-3600, got "${s}"`);
  return { min, max };
}
