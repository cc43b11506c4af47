import type { BenchOptions } from './options.js';
import { median } from './run-context.js';
import type { HeldCpuPoint, HeldRateResult, HeldResults } from './steps/held.js';

/**
 * The held step's rows of the summary table (report.ts): per transport, the rate search with heldSubs held, then
 * the CPU curve (CPU per new subscription at the fixed rate for each held count) and how much it grows from the
 * least to the most held. Medians over --reps, like the other rows.
 */

export interface HeldRow {
  what: string;
  ours: number | null;
  ref: number | null;
  unit: string;
  goal?: { ratio?: number; absolute?: number; better: 'higher' | 'lower'; text: string };
}

function pick<T extends { target: string }>(list: T[], label: string | null, f: (x: T) => number | null | undefined): number | null {
  return label === null ? null : median(list.filter((x) => x.target === label).map(f));
}

/** (y / x - 1) in percent, or null when either is missing. */
function growthPct(x: number | null, y: number | null): number | null {
  return x !== null && y !== null && x > 0 ? (y / x - 1) * 100 : null;
}

export function heldRows(opts: BenchOptions, held: HeldResults, oursLabel: string, refLabel: string | null): HeldRow[] {
  const rows: HeldRow[] = [];
  for (const tr of opts.transports) {
    const TR = tr.toUpperCase();
    const rate = held.rate.filter((r) => r.transport === tr);
    if (rate.length) {
      const both = (f: (r: HeldRateResult) => number | null): [number | null, number | null] => [pick(rate, oursLabel, f), pick(rate, refLabel, f)];
      const n = rate[0]!.held;
      const [a, b] = both((r) => r.maxRate);
      rows.push({ what: `SUBSCRIBE rate ${TR} with ${n} held and refreshing (max passing step, ${opts.rateDurationS} s, 0 failures, 0 retransmissions)`,
        ours: a, ref: b, unit: '/s', goal: { ratio: 1.25, better: 'higher', text: '>= 1.25x reference' } });
      const [c, d] = both((r) => r.cpuUsPerSub);
      rows.push({ what: `  server CPU per new subscription ${TR} (at that step, refreshes included)`, ours: c, ref: d, unit: 'us',
        goal: { ratio: 0.8, better: 'lower', text: '<= 0.8x reference' } });
      const [e, f] = both((r) => r.refreshesPerS);
      rows.push({ what: `  refreshes answered per second during that step`, ours: e, ref: f, unit: '/s' });
    }
    const cpu = held.cpu.filter((p) => p.transport === tr);
    if (cpu.length) {
      const rateNow = cpu[0]!.rate;
      const points = [...new Set(cpu.map((p) => p.held))].sort((x, y) => x - y);
      const at = (label: string | null, k: number): number | null => pick(cpu.filter((p) => p.held === k), label, (p: HeldCpuPoint) => p.cpuUsPerSub);
      for (const k of points) {
        rows.push({ what: `${k === points[0] ? `CPU per new subscription ${TR} at ${rateNow}/s` : ' '} with ${k} held`, ours: at(oursLabel, k), ref: at(refLabel, k), unit: 'us',
          goal: { ratio: 0.8, better: 'lower', text: '<= 0.8x reference' } });
      }
      if (points.length > 1) {
        const lo = points[0]!;
        const hi = points[points.length - 1]!;
        rows.push({ what: `  growth of CPU per new subscription, ${lo} -> ${hi} held`, ours: growthPct(at(oursLabel, lo), at(oursLabel, hi)),
          ref: refLabel === null ? null : growthPct(at(refLabel, lo), at(refLabel, hi)), unit: '%' });
      }
      const top = points[points.length - 1]!;
      const holding = (label: string | null): number | null => pick(cpu.filter((p) => p.held === top), label, (p: HeldCpuPoint) => p.step.holdingCpuMsPerS);
      rows.push({ what: `  server CPU at rest in the 3 s after the step with ${top} held (and the step's; refreshes going on)`, ours: holding(oursLabel), ref: holding(refLabel), unit: 'ms/s' });
      const failed = (label: string | null): number | null => (label === null ? null : cpu.filter((p) => p.target === label && !p.pass).length);
      rows.push({ what: `  steps of that curve that failed (calls, retransmissions, held refreshes)`, ours: failed(oursLabel), ref: failed(refLabel), unit: '',
        goal: { absolute: 0, better: 'lower', text: '0' } });
    }
  }
  return rows;
}
