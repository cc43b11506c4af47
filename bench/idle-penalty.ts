/**
 * What sleeping costs on this machine (issue 5, bench/README.md eighth round): the same piece of work timed right
 * after the previous one (setImmediate) and after a sleep of 1-10 ms (a timer), as the server sleeps between
 * PUBLISHes at 100/s. Three kinds of work:
 *   - walk:  read a field of each of 20,000 objects (about 1 MB of heap),
 *   - small: the same reads over 200 objects, a hundred times (a few KB, hot in any cache),
 *   - math:  an arithmetic loop that touches no memory.
 * If only `walk` slows down after a sleep, what was lost is the cached memory, not the CPU's speed: the work a server
 * does per request then costs more the more memory it touches.
 *
 *   npm run bench:idle          (node dist/bench/idle-penalty.js after a build; ~1 minute)
 *
 * Prints the median wall time of each kind after each gap. Figures only; nothing is asserted.
 */
import { sleep } from './load/sleep.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const GAPS_MS = [0, 1, 2, 5, 10];

const objects = Array.from({ length: 20_000 }, (_, i) => ({ key: `key${i}`, value: i }));
const few = objects.slice(0, 200);

function walk(): number {
  let s = 0;
  for (const o of objects) s += o.value ^ o.key.length;
  return s;
}

function small(): number {
  let s = 0;
  for (let r = 0; r < 100; r++) for (const o of few) s += o.value ^ o.key.length;
  return s;
}

function math(): number {
  let s = 0;
  for (let i = 0; i < 150_000; i++) s = (s * 31 + i) | 0;
  return s;
}

const kinds = { walk, small, math };
let sink = 0;

async function medianMicros(work: () => number, gapMs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (gapMs > 0) await sleep(gapMs);
    else await new Promise((resolve) => setImmediate(resolve));
    const t0 = process.hrtime.bigint();
    sink += work();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

for (const work of Object.values(kinds)) for (let i = 0; i < 300; i++) sink += work();
process.stdout.write(`| work | ${GAPS_MS.map((g) => (g === 0 ? 'back to back' : `after ${g} ms`)).join(' | ')} |\n`);
process.stdout.write(`|---|${GAPS_MS.map(() => '---').join('|')}|\n`);
for (const [name, work] of Object.entries(kinds)) {
  const cells: string[] = [];
  for (const gap of GAPS_MS) cells.push(`${(await medianMicros(work, gap)).toFixed(1)} µs`);
  process.stdout.write(`| ${name} | ${cells.join(' | ')} |\n`);
}
if (sink === 0.5) process.stdout.write('\n'); // keeps the work from being optimised away
