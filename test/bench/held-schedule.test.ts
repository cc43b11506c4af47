import t from 'tap';
import { fillParts, heldCsvText, heldSchedule, REFRESH_AT, refreshesPerS } from '../../bench/load/held-schedule.js';

t.test('every held subscription refreshes before its Expires runs out (RFC 6665 section 4.1.2.1): first refresh and period both shorter', async (t) => {
  const s = heldSchedule(100_000, { min: 600, max: 3600 });
  t.equal(s.length, 100_000);
  let bad = 0;
  for (const e of s) {
    if (e.expiresS < 600 || e.expiresS > 3600) bad++;
    if (e.periodMs !== Math.round(e.expiresS * REFRESH_AT * 1000)) bad++;
    if (e.firstMs < 0 || e.firstMs >= e.periodMs) bad++;
  }
  t.equal(bad, 0, 'Expires in range, period at 80% of it, first refresh within the first period');
});

t.test('Expires and first refreshes are spread evenly, so the refreshes arrive at a steady rate from the end of the fill', async (t) => {
  const s = heldSchedule(100_000, { min: 600, max: 3600 });
  // Ten equal bins of the Expires range and of the phase (first / period) each get about a tenth of the subscriptions.
  const eBins = new Array<number>(10).fill(0);
  const pBins = new Array<number>(10).fill(0);
  for (const e of s) {
    eBins[Math.min(9, Math.floor(((e.expiresS - 600) / 3000) * 10))]!++;
    pBins[Math.min(9, Math.floor((e.firstMs / e.periodMs) * 10))]!++;
  }
  for (const b of eBins) t.ok(Math.abs(b - 10_000) < 300, `Expires bin ${b} near 10,000`);
  for (const b of pBins) t.ok(Math.abs(b - 10_000) < 300, `phase bin ${b} near 10,000`);
  // Refreshes due in each 60 s of the first period of the shortest: about the steady rate times 60.
  const rate = refreshesPerS(s);
  const perMinute = new Array<number>(8).fill(0);
  for (const e of s) {
    for (let at = e.firstMs; at < 480_000; at += e.periodMs) perMinute[Math.floor(at / 60_000)]!++;
  }
  for (const n of perMinute) t.ok(Math.abs(n - rate * 60) < rate * 60 * 0.1, `${n} refreshes in a minute, steady ${Math.round(rate * 60)}`);
});

t.test('the steady refresh rate is the sum of 1 / period: 100,000 held with Expires 600-3600 s refresh about 75 times a second', async (t) => {
  const s = heldSchedule(100_000, { min: 600, max: 3600 });
  // For Expires uniform on [a, b] and a period of 0.8 x Expires: N ln(b / a) / (0.8 (b - a)).
  const expected = (100_000 * Math.log(3600 / 600)) / (REFRESH_AT * 3000);
  t.ok(Math.abs(refreshesPerS(s) - expected) / expected < 0.01, `${refreshesPerS(s)} ~ ${expected}`);
  t.equal(refreshesPerS([{ ext: 1000, expiresS: 100, firstMs: 0, periodMs: 80_000 }]), 1000 / 80_000);
  t.equal(refreshesPerS([]), 0);
});

t.test('the schedule is the same on every call (both servers and every run get the same load) and spreads over the extensions', async (t) => {
  t.same(heldSchedule(500, { min: 60, max: 120 }), heldSchedule(500, { min: 60, max: 120 }));
  const s = heldSchedule(2500, { min: 600, max: 3600 }, 1000);
  t.equal(s[0]!.ext, 1000);
  t.equal(s[999]!.ext, 1999);
  t.equal(s[1000]!.ext, 1000, 'the 1,001st watches the first extension again');
  const fixed = heldSchedule(10, { min: 900, max: 900 });
  t.ok(fixed.every((e) => e.expiresS === 900 && e.periodMs === 720_000), 'a one-value range gives that Expires');
});

t.test('the injection file is what hold-refresh.xml reads: SEQUENTIAL, then extension;Expires;first ms;period ms;', async (t) => {
  const text = heldCsvText([
    { ext: 1000, expiresS: 600, firstMs: 1234, periodMs: 480_000 },
    { ext: 1001, expiresS: 3600, firstMs: 0, periodMs: 2_880_000 },
  ]);
  t.equal(text, 'SEQUENTIAL\n1000;600;1234;480000;\n1001;3600;0;2880000;\n');
});

t.test('the fill comes in parts of at most 10,000 that cover every held subscription once, in order', async (t) => {
  t.same(fillParts(25_000, 10_000), [{ from: 0, count: 10_000 }, { from: 10_000, count: 10_000 }, { from: 20_000, count: 5_000 }]);
  t.same(fillParts(10_000, 10_000), [{ from: 0, count: 10_000 }]);
  t.same(fillParts(0, 10_000), []);
  // A part's entries are the same as those of one schedule for the whole: the parts together are the same load.
  const whole = heldSchedule(25_000, { min: 600, max: 3600 });
  const parts = fillParts(25_000, 10_000).flatMap((p) => heldSchedule(p.from + p.count, { min: 600, max: 3600 }).slice(p.from));
  t.same(parts, whole);
});
