import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../server-process.js';

/**
 * Our copies of the real clients' configurations live in fixtures/clients/ with `{{NAME}}` placeholders for every
 * port and user; this fills them in. A placeholder without a value, or a value nobody asked for, is an error: a
 * half-filled config would send the client to the wrong port and the test would time out for an obscure reason.
 */

export const clientFixtures = join(repoRoot, 'fixtures', 'clients');

export function renderClientFixture(relativePath: string, values: Record<string, string | number>): string {
  const template = readFileSync(join(clientFixtures, relativePath), 'utf8');
  const used = new Set<string>();
  const text = template.replace(/\{\{([A-Z_]+)\}\}/g, (_all, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${relativePath}: no value for {{${name}}}`);
    used.add(name);
    return String(value);
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`${relativePath}: ${unused.join(', ')} not used by the template`);
  return text;
}

/** Renders a fixture into `dir` under its own base name (or `as`), returning the written path. */
export function writeClientFixture(relativePath: string, values: Record<string, string | number>, dir: string, as?: string): string {
  const target = join(dir, as ?? relativePath.split('/').at(-1)!);
  writeFileSync(target, renderClientFixture(relativePath, values));
  return target;
}
