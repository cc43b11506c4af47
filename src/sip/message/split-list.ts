import { ParseError } from './parse-error.js';

/**
 * Splits a header value at the commas that separate list elements (RFC 3261 §7.3.1): commas inside
 * quoted-strings and inside <...> belong to the element. Elements are trimmed of LWS.
 * `strict` rejects empty elements (`a,,b`), which the grammar does not allow; otherwise they are dropped.
 */
export function splitList(value: string, strict: boolean, what = 'list'): string[] {
  if (value.indexOf(',') === -1) {
    const v = trimSpaces(value);
    if (v.length === 0) {
      if (strict) throw new ParseError(`${what}: empty list element`);
      return [];
    }
    return [v];
  }
  const out: string[] = [];
  let start = 0;
  let inAngle = false;
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) {
      // skip the quoted-string, honouring quoted-pairs
      let j = i + 1;
      for (; j < n; j++) {
        const q = value.charCodeAt(j);
        if (q === 92) j++;
        else if (q === 34) break;
      }
      if (j >= n) throw new ParseError(`${what}: unterminated quoted-string`);
      i = j;
    } else if (c === 60) inAngle = true;
    else if (c === 62) inAngle = false;
    else if (c === 44 && !inAngle) {
      push(out, value.slice(start, i), strict, what);
      start = i + 1;
    }
  }
  push(out, value.slice(start), strict, what);
  return out;
}

function push(out: string[], piece: string, strict: boolean, what: string): void {
  const v = trimSpaces(piece);
  if (v.length === 0) {
    if (strict) throw new ParseError(`${what}: empty list element`);
    return;
  }
  out.push(v);
}

function trimSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
