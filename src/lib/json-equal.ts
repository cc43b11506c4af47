/**
 * True when two values made of plain objects, arrays, strings, finite numbers, booleans and null would serialise to
 * the same JSON, up to the order of object keys, without building the text. Properties whose value is undefined count
 * as absent, as `JSON.stringify` drops them.
 *
 * Why not compare `JSON.stringify` output: the text of the previous state had to be kept for the next comparison, and
 * under a steady flow of PUBLISHes those strings lived long enough to be promoted to V8's old generation (about a
 * tenth of what a 100 PUBLISH/s fan-out promoted; bench/README.md, eighth round).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aArray = Array.isArray(a);
  if (aArray !== Array.isArray(b)) return false;
  if (aArray) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!jsonEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const key in x) {
    if (!Object.prototype.hasOwnProperty.call(x, key) || x[key] === undefined) continue;
    defined++;
    if (!Object.prototype.hasOwnProperty.call(y, key) || !jsonEqual(x[key], y[key])) return false;
  }
  for (const key in y) {
    if (Object.prototype.hasOwnProperty.call(y, key) && y[key] !== undefined) defined--;
  }
  return defined === 0;
}
