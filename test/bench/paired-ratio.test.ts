import t from 'tap';
import { binomialHalfCdf, bootstrapMedianInterval, median, signTestInterval, verdictOf } from '../../bench/paired-ratio.js';

t.test('binomialHalfCdf is the Binomial(n, 1/2) distribution function', async (t) => {
  t.equal(binomialHalfCdf(6, 0), 1 / 64);
  t.equal(binomialHalfCdf(6, 1), 7 / 64);
  t.ok(Math.abs(binomialHalfCdf(20, 5) - 21700 / 1048576) < 1e-12, 'C(20,0..5) = 21,700 of 2^20');
  t.equal(binomialHalfCdf(10, -1), 0);
  t.equal(binomialHalfCdf(10, 10), 1);
  t.ok(Math.abs(binomialHalfCdf(400, 200) - 0.5199) < 1e-3, 'no overflow at a few hundred pairs');
  t.ok(Math.abs(binomialHalfCdf(3000, 1500) - 0.5073) < 1e-3, 'nor at thousands');
});

t.test('the sign-test interval of the median is the order statistics whose coverage reaches the level', async (t) => {
  const xs = [0.97, 1.01, 0.99, 1.03, 1.0, 0.98];
  // n = 6: k = 1 covers 1 - 2/64 = 0.969; k = 2 covers 1 - 2·7/64 = 0.781 < 0.95: the extremes.
  t.same(signTestInterval(xs, 0.95), { low: 0.97, high: 1.03, coverage: 1 - 2 / 64 });
  t.equal(signTestInterval(xs.slice(0, 5), 0.95), null, 'five pairs cannot give a 95% interval (all on one side: 1/16)');
  const twenty = Array.from({ length: 20 }, (_, i) => 1 + (i - 10) / 100);
  // n = 20: P(X <= 5) = 0.0207 -> k = 6 covers 0.959; k = 7 covers 1 - 2·0.0577 = 0.885.
  const iv = signTestInterval(twenty, 0.95)!;
  t.same([iv.low, iv.high], [twenty[5], twenty[14]]);
  t.ok(iv.coverage >= 0.95 && iv.coverage < 0.96);
});

t.test('the verdict: met only when the whole interval is at or below the target, missed only when wholly above', async (t) => {
  t.equal(verdictOf({ low: 0.9, high: 1.05, coverage: 0.96 }, 1.05), 'met');
  t.equal(verdictOf({ low: 1.051, high: 1.2, coverage: 0.96 }, 1.05), 'missed');
  t.equal(verdictOf({ low: 0.95, high: 1.1, coverage: 0.96 }, 1.05), 'no verdict', 'straddling the target decides nothing');
  t.equal(verdictOf(null, 1.05), 'no verdict', 'too few pairs decide nothing');
});

t.test('a noisy run cannot pass: ratios spread 0.65-1.56 around 1.1 give no verdict', async (t) => {
  const noisy = [0.65, 1.56, 1.12, 0.93, 1.3, 0.8, 1.2, 1.05, 1.4, 0.9, 1.18, 1.1];
  t.equal(verdictOf(signTestInterval(noisy), 1.05), 'no verdict');
  const tight = [1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.01, 1.03, 0.97, 1.0, 1.02, 0.99];
  t.equal(verdictOf(signTestInterval(tight), 1.05), 'met');
  const dear = tight.map((x) => x + 0.2);
  t.equal(verdictOf(signTestInterval(dear), 1.05), 'missed');
});

t.test('the bootstrap interval holds the median and is the same for the same seed', async (t) => {
  const xs = [0.9, 1.0, 1.1, 1.05, 0.95, 1.02, 0.98, 1.2, 0.85, 1.01];
  const a = bootstrapMedianInterval(xs, 0.95, 2000, 7)!;
  const b = bootstrapMedianInterval(xs, 0.95, 2000, 7)!;
  t.same(a, b);
  t.ok(a.low <= median(xs) && median(xs) <= a.high);
  t.ok(a.low >= 0.85 && a.high <= 1.2, 'within the data');
  t.equal(bootstrapMedianInterval([1], 0.95), null);
});

t.test('median of odd and even counts', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.ok(Number.isNaN(median([])));
});
