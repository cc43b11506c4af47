import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNotifies, readPublishTimes, waveFigures, WAVES, type NotifyArrival, type Wave, type WaveFigures } from '../fanout-analysis.js';
import type { Transport } from '../options.js';
import { CpuWindow, median, round, type RunContext } from '../run-context.js';
import { extensionsCsv, type SippRun } from '../sipp-run.js';
import { RedisServer } from '../redis-server.js';
import { PistonTarget } from '../targets.js';
import { sleep } from '../sleep.js';
import { CLK_TCK, udpDrops } from '../proc-stats.js';
import { metricBy, metricSum, scrapeMetrics, type MetricSample } from '../node-metrics.js';
import { readNotifyLedger, unexplainedMissing, type NotifyLedger } from '../notify-ledger.js';
import { fanoutRun, type FanoutResult } from './fanout.js';

/**
 * The cluster step (issue 22 item 6): one redis-server and `nodes` servers in cluster mode on this machine. Every node
 * gets `subsPerNode` watchers (watch-two.xml) over the same `resources` extensions; the extensions are split over the
 * nodes and each node gets the PUBLISHes (publish.xml) of its share, at `publishRate` / nodes, so every change is
 * NOTIFYed by its own node to a third of its watchers and by the other nodes, through Redis, to the rest. Latency is
 * PUBLISH send -> NOTIFY arrival, split into same-node and cross-node by where the extension was published. A single
 * node (not in cluster mode) with `subsPerNode` watchers at the same PUBLISH rate runs in the same invocation as the
 * reference: each cluster node sends as many NOTIFYs as it does.
 */

export interface ClusterPlan {
  nodes: number;
  subsPerNode: number;
  resources: number;
  publishRate: number;
  fillRate: number;
  gapMs: number;
}

export interface ClusterNodeFigures {
  node: string;
  established: number;
  receivedNotifies: number;
  expectedNotifies: number;
  serverCpuS: number;
  /** Server CPU over the NOTIFYs expected (2 per watcher), as the single node's figure. */
  cpuUsPerNotify: number | null;
  /** Server CPU over the NOTIFYs the node really sent (fewer when changes coalesced). */
  cpuUsPerSentNotify: number | null;
  /**
   * Where the NOTIFYs went, publish phase only: what the node says it sent and what failed (its /metrics, read once
   * the watchers were quiet and again after Timer F), what the watchers logged (notify-ledger.ts), the kernel's
   * receive-buffer drops on the node's and the watchers' sockets, and what the node made of the change stream.
   */
  breakdown: NodeBreakdown;
}

export interface NodeBreakdown {
  /** NOTIFY transactions the node started (piston_notify_sent_total); null when /metrics did not answer. */
  sent: number | null;
  /** Of those, failed (timeout, transport error, error response), by failure. */
  failed: Record<string, number>;
  /** sent - failed: answered by a watcher. */
  answered: number | null;
  ledger: NotifyLedger;
  /** 2 per watcher, less what arrived, less one per coalesced watcher: NOTIFYs neither seen nor coalesced. */
  lost: number;
  /** Watchers whose lamp is wrong at the end (last NOTIFY not terminated, or none). */
  wrongLamps: number;
  nodeSocketDrops: number;
  watcherSocketDrops: number;
  subscriptionsBefore: number | null;
  subscriptionsAfter: number | null;
  /** piston_cluster_changes_total by outcome (applied, own, older, ...). */
  changes: Record<string, number>;
  /** piston_publish_total by status. */
  publishes: Record<string, number>;
}

export interface ClusterResult {
  target: 'cluster';
  rep: number;
  transport: Transport;
  plan: ClusterPlan;
  perNode: ClusterNodeFigures[];
  /** Worse wave of each kind, all nodes' watchers together. */
  crossNode: Record<Wave, WaveFigures>;
  sameNode: Record<Wave, WaveFigures>;
  /** NOTIFYs neither seen by a watcher nor coalesced (NodeBreakdown.lost), all nodes. */
  lostNotifies: number;
  /** Watchers whose two changes came as one NOTIFY (RFC 6665 §4.2.2 coalescing; the lamp right), all nodes. */
  coalescedNotifies: number;
  /** Watchers with a wrong lamp at the end, all nodes. */
  wrongLamps: number;
  failedCalls: number;
  redis: {
    cpuS: number;
    bytesPerSubscription: number | null;
    bytesPerResource: number | null;
    keys: number;
    /** Over the publish phase, per PUBLISH sent: commands Redis ran, bytes it read and wrote. */
    commandsPerPublish: number | null;
    inBytesPerPublish: number | null;
    outBytesPerPublish: number | null;
  };
  /** The single node of the same invocation. */
  single: FanoutResult | null;
}

/** A cluster node: our server with a label of its own, the Redis URL and its node name. */
class ClusterNodeTarget extends PistonTarget {
  override readonly label: string;
  override readonly canRestart = false;

  constructor(ctx: RunContext, name: string, redisUrl: string) {
    super(ctx.registry, ctx.outDir);
    this.label = name;
    this.env = { PISTON_CLUSTER_REDIS_URL: redisUrl, PISTON_NODE_NAME: name };
  }
}

/** The part of the extensions csv whose index is `part` modulo `parts` (the extensions published on one node). */
export function extensionsCsvPart(outDir: string, count: number, part: number, parts: number): { file: string; extensions: string[] } {
  const extensions: string[] = [];
  for (let i = part; i < count; i += parts) extensions.push(String(1000 + i));
  const file = resolve(outDir, `ext${count}-part${part + 1}of${parts}.csv`);
  writeFileSync(file, ['SEQUENTIAL', ...extensions.map((e) => `${e};`)].join('\n') + '\n');
  return { file, extensions };
}

/** Figures of NOTIFYs split by whether the extension was published on the watcher's own node. */
export function splitByNode(
  pubs: Map<string, number>,
  publishedOn: Map<string, number>,
  notifies: readonly Record<Wave, NotifyArrival[]>[],
  watchersPerResource: number,
  nodes = notifies.length,
): { same: Record<Wave, WaveFigures>; cross: Record<Wave, WaveFigures> } {
  const same = {} as Record<Wave, WaveFigures>;
  const cross = {} as Record<Wave, WaveFigures>;
  for (const st of WAVES) {
    const s: NotifyArrival[] = [];
    const c: NotifyArrival[] = [];
    notifies.forEach((byWave, node) => {
      for (const n of byWave[st]) (publishedOn.get(n.ext) === node ? s : c).push(n);
    });
    same[st] = waveFigures(pubs, st, s, watchersPerResource);
    // A change reaches a resource's watchers on every other node: nodes - 1 times as many as on its own.
    cross[st] = waveFigures(pubs, st, c, watchersPerResource * (nodes - 1));
  }
  return { same, cross };
}

export async function clusterRun(ctx: RunContext, rep: number, plan: ClusterPlan, transport: Transport = 'udp'): Promise<ClusterResult> {
  const tag = `cluster-${plan.publishRate}-${transport}-rep${rep}`;
  const csv = extensionsCsv(ctx.outDir, plan.resources);
  const parts = Array.from({ length: plan.nodes }, (_, i) => extensionsCsvPart(ctx.outDir, plan.resources, i, plan.nodes));
  const publishedOn = new Map<string, number>();
  parts.forEach((p, i) => p.extensions.forEach((e) => publishedOn.set(e, i)));

  // The reference first, alone on the machine: a single node, not in cluster mode, the same per-node load.
  const single = new PistonTarget(ctx.registry, ctx.outDir);
  const singleResult = await fanoutRun(ctx, single, transport, rep, {
    label: `single-${plan.publishRate}/s`, subs: plan.subsPerNode, resources: plan.resources, publishRate: plan.publishRate,
    fillRate: plan.fillRate, gapMs: plan.gapMs,
  });

  await ctx.noiseGate();
  const redis = new RedisServer(ctx.registry, join(ctx.outDir, 'redis', tag));
  await redis.start();
  const nodes = Array.from({ length: plan.nodes }, (_, i) => new ClusterNodeTarget(ctx, `node${i + 1}`, redis.url));
  const watchers: SippRun[] = [];
  try {
    for (const n of nodes) await n.start(tag);
    await sleep(1000);
    const memEmpty = await redis.usedMemory();
    const fillS = Math.ceil(plan.subsPerNode / plan.fillRate);
    const waitMs = (fillS * plan.nodes + 60) * 1000 + plan.gapMs + Math.ceil((plan.resources / plan.publishRate) * 1000) + 60_000;
    // One node at a time: the fill is not what is measured, and three fills at once on two cores retransmit.
    for (const n of nodes) {
      const w = await ctx.sipp(n, `${tag}-watch`, 'watch-two.xml', transport, [
        '-inf', csv, '-key', 'wp', 'f',
        '-m', String(plan.subsPerNode), '-r', String(plan.fillRate), '-l', String(plan.subsPerNode + 100),
        '-recv_timeout', String(waitMs), '-timeout', `${Math.ceil(waitMs / 1000) + 60}s`, '-trace_logs',
      ]);
      watchers.push(w);
      const deadline = Date.now() + (fillS * 3 + 30) * 1000;
      while (Date.now() < deadline && w.alive() && w.countLog('SUB') < plan.subsPerNode) await sleep(500);
    }
    const established = watchers.map((w) => w.countLog('SUB'));
    ctx.log(`  cluster ${plan.publishRate}/s ${transport}: ${established.join('/')} subscriptions established on ${nodes.map((n) => n.label).join(', ')}`);
    await sleep(3000);
    const memSubs = await redis.usedMemory();
    const keys0 = await redis.keys();
    const metrics0 = await Promise.all(nodes.map((n) => scrapeMetrics(n.apiPort)));
    const nodeDrops0 = nodes.map((n) => udpDrops(n.port));
    const watcherDrops0 = watchers.map((w) => udpDrops(w.localPort));
    const cpu = nodes.map((n) => new CpuWindow(n));
    const redisCpu0 = redis.cpuTicks();
    const stats0 = await redis.stats();
    // Each node PUBLISHes its share of the extensions at its share of the rate (-r per -rp ms keeps fractions).
    const pubs = await Promise.all(
      nodes.map((n, i) =>
        ctx.sipp(n, `${tag}-pub`, 'publish.xml', transport, [
          '-inf', parts[i]!.file, '-m', String(parts[i]!.extensions.length), '-r', String(plan.publishRate), '-rp', String(1000 * plan.nodes),
          '-l', String(parts[i]!.extensions.length), '-d', String(plan.gapMs), '-recv_timeout', '30000', '-timeout', '300s', '-trace_logs',
        ]),
      ),
    );
    const pubOuts = await Promise.all(pubs.map((p) => p.wait(320_000)));
    const expected = established.map((e) => 2 * e);
    // Until every watcher has its two NOTIFYs, or none has arrived for QUIET_MS (watchers whose two changes
    // coalesced into one NOTIFY wait for a second that is not coming), or 120 s.
    const drainDeadline = Date.now() + 120_000;
    let seen = -1;
    let quietSince = Date.now();
    while (Date.now() < drainDeadline && watchers.some((w, i) => w.alive() && w.countLog('NOT') < expected[i]!)) {
      const now = watchers.reduce((a, w) => a + w.countLog('NOT'), 0);
      if (now !== seen) {
        seen = now;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= QUIET_MS) break;
      await sleep(250);
    }
    const nodeDrops = nodes.map((n, i) => udpDrops(n.port) - nodeDrops0[i]!);
    const watcherDrops = watchers.map((w, i) => udpDrops(w.localPort) - watcherDrops0[i]!);
    const pubCpuS = pubOuts.reduce((s, o) => s + o.cpuS, 0);
    const windows = cpu.map((c) => c.end(pubCpuS));
    const redisCpuS = (redis.cpuTicks() - redisCpu0) / CLK_TCK;
    const stats1 = await redis.stats();
    const memAfter = await redis.usedMemory();
    const keys = await redis.keys();
    await Promise.all(watchers.map((w) => w.wait(30_000)));
    // Read after the watchers' wait: at least QUIET_MS + 30 s after the last NOTIFY arrived, so a NOTIFY still being
    // retransmitted then has reached Timer F (32 s) and is counted as failed.
    const metrics1 = await Promise.all(nodes.map((n) => scrapeMetrics(n.apiPort)));

    const pubTimes = new Map<string, number>();
    for (const p of pubs) readPublishTimes(p.logFile()!, pubTimes);
    const notifies = watchers.map((w) => readNotifies(w.logFile()!));
    const wpr = plan.subsPerNode / plan.resources;
    const { same, cross } = splitByNode(pubTimes, publishedOn, notifies, wpr, plan.nodes);
    const received = watchers.map((w) => w.countLog('NOT'));
    const perNode = nodes.map((n, i): ClusterNodeFigures => {
      const breakdown = nodeBreakdown(metrics0[i]!, metrics1[i]!, readNotifyLedger(watchers[i]!.logFile()!), nodeDrops[i]!, watcherDrops[i]!);
      return {
        node: n.label,
        established: established[i]!,
        receivedNotifies: received[i]!,
        expectedNotifies: 2 * plan.subsPerNode,
        serverCpuS: windows[i]!.serverS,
        cpuUsPerNotify: received[i]! > 0 ? round((windows[i]!.serverS * 1e6) / (2 * plan.subsPerNode), 1) : null,
        cpuUsPerSentNotify: breakdown.sent ? round((windows[i]!.serverS * 1e6) / breakdown.sent, 1) : null,
        breakdown,
      };
    });
    const publishes = 2 * plan.resources;
    const totalSubs = established.reduce((a, b) => a + b, 0);
    const res: ClusterResult = {
      target: 'cluster', rep, transport, plan, perNode, crossNode: cross, sameNode: same,
      lostNotifies: perNode.reduce((s, n) => s + n.breakdown.lost, 0),
      coalescedNotifies: perNode.reduce((s, n) => s + n.breakdown.ledger.coalesced, 0),
      wrongLamps: perNode.reduce((s, n) => s + n.breakdown.wrongLamps, 0),
      failedCalls: pubOuts.reduce((s, o) => s + o.stats.failed, 0),
      redis: {
        cpuS: round(redisCpuS, 3),
        bytesPerSubscription: totalSubs > 0 ? Math.round((memSubs - memEmpty) / totalSubs) : null,
        bytesPerResource: Math.round((memAfter - memSubs) / plan.resources),
        keys,
        commandsPerPublish: round((stats1.commands - stats0.commands) / publishes, 1),
        inBytesPerPublish: Math.round((stats1.inBytes - stats0.inBytes) / publishes),
        outBytesPerPublish: Math.round((stats1.outBytes - stats0.outBytes) / publishes),
      },
      single: singleResult,
    };
    ctx.record({ test: 'cluster', ...res, single: undefined, keysBeforePublish: keys0 });
    const w = (x: WaveFigures): string => `n=${x.notifies}/${x.expected} p50/p99=${x.p50Ms}/${x.p99Ms}ms`;
    ctx.log(
      `  cluster ${plan.publishRate}/s ${transport}: cross-node confirmed ${w(cross.confirmed)} terminated ${w(cross.terminated)}; ` +
        `same-node confirmed ${w(same.confirmed)} terminated ${w(same.terminated)}; lost=${res.lostNotifies} ` +
        `coalesced=${res.coalescedNotifies} wrong-lamps=${res.wrongLamps} failed=${res.failedCalls}; ` +
        `cpu/NOTIFY ${perNode.map((n) => `${n.node}=${n.cpuUsPerNotify}us`).join(' ')}; redis cpu=${res.redis.cpuS}s ` +
        `${res.redis.bytesPerSubscription} B/sub ${res.redis.bytesPerResource} B/resource ${res.redis.commandsPerPublish} cmds/PUBLISH`,
    );
    for (const n of perNode) ctx.log(`    ${n.node}: ${describeBreakdown(n.breakdown)}`);
    return res;
  } finally {
    for (const w of watchers) if (w.alive()) await w.stopNow();
    for (const n of nodes) await n.stop();
    await redis.stop();
  }
}

/** No NOTIFY for this long while some watcher still waits: the nodes have sent what they will send. */
const QUIET_MS = 15_000;

/** A node's breakdown from its metrics before and after the publish phase and its watchers' ledger. */
export function nodeBreakdown(before: readonly MetricSample[], after: readonly MetricSample[], ledger: NotifyLedger, nodeSocketDrops: number, watcherSocketDrops: number): NodeBreakdown {
  const scraped = before.length > 0 && after.length > 0;
  const delta = (name: string, label: string): Record<string, number> => {
    const b = metricBy(before, name, label);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(metricBy(after, name, label))) if (v - (b[k] ?? 0) !== 0) out[k] = v - (b[k] ?? 0);
    return out;
  };
  const sent = scraped ? metricSum(after, 'piston_notify_sent_total') - metricSum(before, 'piston_notify_sent_total') : null;
  const failed = scraped ? delta('piston_notify_failed_total', 'failure') : {};
  const failedSum = Object.values(failed).reduce((a, b) => a + b, 0);
  return {
    sent,
    failed,
    answered: sent === null ? null : sent - failedSum,
    ledger,
    lost: unexplainedMissing(ledger),
    wrongLamps: ledger.stale + ledger.none,
    nodeSocketDrops,
    watcherSocketDrops,
    subscriptionsBefore: before.length ? metricSum(before, 'piston_subscriptions') : null,
    subscriptionsAfter: after.length ? metricSum(after, 'piston_subscriptions') : null,
    changes: scraped ? delta('piston_cluster_changes_total', 'outcome') : {},
    publishes: scraped ? delta('piston_publish_total', 'status') : {},
  };
}

/** One line: sent vs answered vs received vs coalesced vs lost, and where a loss could have happened. */
export function describeBreakdown(b: NodeBreakdown): string {
  const l = b.ledger;
  const kv = (o: Record<string, number>): string => Object.entries(o).map(([k, v]) => `${k}=${v}`).join(',') || 'none';
  return (
    `NOTIFY sent=${b.sent ?? 'n/a'} answered=${b.answered ?? 'n/a'} failed=${kv(b.failed)}; watchers=${l.watchers} received=${l.received} ` +
    `(both=${l.both}, of them terminated twice=${l.twiceTerminated}; coalesced=${l.coalesced}; stale=${l.stale}; none=${l.none}) ` +
    `lost=${b.lost} wrong-lamps=${b.wrongLamps}; udp drops node/watchers=${b.nodeSocketDrops}/${b.watcherSocketDrops}; ` +
    `subscriptions ${b.subscriptionsBefore ?? 'n/a'}->${b.subscriptionsAfter ?? 'n/a'}; stream ${kv(b.changes)}; PUBLISH ${kv(b.publishes)}`
  );
}

/** Worse wave's figure. */
function worse(f: Record<Wave, WaveFigures>, key: 'p50Ms' | 'p99Ms'): number | null {
  const v = WAVES.map((w) => f[w][key]).filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
}

function singleWorse(r: FanoutResult | null, key: 'p50Ms' | 'p99Ms'): number | null {
  return r ? worse(r.waves, key) : null;
}

/** The cluster table (medians over reps): cluster against the single node of the same invocation, with the targets. */
export function clusterReport(results: ClusterResult[]): string {
  if (results.length === 0) return '';
  const L: string[] = ['| figure | cluster | single node | target | verdict |', '|---|---|---|---|---|'];
  const rates = [...new Set(results.map((r) => r.plan.publishRate))].sort((a, b) => a - b);
  const f = (x: number | null, unit: string): string => (x === null ? 'n/a' : `${round(x, 1)} ${unit}`.trim());
  for (const rate of rates) {
    const rs = results.filter((r) => r.plan.publishRate === rate);
    const p = rs[0]!.plan;
    const head = `${p.nodes} nodes x ${p.subsPerNode} subs / ${p.resources} resources, PUBLISH ${rate}/s ${rs[0]!.transport.toUpperCase()}`;
    const cross99 = median(rs.map((r) => worse(r.crossNode, 'p99Ms')));
    const single99 = median(rs.map((r) => singleWorse(r.single, 'p99Ms')));
    const gate = rate >= 1000;
    const ok99 = cross99 !== null && single99 !== null ? cross99 <= single99 + 5 : null;
    L.push(`| ${head}: cross-node p50 (worse wave) | ${f(median(rs.map((r) => worse(r.crossNode, 'p50Ms'))), 'ms')} | ${f(median(rs.map((r) => singleWorse(r.single, 'p50Ms'))), 'ms')} | | |`);
    L.push(`|   cross-node p99 (worse wave) | ${f(cross99, 'ms')} | ${f(single99, 'ms')} | ${gate ? '<= single + 5 ms' : ''} | ${gate ? (ok99 === null ? 'not measured' : ok99 ? 'met' : '**missed**') : ''} |`);
    L.push(`|   same-node p99 (worse wave) | ${f(median(rs.map((r) => worse(r.sameNode, 'p99Ms'))), 'ms')} | | | |`);
    const cpuNode = median(rs.flatMap((r) => r.perNode.map((n) => n.cpuUsPerNotify)));
    const cpuSingle = median(rs.map((r) => r.single?.cpuUsPerNotify));
    const okCpu = cpuNode !== null && cpuSingle !== null ? cpuNode <= 1.2 * cpuSingle : null;
    L.push(`|   CPU per NOTIFY, per node (median of nodes) | ${f(cpuNode, 'us')} | ${f(cpuSingle, 'us')} | <= 1.2x single | ${okCpu === null ? 'not measured' : okCpu ? 'met' : '**missed**'} |`);
    L.push(`|   lost NOTIFYs (not coalesced) + wrong lamps + failed PUBLISH calls | ${f(median(rs.map((r) => r.lostNotifies + r.wrongLamps + r.failedCalls)), '')} | ${f(median(rs.map((r) => (r.single ? r.single.lostNotifies + r.single.failedCalls : null))), '')} | 0 | ${median(rs.map((r) => r.lostNotifies + r.wrongLamps + r.failedCalls)) === 0 ? 'met' : '**missed**'} |`);
    L.push(`|   watchers whose two changes came as one NOTIFY (coalesced, lamp right) | ${f(median(rs.map((r) => r.coalescedNotifies)), '')} | | | |`);
    L.push(`|   Redis: CPU in the publish phase | ${f(median(rs.map((r) => r.redis.cpuS)), 's')} | | | |`);
    L.push(`|   Redis: memory per subscription / per resource | ${f(median(rs.map((r) => r.redis.bytesPerSubscription)), 'B')} / ${f(median(rs.map((r) => r.redis.bytesPerResource)), 'B')} | | | |`);
    L.push(`|   Redis: commands, bytes in, bytes out per PUBLISH | ${f(median(rs.map((r) => r.redis.commandsPerPublish)), '')}, ${f(median(rs.map((r) => r.redis.inBytesPerPublish)), 'B')}, ${f(median(rs.map((r) => r.redis.outBytesPerPublish)), 'B')} | | | |`);
  }
  return L.join('\n');
}
