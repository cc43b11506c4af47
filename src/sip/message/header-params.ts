import { GENVALUE, TOKEN, isWs, skipQuoted } from './grammar.js';
import { ParseError } from './parse-error.js';

/**
 * Parses `*( SEMI generic-param )` from s[from..] (RFC 3261 §25.1: generic-param = token [ EQUAL gen-value ],
 * gen-value = token / host / quoted-string; SEMI and EQUAL allow LWS around them).
 * Names are lower-cased (parameter names are case-insensitive); values are kept as sent, quoted-strings
 * with their quotes, so they write back unchanged. A repeated name keeps its first value.
 */
export function parseParams(s: string, from: number, what: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  const n = s.length;
  let i = from;
  for (;;) {
    while (i < n && isWs(s.charCodeAt(i))) i++;
    if (i >= n) return params;
    if (s.charCodeAt(i) !== 59) throw new ParseError(`${what}: unexpected '${s[i]}' where ';' was expected`);
    i++;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    const nameStart = i;
    while (i < n && s.charCodeAt(i) < 128 && TOKEN[s.charCodeAt(i)] === 1) i++;
    if (i === nameStart) throw new ParseError(`${what}: empty parameter name`);
    const name = s.slice(nameStart, i).toLowerCase();
    while (i < n && isWs(s.charCodeAt(i))) i++;
    let value: string | null = null;
    if (i < n && s.charCodeAt(i) === 61) {
      i++;
      while (i < n && isWs(s.charCodeAt(i))) i++;
      if (i < n && s.charCodeAt(i) === 34) {
        const end = skipQuoted(s, i);
        if (end === -1) throw new ParseError(`${what}: unterminated quoted parameter value`);
        value = s.slice(i, end);
        i = end;
      } else {
        const valueStart = i;
        while (i < n && s.charCodeAt(i) < 128 && GENVALUE[s.charCodeAt(i)] === 1) i++;
        if (i === valueStart) throw new ParseError(`${what}: empty value for parameter '${name}'`);
        value = s.slice(valueStart, i);
      }
    }
    if (!params.has(name)) params.set(name, value);
  }
}

/** Writes parameters as `;name=value` / `;name`. */
export function formatParams(params: ReadonlyMap<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}
