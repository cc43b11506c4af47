import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildIfStale, isStale } from '../../scripts/build-if-stale.mjs';

/**
 * `npm start` compiles only when dist/ is older than its sources (scripts/build-if-stale.mjs, prestart): the decision
 * on a scratch tree whose mtimes are set by hand, and the build step with a stand-in tsc.
 */

const T0 = 1_700_000_000; // seconds
const SOURCES = ['src/start.ts', 'src/main.ts', 'src/admin.ts', 'src/lib/clock.ts', 'tsconfig.json', 'package.json'];
const OUTPUTS = ['dist/src/start.js', 'dist/src/main.js', 'dist/src/admin.js'];

function tree(t: { teardown(fn: () => void): void }): { root: string; touch(path: string, at: number): void } {
  const root = mkdtempSync(join(tmpdir(), 'piston-stale-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const touch = (path: string, at: number): void => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, '// x\n', { flag: 'a' });
    utimesSync(full, at, at);
  };
  for (const s of SOURCES) touch(s, T0);
  for (const d of ['src/lib', 'src']) utimesSync(join(root, d), T0, T0);
  for (const o of OUTPUTS) touch(o, T0 + 10);
  return { root, touch };
}

t.test('a build newer than every source is up to date: no build', async (t) => {
  const { root } = tree(t);
  t.same(isStale(root), { stale: false, reason: 'dist/ is up to date' });
});

t.test('no dist (a fresh clone) needs a build', async (t) => {
  const { root } = tree(t);
  rmSync(join(root, 'dist'), { recursive: true });
  t.same(isStale(root), { stale: true, reason: 'dist/src/start.js is missing' });
  const { root: other } = tree(t);
  unlinkSync(join(other, 'dist/src/admin.js'));
  t.match(isStale(other), { stale: true, reason: 'dist/src/admin.js is missing' }, 'each entry point counts');
});

t.test('a source edited after the build makes it stale, and the reason names the file', async (t) => {
  const { root, touch } = tree(t);
  touch('src/lib/clock.ts', T0 + 20);
  t.same(isStale(root), { stale: true, reason: 'src/lib/clock.ts is newer than the build in dist/' });
});

t.test('tsconfig.json and package.json are inputs too', async (t) => {
  for (const f of ['tsconfig.json', 'package.json']) {
    const { root, touch } = tree(t);
    touch(f, T0 + 20);
    t.match(isStale(root), { stale: true, reason: `${f} is newer` }, f);
  }
});

t.test('a source file removed after the build makes it stale (its directory changed)', async (t) => {
  const { root } = tree(t);
  unlinkSync(join(root, 'src/lib/clock.ts'));
  utimesSync(join(root, 'src/lib'), T0 + 20, T0 + 20); // what the unlink did to the directory, at a known time
  t.same(isStale(root), { stale: true, reason: 'src/lib is newer than the build in dist/' });
});

t.test('the oldest output decides: one entry point built before an edit is stale', async (t) => {
  const { root, touch } = tree(t);
  touch('src/main.ts', T0 + 15);
  touch('dist/src/main.js', T0 + 20);
  t.match(isStale(root), { stale: true, reason: 'src/main.ts is newer' }, 'admin.js (T0+10) predates the edit (T0+15)');
});

t.test('files outside src/ (tests, benchmarks, README) do not trigger a build', async (t) => {
  const { root, touch } = tree(t);
  touch('test/x.test.ts', T0 + 20);
  touch('bench/load.ts', T0 + 20);
  touch('README.md', T0 + 20);
  t.equal(isStale(root).stale, false);
});

t.test('buildIfStale runs tsc only when stale; a failed build leaves dist marked stale for the next start', async (t) => {
  const { root, touch } = tree(t);
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  mkdirSync(dirname(tsc), { recursive: true });
  // A stand-in tsc: records that it ran, writes the outputs as tsc does (even on type errors), exits with FAKE_TSC_EXIT.
  writeFileSync(
    tsc,
    `const fs = require('node:fs');
     fs.appendFileSync('ran', 'x');
     for (const o of ${JSON.stringify(OUTPUTS)}) fs.writeFileSync(o, '// built\\n');
     process.exit(Number(fs.readFileSync('exit', 'utf8')));`,
  );
  writeFileSync(join(root, 'package.json'), '{}');
  utimesSync(join(root, 'package.json'), T0, T0);
  const ran = (): number => {
    try {
      return statSync(join(root, 'ran')).size;
    } catch {
      return 0;
    }
  };
  writeFileSync(join(root, 'exit'), '0');
  t.equal(buildIfStale(root), 0, 'up to date: status 0');
  t.equal(ran(), 0, 'and tsc did not run');

  touch('src/main.ts', T0 + 20);
  writeFileSync(join(root, 'exit'), '2');
  t.equal(buildIfStale(root), 2, "a failed build's status is passed on (npm start stops)");
  t.equal(ran(), 1, 'tsc ran once');
  for (const o of OUTPUTS) t.equal(statSync(join(root, o)).mtimeMs, 0, `${o} marked old`);
  t.equal(isStale(root).stale, true, 'so the next start builds again instead of running code that did not type-check');

  writeFileSync(join(root, 'exit'), '0');
  t.equal(buildIfStale(root), 0, 'a good build');
  t.equal(ran(), 2);
  t.equal(isStale(root).stale, false, 'leaves dist up to date');
});
