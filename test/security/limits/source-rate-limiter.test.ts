import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { SourceRateLimiter } from '../../../src/security/limits/source-rate-limiter.js';

const limiter = (clock: ManualClock, maxSources = 1000): SourceRateLimiter =>
  new SourceRateLimiter({ requests: 50, windowMs: 2000, banMs: 300_000, maxSources, clock });

const burst = (l: SourceRateLimiter, address: string, n: number): number => {
  let ok = 0;
  for (let i = 0; i < n; i++) if (l.take(address).ok) ok++;
  return ok;
};

t.test('a source may burst 50 requests; the 51st within the window bans it (security.md §4.2, Kazoo pike 2 s / 50)', async (t) => {
  const clock = new ManualClock();
  const l = limiter(clock);
  t.equal(burst(l, '192.0.2.1', 50), 50, 'the first 50 pass');
  const over = l.take('192.0.2.1');
  t.same(over, { ok: false, remainingMs: 300_000, started: true }, 'the 51st starts a 300 s ban');
  clock.advance(2000);
  const during = l.take('192.0.2.1');
  t.same(during, { ok: false, remainingMs: 298_000, started: false }, 'a full bucket later it is still banned, with the time left');
  t.equal(l.take('192.0.2.2').ok, true, 'another source is not affected');
  t.equal(l.bannedCount(), 1);
});

t.test('the bucket refills at 50 per 2 s: a steady 20 requests a second never trips it', async (t) => {
  const clock = new ManualClock();
  const l = limiter(clock);
  let refused = 0;
  for (let i = 0; i < 600; i++) {
    if (!l.take('192.0.2.3').ok) refused++;
    clock.advance(50);
  }
  t.equal(refused, 0, '30 s at 20/s all pass');
  t.equal(burst(l, '192.0.2.3', 100), 50, 'a full bucket again once the source paused');
});

t.test('a ban expires after 300 s and the source starts with a full bucket', async (t) => {
  const clock = new ManualClock();
  const l = limiter(clock);
  burst(l, '192.0.2.4', 51);
  clock.advance(299_999);
  t.equal(l.take('192.0.2.4').ok, false, 'banned until the end');
  clock.advance(1);
  t.equal(l.bannedCount(), 0, 'the expired ban is forgotten');
  t.equal(burst(l, '192.0.2.4', 50), 50, 'a fresh bucket after the ban');
});

t.test('memory is bounded: at most maxSources buckets and bans, the oldest forgotten first', async (t) => {
  const clock = new ManualClock();
  const l = limiter(clock, 100);
  for (let i = 0; i < 1000; i++) l.take(`10.0.${i >> 8}.${i & 255}`);
  t.equal(l.trackedSources, 100, 'buckets held stay at the bound');
  for (let i = 0; i < 1000; i++) burst(l, `10.1.${i >> 8}.${i & 255}`, 51);
  t.ok(l.bannedCount() <= 100, `bans held stay at the bound (${l.bannedCount()})`);
  t.equal(l.take('10.1.3.231').ok, false, 'the newest ban is kept');
});

t.test('forgive ends a ban and refills the bucket (a trusted peer found over its bucket)', async (t) => {
  const clock = new ManualClock();
  const l = limiter(clock);
  burst(l, '192.0.2.5', 51);
  l.forgive('192.0.2.5');
  t.equal(l.take('192.0.2.5').ok, true);
  t.equal(l.bannedCount(), 0);
});
