// `npm start` / `npm run admin` run this first (prestart, preadmin): compile with tsc only when dist/ is missing or
// older than what it is built from, so a start with nothing changed takes no 20-30 s build. Node built-ins only: it
// runs before anything is compiled. The decision (isStale) is unit-tested in test/scripts/build-if-stale.test.ts.
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What `npm start` and `npm run admin` run; the build is stale if any is missing or older than an input. */
export const OUTPUTS = ['dist/src/start.js', 'dist/src/main.js', 'dist/src/admin.js'];
/** What they are compiled from: every file and directory under src/ (a directory's mtime changes when a file is added, removed or renamed), and the build settings. */
export const INPUT_DIRS = ['src'];
export const INPUT_FILES = ['tsconfig.json', 'package.json'];

function mtimeOf(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest input under `root`: { path, mtimeMs }. */
export function newestInput(root) {
  let newest = { path: '', mtimeMs: -Infinity };
  const consider = (path) => {
    const m = mtimeOf(path);
    if (m !== undefined && m > newest.mtimeMs) newest = { path, mtimeMs: m };
  };
  const walk = (dir) => {
    consider(dir);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else consider(p);
    }
  };
  for (const d of INPUT_DIRS) walk(join(root, d));
  for (const f of INPUT_FILES) consider(join(root, f));
  return newest;
}

/** Whether `root` needs a build, and why: { stale: boolean, reason: string }. */
export function isStale(root) {
  let oldest = Infinity;
  for (const out of OUTPUTS) {
    const m = mtimeOf(join(root, out));
    if (m === undefined) return { stale: true, reason: `${out} is missing` };
    oldest = Math.min(oldest, m);
  }
  const newest = newestInput(root);
  if (newest.mtimeMs > oldest) {
    return { stale: true, reason: `${newest.path.slice(root.length + 1) || newest.path} is newer than the build in dist/` };
  }
  return { stale: false, reason: 'dist/ is up to date' };
}

/** Builds when stale; returns the exit status (tsc's when it ran). */
export function buildIfStale(root) {
  const { stale, reason } = isStale(root);
  if (!stale) return 0;
  process.stderr.write(`build: ${reason}; compiling with tsc (npm run build)\n`);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  const status = run.status ?? 1;
  if (status !== 0) {
    // tsc emits even when it reports errors: mark the outputs old, so the next start tries again instead of
    // running what did not type-check.
    for (const out of OUTPUTS) {
      try {
        utimesSync(join(root, out), 0, 0);
      } catch {
        // missing: stale anyway
      }
    }
  }
  return status;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = buildIfStale(resolve(fileURLToPath(import.meta.url), '..', '..'));
}
