/**
 * Character classes of the RFC 3261 §25.1 grammar as lookup tables, so hot loops test one array element per
 * character instead of running regular expressions.
 */

function table(chars: string, alnum = true): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~");
/** word: token characters plus ( ) < > : \ " / [ ] ? { } (Call-ID, RFC 3261 §25.1). */
export const WORD = table('-.!%*_+`\'~()<>:\\"/[]?{}');
const UNRESERVED = "-_.!~*'()";
/** user = 1*( unreserved / escaped / user-unreserved ) */
export const USER = table(UNRESERVED + '%&=+$,;?/');
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table(UNRESERVED + '%&=+$,');
/** paramchar = param-unreserved / unreserved / escaped */
export const PARAMCHAR = table(UNRESERVED + '%[]/:&+$');
/** hname / hvalue characters: hnv-unreserved / unreserved / escaped */
export const HCHAR = table(UNRESERVED + '%[]/?:+$');
/** hostname and IPv4 characters; '_' is tolerated because real hosts use it. */
export const HOST = table('-._');
/**
 * Characters allowed in an unquoted header parameter value: token, or a host (IPv6 reference with brackets and
 * colons). '@' is tolerated because phones send `Event: dialog;call-id=abc@host` unquoted (RFC 4235 §4.1 wants
 * it quoted).
 */
export const GENVALUE = table("-.!%*_+`'~[]:@");
/** Characters allowed in the opaque part of an absolute URI of an unknown scheme (RFC 3986 style, no LWS, <, >, "). */
export const OPAQUE = table("-_.!~*'()%;/?:@&=+$,[]#");
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
export const SCHEME = table('+-.');

export function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

/** True when every character of s[from, to) is in the table; non-ASCII fails unless `utf8` allows it. */
export function allIn(t: Uint8Array, s: string, from = 0, to = s.length, utf8 = false): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) {
      if (!utf8) return false;
    } else if (t[c] !== 1) return false;
  }
  return true;
}

export function isToken(s: string): boolean {
  return allIn(TOKEN, s);
}

/** Escapes (%HH) must be complete: RFC 3261 §25.1 escaped = "%" HEXDIG HEXDIG. */
export function escapesValid(s: string, from = 0, to = s.length): boolean {
  let i = s.indexOf('%', from);
  while (i !== -1 && i < to) {
    if (i + 2 >= to || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
    i = s.indexOf('%', i + 3);
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Trims SP and HTAB only (LWS after unfolding), not every Unicode space as String#trim would. */
export function trimLws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWs(s.charCodeAt(a))) a++;
  while (b > a && isWs(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * Reads a quoted-string starting at s[i] === '"'. Returns the index after the closing quote, or -1 when it is
 * unterminated. quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) (RFC 3261 §25.1).
 */
export function skipQuoted(s: string, i: number): number {
  const n = s.length;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === 92) {
      j++;
      if (j >= n) return -1;
      const q = s.charCodeAt(j);
      if (q === 10 || q === 13 || q > 127) return -1;
    } else if (c === 34) return j + 1;
  }
  return -1;
}

/** The content of a quoted-string with its quoted-pairs resolved. `quoted` includes the surrounding quotes. */
export function unquote(quoted: string): string {
  const inner = quoted.slice(1, -1);
  if (inner.indexOf('\\') === -1) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i] as string;
    if (c === '\\' && i + 1 < inner.length) {
      out += inner[i + 1];
      i++;
    } else out += c;
  }
  return out;
}

/** Writes `s` as a quoted-string: '"' and '\' and control characters become quoted-pairs. */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13) continue; // cannot be represented, even as a quoted-pair
    if (c === 34 || c === 92 || c < 32 || c === 127) out += '\\';
    out += s[i];
  }
  return out + '"';
}

/**
 * Reads the decimal `port` that starts at `i` (RFC 3261 §25.1: 1 to 5 digits, at most 65535). Returns the port and
 * the index after it, or undefined when there is no valid port there.
 */
export function scanPort(s: string, i: number): { port: number; end: number } | undefined {
  const start = i;
  let port = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    port = port * 10 + (c - 48);
    i++;
  }
  if (i === start || i - start > 5 || port > 65535) return undefined;
  return { port, end: i };
}

/** The index just past the host name or IPv4 address that starts at `i` (RFC 3261 §25.1 `hostname`, `IPv4address`). */
export function scanHostName(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HOST[c] !== 1) break;
    i++;
  }
  return i;
}
