/**
 * PUBLISH → NOTIFY micro-benchmark (issue 5): the server's JavaScript for a state change and its fan-out, without
 * sockets, timers or SQLite, so that small changes can be compared where the SIPp runs are too noisy (six runs of
 * the same code gave 168.5-229.5 µs per NOTIFY at 100/s over UDP within 12 minutes).
 *
 * It drives the start-up rehearsal (src/main-rehearsal.ts): a fresh scratch stack per batch (createPresenceStack, as
 * main.ts builds it, with the rehearsal's phone for a network), 250 SUBSCRIBEs (50 lines, 5 watchers each), then 750
 * PUBLISHes through the real parser, UserAgentCore, PresentityService and Notifier; every NOTIFY is serialised and
 * its 200 built and parsed. Only the PUBLISH rounds are measured.
 *
 *   npm run bench:publish        (node dist/bench/publish-path.js after a build)
 *
 * Prints CPU µs per NOTIFY (user + system; the PUBLISH's own work is shared among its ~4 NOTIFYs here, 10 in the load
 * suite), best and median of the batches after warm-up, then the bytes allocated per NOTIFY in one batch's PUBLISH
 * rounds, garbage included (V8's sampling heap profiler), by allocating function (a builtin such as `Map` or `join`
 * is shown with its caller). Figures only; nothing is asserted.
 *
 *   BENCH_GAP_MS=5 npm run bench:publish      rounds 5 ms apart (a timer between them) instead of back to back
 *
 * With a gap the process sleeps between rounds, as the server does between PUBLISHes at 100/s, and on this machine
 * the same work then costs several times the CPU: what it touched is no longer in the caches (bench/README.md,
 * eighth round). Use BENCH_BATCHES=3 with it: each batch then takes seconds.
 */
import { Session } from 'node:inspector/promises';
import { createDefaultRegistry } from '../src/events/default-registry.js';
import { Rehearsal } from '../src/main-rehearsal.js';
import { sleep } from './load/sleep.js';

const SUBSCRIBE_ROUNDS = 250;
const ROUNDS = 1000;
const WARM_BATCHES = 4;
const TIMED_BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const TOP = Number(process.env.BENCH_TOP ?? 25);

const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 0);

/** Each round in a turn of its own, as main.ts runs them: NOTIFY answers settle in between; with a gap, after a sleep. */
const nextTurn = (): Promise<void> => (GAP_MS > 0 ? sleep(GAP_MS) : new Promise((resolve) => setImmediate(resolve)));

/**
 * One batch on a fresh stack (publications accumulate on a stack, so batches stay alike); returns the CPU and NOTIFYs
 * of its PUBLISH rounds, which `around` may bracket.
 */
async function batch(around?: { start(): Promise<void>; stop(): Promise<void> }): Promise<{ cpuUs: number; notified: number }> {
  const r = new Rehearsal(createDefaultRegistry());
  for (let i = 0; i < SUBSCRIBE_ROUNDS; i++) {
    r.round(i);
    await nextTurn();
  }
  await around?.start();
  const n0 = r.done.notified;
  const c0 = process.cpuUsage();
  for (let i = SUBSCRIBE_ROUNDS; i < ROUNDS; i++) {
    r.round(i);
    await nextTurn();
  }
  const c = process.cpuUsage(c0);
  const notified = r.done.notified - n0;
  await around?.stop();
  r.dispose();
  return { cpuUs: c.user + c.system, notified };
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** Bytes by allocating function; a builtin (no script) is charged as `builtin ← caller`. */
function bytesByFunction(head: SamplingNode): Map<string, number> {
  const out = new Map<string, number>();
  const name = (n: SamplingNode): string => {
    const f = n.callFrame;
    return f.url === '' ? f.functionName || '(anonymous)' : `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  };
  const stack: [SamplingNode, SamplingNode | undefined][] = [[head, undefined]];
  while (stack.length > 0) {
    const [n, parent] = stack.pop()!;
    if (n.selfSize > 0) {
      const key = n.callFrame.url === '' && parent !== undefined ? `${name(n)} ← ${name(parent)}` : name(n);
      out.set(key, (out.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) stack.push([c, n]);
  }
  return out;
}

for (let b = 0; b < WARM_BATCHES; b++) await batch();
const perNotify: number[] = [];
for (let b = 0; b < TIMED_BATCHES; b++) {
  const { cpuUs, notified } = await batch();
  perNotify.push(cpuUs / notified);
}
perNotify.sort((a, b) => a - b);
const median = perNotify[Math.floor(perNotify.length / 2)]!;
process.stdout.write(
  `CPU per NOTIFY: best ${perNotify[0]!.toFixed(1)} µs, median ${median.toFixed(1)} µs (${TIMED_BATCHES} batches of ${ROUNDS - SUBSCRIBE_ROUNDS} PUBLISHes${GAP_MS > 0 ? `, ${GAP_MS} ms apart` : ''})\n`,
);

const session = new Session();
session.connect();
let profile: { head: SamplingNode } | undefined;
const { notified } = await batch({
  start: async () => {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 512,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  },
  stop: async () => {
    profile = ((await session.post('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } }).profile;
  },
});
session.disconnect();
const bytes = bytesByFunction(profile!.head);
let total = 0;
for (const v of bytes.values()) total += v;
process.stdout.write(`allocated per NOTIFY: ${Math.round(total / notified)} B (sampled, garbage included)\n`);
process.stdout.write('| B per NOTIFY | allocated in |\n|---|---|\n');
for (const [where, v] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  process.stdout.write(`| ${Math.round(v / notified)} | \`${where}\` |\n`);
}
