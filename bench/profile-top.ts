/**
 * Top self-time functions of a V8 .cpuprofile (written by `node --cpu-prof`, e.g. `npm run bench -- --cpu-prof DIR`).
 *   node dist/bench/profile-top.js <file.cpuprofile> [N] [--inclusive]
 * `--inclusive` also prints the top functions by time including their callees (a function counted once per sample
 * even when it recurses), which is what says which request step costs what.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/bench/profile-top.js <file.cpuprofile> [N]\n');
  process.exit(2);
}
const inclusive = process.argv.includes('--inclusive');
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const top = Number(positional[1] ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
function keyOf(n: ProfileNode): string {
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
}
const self = new Map<string, number>();
const incl = new Map<string, number>();
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i]!);
  const dt = p.timeDeltas[i] ?? 0;
  if (!n) continue;
  const key = keyOf(n);
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
  if (!inclusive || key.startsWith('(idle)')) continue;
  const seen = new Set<string>();
  for (let id: number | undefined = n.id; id !== undefined; id = parentOf.get(id)) {
    const k = keyOf(byId.get(id)!);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + dt);
  }
}
const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
const busy = total - idle;
process.stdout.write(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle\n`);
process.stdout.write('| self ms | % of non-idle | function |\n|---|---|---|\n');
for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`| ${(v / 1000).toFixed(0)} | ${((100 * v) / busy).toFixed(1)} | \`${k}\` |\n`);
}
if (inclusive) {
  process.stdout.write('\n| inclusive ms | % of non-idle | function |\n|---|---|---|\n');
  for (const [k, v] of [...incl].filter(([k]) => k !== '(root)').sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`| ${(v / 1000).toFixed(0)} | ${((100 * v) / busy).toFixed(1)} | \`${k}\` |\n`);
  }
}
