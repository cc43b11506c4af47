import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { CpuWindow, round, type RunContext } from '../run-context.js';
import { extensionsCsv } from '../sipp-run.js';
import { troubles } from '../sipp-stats.js';
import { cpuTicks, CLK_TCK } from '../proc-stats.js';
import { startTw, type TwPorts } from '../tw-targets.js';
import { repoRoot, type Target } from '../targets.js';
import { searchMaxRate } from './rate.js';
import { sleep } from '../sleep.js';

/**
 * The transport and trust steps (issue 20 item 5, issue 19 item 8), each against a fresh server per measurement:
 *   tls-rate, ws-rate  highest SUBSCRIBE rate over one TLS / one WebSocket connection (bench/stream-load.ts, since
 *                      SIPp cannot): every call done (2xx + first NOTIFY answered), none failed, within
 *                      1.05 x duration + 0.5 s. Doubling, then bisection, as the UDP/TCP rate step.
 *   idle-conns         server memory per idle connection: N TCP, TLS and WS connections from 127.0.0.2-5
 *                      (ours: VmRSS; Kamailio: PSS summed over its processes), after a settle time.
 *   tls-handshakes     full TLS handshakes per second (64 at once, each closed when established), server CPU each.
 *   auth-rate          highest SUBSCRIBE rate with digest (SIPp over UDP answering every 401 with -au/-ap):
 *                      ours with PISTON_SIP_AUTH=digest and a provisioned device, Kamailio with auth_db.
 */

const generator = join(repoRoot, 'dist', 'bench', 'stream-load.js');
export const AUTH_DEVICE = { username: '1001', password: 'bench-digest-1001', realm: '127.0.0.1' };

export interface TwRateStep {
  rate: number;
  pass: boolean;
  why: string;
  success: number;
  durationS: number;
  serverCpuS: number;
  cpuUsPerSub: number | null;
  clientCpuS: number;
  otherCores: number;
  p99Ms: number | null;
}

export interface TwRateResult {
  target: string;
  kind: 'tls' | 'ws' | 'auth-udp';
  rep: number;
  maxRate: number;
  firstFail: number | null;
  cpuUsPerSub: number | null;
  steps: TwRateStep[];
}

export interface IdleConnResult {
  target: string;
  kind: 'tcp' | 'tls' | 'ws';
  rep: number;
  requested: number;
  held: number;
  openS: number;
  baseKiB: number | null;
  loadedKiB: number | null;
  bytesPerConn: number | null;
  droppedByServer: number | null;
  errors: Record<string, number>;
}

export interface HandshakeResult {
  target: string;
  rep: number;
  count: number;
  ok: number;
  perS: number;
  serverCpuS: number;
  cpuUsPerHandshake: number | null;
}

export interface TwResults {
  rate: TwRateResult[];
  idle: IdleConnResult[];
  handshakes: HandshakeResult[];
}

/** Runs bench/stream-load.js as a registered child; resolves with its JSON lines and its CPU seconds. */
function runGenerator(ctx: RunContext, args: string[], maxMs: number, onLine?: (o: Record<string, unknown>) => void): { done: Promise<{ lines: Record<string, unknown>[]; cpuS: number; code: number | null }>; stop(): void; pid: number } {
  const { child, exited } = ctx.registry.spawn(process.execPath, [generator, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }, 'stream-load.js');
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      lines.push(o);
      onLine?.(o);
    } catch {
      /* not ours */
    }
  });
  let cpu = 0;
  const sampler = setInterval(() => {
    const c = cpuTicks([child.pid!]);
    if (c > 0) cpu = c;
  }, 200);
  const killer = setTimeout(() => void ctx.registry.stop(child.pid!, 'SIGTERM', 3000), maxMs);
  const done = exited.then((code) => {
    clearInterval(sampler);
    clearTimeout(killer);
    if (code !== 0 && stderr) ctx.log(`  stream-load exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return { lines, cpuS: cpu / CLK_TCK, code };
  });
  return { done, stop: () => child.stdin!.end(), pid: child.pid! };
}

async function streamRateStep(ctx: RunContext, target: Target, kind: 'tls' | 'ws', rep: number, rate: number): Promise<TwRateStep> {
  const d = ctx.opts.rateDurationS;
  const calls = Math.round(rate * d);
  const noise = await ctx.noiseGate();
  const { ports } = await startTw(target, ctx.outDir, `${kind}rate-${rep}-${rate}`);
  try {
    const cpu = new CpuWindow(target);
    // --stream-loaders N: N loader processes at rate/N each (calls split evenly), so one process's core is not the limit.
    const n = Math.max(1, ctx.opts.streamLoaders);
    const gs = Array.from({ length: n }, (_, i) => runGenerator(ctx, [
      'subscribe', '--kind', kind, '--port', String(ports[kind]), '--rate', String(rate / n),
      '--calls', String(Math.floor(calls / n) + (i < calls % n ? 1 : 0)), '--extensions', '1000', '--conns', String(ctx.opts.streamConns),
      ...(i > 0 ? ['--prefix', `w${i}x`] : []),
    ], (d + 30) * 1000));
    const rs = await Promise.all(gs.map((g) => g.done));
    const clientS = rs.reduce((t, r) => t + r.cpuS, 0);
    const c = cpu.end(clientS);
    const os = rs.map((r) => r.lines.find((l) => l.mode === 'subscribe') ?? {});
    const success = os.reduce((t, o) => t + Number(o.success ?? 0), 0);
    const failed = os.reduce((t, o) => t + Number(o.failed ?? 0), 0);
    const durationS = Math.max(...os.map((o) => Number(o.durationS ?? 0)));
    const why: string[] = [];
    if (success !== calls) why.push(`${success}/${calls} calls ok`);
    if (failed > 0) why.push(`failed ${os.map((o) => JSON.stringify(o.failures)).join(' ')}`);
    if (durationS > d * 1.05 + 0.5) why.push(`late: ${durationS}s`);
    const codes = rs.map((r) => r.code).filter((x) => x !== 0);
    if (codes.length > 0) why.push(`generator exit ${codes.join(', ')}`);
    const closedAt = os.flatMap((o) => (o.closedByServerAtS as number[] | undefined) ?? []);
    if (closedAt.length > 0) why.push(`server closed the connection at ${closedAt.join(', ')} s`);
    // The worst loader's p99 (the percentiles of separate processes do not merge exactly).
    const p99s = os.map((o) => o.p99Ms as number | null).filter((x): x is number => typeof x === 'number');
    const res: TwRateStep = {
      rate, pass: why.length === 0, why: why.join(', '), success, durationS, serverCpuS: c.serverS,
      cpuUsPerSub: success > 0 ? round((c.serverS * 1e6) / success, 1) : null, clientCpuS: round(clientS, 2), otherCores: c.otherCores,
      p99Ms: p99s.length > 0 ? Math.max(...p99s) : null,
    };
    ctx.record({ test: 'tw_rate_step', target: target.label, kind, rep, noiseBefore: noise, loaders: n, connsPerLoader: ctx.opts.streamConns, ...res });
    ctx.log(`  ${target.label} ${kind}-rate r=${rate}: ${res.pass ? 'PASS' : 'FAIL'} ok=${success}/${calls} dur=${durationS}s cpu=${c.serverS}s (${res.cpuUsPerSub} us/sub) client=${res.clientCpuS}s p99=${res.p99Ms}ms noise=${noise}/${c.otherCores}${res.pass ? '' : ' -- ' + res.why}`);
    return res;
  } finally {
    await target.stop();
  }
}

async function authRateStep(ctx: RunContext, target: Target, rep: number, rate: number): Promise<TwRateStep> {
  const d = ctx.opts.rateDurationS;
  const calls = Math.round(rate * d);
  const noise = await ctx.noiseGate();
  await startTw(target, ctx.outDir, `authrate-${rep}-${rate}`, { devices: [AUTH_DEVICE] });
  try {
    const cpu = new CpuWindow(target);
    // One extension per call: the device never re-subscribes to the same resource, so no subscription is replaced.
    const sipp = await ctx.sipp(target, `authrate-rep${rep}-r${rate}`, 'subscribe-auth.xml', 'udp', [
      '-inf', extensionsCsv(ctx.outDir, calls),
      '-key', 'wp', 'r', '-key', 'au', AUTH_DEVICE.username, '-au', AUTH_DEVICE.username, '-ap', AUTH_DEVICE.password,
      '-m', String(calls), '-r', String(rate), '-l', String(Math.min(15000, Math.max(1000, rate * 3))),
      '-recv_timeout', '5000', '-timeout', `${d + 15}s`,
    ]);
    const out = await sipp.wait((d + 30) * 1000, ctx.opts.rateAbort);
    const c = cpu.end(out.cpuS);
    const s = out.stats;
    const why: string[] = [];
    if (out.abortedEarly) why.push('aborted at first failure');
    if (s.success !== calls) why.push(`${s.success}/${calls} calls ok`);
    for (const [k, v] of Object.entries(troubles(s))) why.push(`${k}=${v}`);
    if (s.durationS > d * 1.05 + 0.5) why.push(`late: ${s.durationS}s`);
    const res: TwRateStep = {
      rate, pass: why.length === 0, why: why.join(', '), success: s.success, durationS: s.durationS, serverCpuS: c.serverS,
      cpuUsPerSub: s.success > 0 ? round((c.serverS * 1e6) / s.success, 1) : null, clientCpuS: round(out.cpuS, 2), otherCores: c.otherCores, p99Ms: null,
    };
    ctx.record({ test: 'auth_rate_step', target: target.label, rep, noiseBefore: noise, ...res });
    ctx.log(`  ${target.label} auth-rate UDP r=${rate}: ${res.pass ? 'PASS' : 'FAIL'} ok=${s.success}/${calls} dur=${s.durationS}s cpu=${c.serverS}s (${res.cpuUsPerSub} us/sub) sipp=${res.clientCpuS}s noise=${noise}/${c.otherCores}${res.pass ? '' : ' -- ' + res.why}`);
    return res;
  } finally {
    await target.stop();
  }
}

async function search(ctx: RunContext, target: Target, kind: TwRateResult['kind'], rep: number, step: (rate: number) => Promise<TwRateStep>): Promise<TwRateResult> {
  const { opts } = ctx;
  const { steps, lo, hi } = await searchMaxRate(opts, step);
  const best = steps.find((s) => s.pass && s.rate === lo);
  const res: TwRateResult = { target: target.label, kind, rep, maxRate: lo, firstFail: hi, cpuUsPerSub: best?.cpuUsPerSub ?? null, steps };
  ctx.record({ test: 'tw_rate_max', ...res, steps: undefined });
  ctx.log(`${target.label} ${kind} rate rep${rep}: max sustained ${lo}/s (first failing step ${hi ?? 'none'}), ${res.cpuUsPerSub} us CPU/sub`);
  return res;
}

export function streamRateSearch(ctx: RunContext, target: Target, kind: 'tls' | 'ws', rep: number): Promise<TwRateResult> {
  return search(ctx, target, kind, rep, (r) => streamRateStep(ctx, target, kind, rep, r));
}

export function authRateSearch(ctx: RunContext, target: Target, rep: number): Promise<TwRateResult> {
  return search(ctx, target, 'auth-udp', rep, (r) => authRateStep(ctx, target, rep, r));
}

const SOURCES = '127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5';

/**
 * The server's memory once it stops moving (two samples a second apart within 0.5 %, at most 30 s): our server's
 * start-up warm-up grows its heap for a second or more after it answers, which would be counted as connections.
 */
async function steadyMemoryKiB(target: Target): Promise<number | null> {
  let last = target.memoryKiB().value;
  for (let i = 0; i < 30; i++) {
    await sleep(1000);
    const now = target.memoryKiB().value;
    if (now !== null && last !== null && Math.abs(now - last) <= last * 0.005) return now;
    last = now;
  }
  return last;
}

export async function idleConnRun(ctx: RunContext, target: Target, kind: 'tcp' | 'tls' | 'ws', rep: number): Promise<IdleConnResult> {
  const count = ctx.opts.idleConns;
  await ctx.noiseGate();
  const { ports } = await startTw(target, ctx.outDir, `idle-${kind}-${rep}`);
  const port = kind === 'tcp' ? target.port : ports[kind as keyof TwPorts];
  try {
    const baseKiB = await steadyMemoryKiB(target);
    let ready: Record<string, unknown> | null = null;
    const g = runGenerator(ctx, ['idle', '--kind', kind, '--port', String(port), '--count', String(count), '--sources', SOURCES, '--concurrency', '64'], 600_000, (o) => {
      if (o.mode === 'idle') ready = o;
    });
    const deadline = Date.now() + 300_000;
    while (ready === null && Date.now() < deadline) await sleep(200);
    await sleep(ctx.opts.memorySettleS * 1000);
    const loadedKiB = target.memoryKiB().value;
    g.stop();
    const r = await g.done;
    const end = r.lines.find((l) => l.mode === 'idle-end');
    const got = (ready ?? {}) as Record<string, unknown>;
    // Connections the server closed before the end are not held: the memory figure would not be theirs.
    const dropped = end ? Number(end.droppedByServer) : 0;
    const held = Number(got.ready ?? 0) - dropped;
    const res: IdleConnResult = {
      target: target.label, kind, rep, requested: count, held, openS: Number(got.openS ?? 0), baseKiB, loadedKiB,
      bytesPerConn: held > 0 && baseKiB !== null && loadedKiB !== null ? Math.round(((loadedKiB - baseKiB) * 1024) / held) : null,
      droppedByServer: end ? Number(end.droppedByServer) : null, errors: (got.errors as Record<string, number>) ?? {},
    };
    ctx.record({ test: 'idle_conns', ...res });
    ctx.log(`  ${target.label} idle ${kind}: ${held}/${count} held (opened in ${res.openS}s), memory ${baseKiB} -> ${loadedKiB} KiB = ${res.bytesPerConn} B/conn; dropped by server ${res.droppedByServer}; errors ${JSON.stringify(res.errors)}`);
    return res;
  } finally {
    await target.stop();
  }
}

export async function tlsHandshakeRun(ctx: RunContext, target: Target, rep: number): Promise<HandshakeResult> {
  const count = ctx.opts.tlsHandshakes;
  await ctx.noiseGate();
  const { ports } = await startTw(target, ctx.outDir, `handshake-${rep}`);
  try {
    const cpu = new CpuWindow(target);
    const g = runGenerator(ctx, ['handshake', '--port', String(ports.tls), '--count', String(count), '--concurrency', '64', '--sources', SOURCES], 300_000);
    const r = await g.done;
    const c = cpu.end(r.cpuS);
    const o = r.lines.find((l) => l.mode === 'handshake') ?? {};
    const ok = Number(o.ok ?? 0);
    const res: HandshakeResult = {
      target: target.label, rep, count, ok, perS: Number(o.perS ?? 0), serverCpuS: c.serverS,
      cpuUsPerHandshake: ok > 0 ? round((c.serverS * 1e6) / ok, 0) : null,
    };
    ctx.record({ test: 'tls_handshakes', ...res, clientCpuS: round(r.cpuS, 2), otherCores: c.otherCores });
    ctx.log(`  ${target.label} TLS handshakes: ${ok}/${count} at ${res.perS}/s, server CPU ${c.serverS}s (${res.cpuUsPerHandshake} us each), client ${round(r.cpuS, 2)}s`);
    return res;
  } finally {
    await target.stop();
  }
}
