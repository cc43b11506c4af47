/**
 * The verdict of a same-run A/B bench from its per-pair ratios (B/A): the median ratio and an interval for it that
 * noise cannot narrow by luck. The interval is the sign test's (distribution-free: it assumes only that the pairs are
 * independent, not that the ratios are normal); a percentile bootstrap of the median is given beside it as a check.
 */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** P(X <= j) for X ~ Binomial(n, 1/2). */
export function binomialHalfCdf(n: number, j: number): number {
  if (j < 0) return 0;
  if (j >= n) return 1;
  if (n <= 1000) {
    // C(n, i) summed, then divided by 2^n: exact while C(n, i) fits a double's integers (n <= 56), close beyond, and
    // 2^1000 is still a finite double.
    let term = 1;
    let sum = 1;
    for (let i = 1; i <= j; i++) {
      term = (term * (n - i + 1)) / i;
      sum += term;
    }
    return Math.min(1, sum / 2 ** n);
  }
  // In logs for longer runs than any bench here makes.
  let logTerm = -n * Math.LN2;
  let sum = Math.exp(logTerm);
  for (let i = 1; i <= j; i++) {
    logTerm += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

export interface Interval {
  low: number;
  high: number;
  /** The interval's actual coverage (the sign test's is discrete: at least the level asked for). */
  coverage: number;
}

/**
 * The median's interval from order statistics: [x(k), x(n+1-k)] (1-based, sorted) with the largest k whose coverage
 * 1 - 2·P(Bin(n, 1/2) <= k-1) is at least `level`. Null when n is too small for that level (n < 6 at 95%).
 */
export function signTestInterval(xs: readonly number[], level = 0.95): Interval | null {
  const n = xs.length;
  const s = [...xs].sort((a, b) => a - b);
  let best: Interval | null = null;
  for (let k = 1; k <= n >> 1; k++) {
    const coverage = 1 - 2 * binomialHalfCdf(n, k - 1);
    if (coverage < level) break;
    best = { low: s[k - 1]!, high: s[n - k]!, coverage };
  }
  return best;
}

/** A small seeded generator (mulberry32): the same seed gives the same bootstrap, run after run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Percentile bootstrap interval of the median (`resamples` draws with replacement). */
export function bootstrapMedianInterval(xs: readonly number[], level = 0.95, resamples = 4000, seed = 1): Interval | null {
  const n = xs.length;
  if (n < 2) return null;
  const rand = seeded(seed);
  const medians: number[] = new Array(resamples);
  const draw: number[] = new Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) draw[i] = xs[Math.floor(rand() * n)]!;
    medians[b] = median(draw);
  }
  medians.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  const at = (q: number): number => medians[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))]!;
  return { low: at(tail), high: at(1 - tail), coverage: level };
}

export type Verdict = 'met' | 'missed' | 'no verdict';

/** The rule printed with the figure. */
export const VERDICT_RULE = 'met when the interval\'s upper bound <= target, missed when its lower bound > target, otherwise no verdict';

/** Met when the whole interval is at or below the target, missed when it is wholly above, else no verdict. */
export function verdictOf(interval: Interval | null, target: number): Verdict {
  if (!interval) return 'no verdict';
  if (interval.high <= target) return 'met';
  if (interval.low > target) return 'missed';
  return 'no verdict';
}
