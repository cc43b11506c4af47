import t from 'tap';
import { heldRows } from '../../bench/load/held-report.js';
import { parseOptions, heldPointList, expiresRange } from '../../bench/load/options.js';
import { buildReport, type AllResults } from '../../bench/load/report.js';
import type { HeldCpuPoint, HeldRateResult, HeldStepResult } from '../../bench/load/steps/held.js';

const opts = parseOptions(['--only', 'held', '--held', '100000', '--transports', 'udp']);

const step = (over: Partial<HeldStepResult>): HeldStepResult => ({
  rate: 1000, pass: true, why: '', success: 20000, durationS: 20, serverCpuS: 4, cpuUsPerSub: 200, sippCpuS: 1, otherCores: 0,
  noiseBefore: 0, serverSocketDrops: 0, sippSocketDrops: 0, memKiB: null, held: 0, primed: 5000, heldFilled: 0, fillS: 0, refreshes: 0,
  refreshWindowS: 21.5, refreshesPerSPlanned: 0, heldTroubles: 0, holdingCpuMsPerS: null, ...over,
});
const rate = (target: string, rep: number, maxRate: number, cpu: number): HeldRateResult => ({
  target, transport: 'udp', rep, held: 100000, maxRate, firstFail: maxRate + 250, achievedCps: maxRate, cpuUsPerSub: cpu, refreshesPerS: 75, steps: [],
});
const point = (target: string, held: number, cpu: number, pass = true): HeldCpuPoint => ({
  target, transport: 'udp', rep: 1, held, rate: 1000, pass, cpuUsPerSub: cpu, refreshesPerS: held / 1333,
  step: step({ held, cpuUsPerSub: cpu, pass, holdingCpuMsPerS: held / 1000 + (target === 'piston' ? 5 : 10) }),
});

const held = {
  rate: [rate('piston', 1, 4000, 250), rate('piston', 2, 5000, 230), rate('piston', 3, 4500, 240), rate('kamailio', 1, 3000, 300)],
  cpu: [point('piston', 0, 200), point('piston', 10000, 210), point('piston', 100000, 250, false), point('kamailio', 0, 300), point('kamailio', 10000, 300), point('kamailio', 100000, 330)],
};

t.test('the held rows give the rate search with the held count (median over repetitions) against the 1.25x target', async (t) => {
  const rows = heldRows(opts, held, 'piston', 'kamailio');
  const r = rows[0]!;
  t.match(r.what, /SUBSCRIBE rate UDP with 100000 held and refreshing/);
  t.equal(r.ours, 4500, 'median of 4000, 5000, 4500');
  t.equal(r.ref, 3000);
  t.same(r.goal, { ratio: 1.25, better: 'higher', text: '>= 1.25x reference' });
  t.equal(rows[1]!.ours, 240);
  t.equal(rows[2]!.ours, 75, 'refreshes per second beside it');
});

t.test('the CPU curve gives one row per held count, the growth from the least to the most held, and the failed steps', async (t) => {
  const rows = heldRows(opts, held, 'piston', 'kamailio');
  const curve = rows.slice(3);
  t.match(curve[0]!.what, /CPU per new subscription UDP at 1000\/s with 0 held/);
  t.same(curve.slice(0, 3).map((r) => [r.ours, r.ref]), [[200, 300], [210, 300], [250, 330]]);
  t.match(curve[3]!.what, /growth .* 0 -> 100000 held/);
  t.equal(curve[3]!.ours, 25, '200 -> 250 us is 25% more');
  t.ok(Math.abs(curve[3]!.ref! - 10) < 1e-9, '300 -> 330 us is 10% more');
  t.match(curve[4]!.what, /server CPU at rest in the 3 s after the step with 100000 held/);
  t.same([curve[4]!.ours, curve[4]!.ref], [105, 110], 'CPU at rest with the most held');
  t.same([curve[5]!.ours, curve[5]!.ref], [1, 0], 'one of our steps failed');
});

t.test('without a reference the held rows leave its column empty', async (t) => {
  const rows = heldRows(opts, held, 'piston', null);
  t.ok(rows.every((r) => r.ref === null));
  t.equal(rows[0]!.ours, 4500);
});

t.test('the summary table carries the held rows with ratios and verdicts like the other steps', async (t) => {
  const res: AllResults = { rate: [], fanout: [], memory: [], restart: [], storm: [], tw: { rate: [], idle: [], handshakes: [] }, held, cluster: [] };
  const table = buildReport(opts, res, 'piston', 'kamailio');
  t.match(table, /\| SUBSCRIBE rate UDP with 100000 held and refreshing .* \| 4500\/s \| 3000\/s \| 1\.50x \| >= 1\.25x reference \| met \|/);
  t.match(table, /\|\s+with 100000 held \| 250\.0 us \| 330\.0 us \| 0\.76x \| <= 0\.8x reference \| met \|/);
  t.match(table, /steps of that curve that failed .* \| 1 \| 0 \|  \| 0 \| \*\*missed\*\* \|/);
  t.match(table, /growth of CPU per new subscription, 0 -> 100000 held \| 25\.0 % \| 10\.0 % \|  \|/, 'no ratio of two growths');
});

t.test('--held sets the curve points to 0, a tenth, a half and all of it unless --held-points names them', async (t) => {
  t.same(parseOptions([]).heldPoints, [0, 10000, 50000, 100000]);
  t.same(parseOptions(['--held', '2000']).heldPoints, [0, 200, 1000, 2000]);
  t.same(parseOptions(['--held', '2000', '--held-points', '5000,0,5000,100']).heldPoints, [0, 100, 5000]);
  t.equal(parseOptions(['--quick']).heldSubs, 2000);
  t.same(parseOptions(['--quick']).heldPoints, [0, 2000], 'a short curve for the smoke run');
  t.ok(parseOptions([]).steps.includes('held'), 'part of the full run');
  t.same(parseOptions(['--only', 'held']).steps, ['held']);
});

t.test('bad held options get a clear error', async (t) => {
  t.throws(() => heldPointList('0,-5'), /whole numbers >= 0/);
  t.throws(() => heldPointList('1e3x'), /whole numbers >= 0/);
  t.throws(() => expiresRange('3600-600'), /MIN-MAX seconds within 60-3600/);
  t.throws(() => expiresRange('30-600'), /within 60-3600/, 'below our server\'s minimum');
  t.same(expiresRange('600-3600'), { min: 600, max: 3600 });
  t.throws(() => parseOptions(['--held', '0']), /positive whole number/);
  t.throws(() => parseOptions(['--held-parts', 'search,fast']), /--held-parts takes search, cpu/);
  t.same(parseOptions(['--held-parts', 'cpu']).heldParts, ['cpu']);
});
