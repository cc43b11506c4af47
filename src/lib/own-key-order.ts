/**
 * The order in which JavaScript lists an object's own string keys, and so the order JSON.stringify writes them
 * (ECMA-262 OrdinaryOwnPropertyKeys): array indices ("0", "17", "4294967294": canonical decimal integers below
 * 2^32 - 1) first in ascending numeric order, then every other key in the order it was first set. Text written
 * without building the object (a streamed JSON answer) uses this to come out exactly as JSON.stringify would.
 */
export function isArrayIndex(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 10) return false;
  const first = key.charCodeAt(0);
  if (first === 48) return n === 1;
  if (first < 49 || first > 57) return false;
  for (let i = 1; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return n < 10 || Number(key) < 4294967295;
}

/** `keys` (distinct, in first-set order) in JavaScript's own-key order. */
export function ownKeyOrder(keys: Iterable<string>): string[] {
  const indices: string[] = [];
  const others: string[] = [];
  for (const key of keys) (isArrayIndex(key) ? indices : others).push(key);
  if (indices.length === 0) return others;
  indices.sort((a, b) => Number(a) - Number(b));
  return indices.concat(others);
}
