import { isToken } from './grammar.js';
import { headerKey, headerName, LIST_HEADERS, type HeaderName } from './header-names.js';
import { ParseError } from './parse-error.js';
import { splitList } from './split-list.js';

/**
 * The header fields of a message in order (RFC 3261 §7.3): one entry per header line (folded lines already
 * joined), looked up case-insensitively with compact forms mapped to long names (§7.3.3).
 * `rev` changes on every mutation so that cached typed values can be invalidated.
 */
export class Headers {
  /** Lower-case long names, one per line. Parallel arrays keep parsing allocation-light. */
  private keys: string[] = [];
  private names: string[] = [];
  private values: string[] = [];
  private revision = 0;

  /** Incremented by every mutation. */
  get rev(): number {
    return this.revision;
  }

  /** Number of header lines. */
  get size(): number {
    return this.keys.length;
  }

  /**
   * Adds a line as parsed: `key` already resolved, `value` trimmed. Used by the parser only; no checks.
   * @internal
   */
  pushParsed(key: string, wireName: string, value: string): void {
    this.keys.push(key);
    this.names.push(wireName);
    this.values.push(value);
  }

  /** First value of the first line, trimmed. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.values[i];
    return undefined;
  }

  /** The value of every line with this name, unsplit. */
  lines(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) out.push(this.values[i] as string);
    return out;
  }

  /**
   * Every value of every line; list headers (Via, Contact, Accept...) are split at the commas that are not
   * inside quotes or <>. Empty list elements are skipped.
   */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = LIST_HEADERS.has(key);
    const out: string[] = [];
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== key) continue;
      const v = this.values[i] as string;
      if (list) {
        for (const piece of splitList(v, false)) out.push(piece);
      } else out.push(v);
    }
    return out;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.keys.indexOf(key) !== -1;
  }

  /** Number of lines with this name. */
  count(name: string): number {
    const key = headerKey(name);
    let c = 0;
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) c++;
    return c;
  }

  /** Replaces every line with this name by one line, at the place of the first (or at the end). */
  set(name: string, value: string): void {
    const h = wireName(name);
    const v = checkValue(value);
    const first = this.keys.indexOf(h.key);
    if (first === -1) {
      this.keys.push(h.key);
      this.names.push(h.wire);
      this.values.push(v);
    } else {
      this.values[first] = v;
      this.names[first] = h.wire;
      for (let i = this.keys.length - 1; i > first; i--) if (this.keys[i] === h.key) this.removeAt(i);
    }
    this.revision++;
  }

  append(name: string, value: string): void {
    const h = wireName(name);
    const v = checkValue(value);
    this.keys.push(h.key);
    this.names.push(h.wire);
    this.values.push(v);
    this.revision++;
  }

  prepend(name: string, value: string): void {
    const h = wireName(name);
    const v = checkValue(value);
    this.keys.unshift(h.key);
    this.names.unshift(h.wire);
    this.values.unshift(v);
    this.revision++;
  }

  delete(name: string): void {
    const key = headerKey(name);
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i] === key) this.removeAt(i);
    this.revision++;
  }

  /**
   * Replaces the first list element of the first line with this name, keeping the other elements of that
   * line (a Via line may hold several values). Appends a line when there is none.
   */
  setFirstValue(name: string, value: string): void {
    const key = headerKey(name);
    const i = this.keys.indexOf(key);
    if (i === -1) {
      this.append(name, value);
      return;
    }
    const line = this.values[i] as string;
    // Without a comma the line holds one value (splitList splits at commas only): no need to split it.
    const rest = line.indexOf(',') === -1 ? [] : splitList(line, false).slice(1);
    this.values[i] = checkValue(rest.length === 0 ? value : [value, ...rest].join(', '));
    this.revision++;
  }

  /** A copy with the same lines. */
  clone(): Headers {
    const h = new Headers();
    h.keys = this.keys.slice();
    h.names = this.names.slice();
    h.values = this.values.slice();
    return h;
  }

  /** `[name, value]` per line in order; names in their canonical wire spelling (`Call-ID`, `CSeq`). */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (let i = 0; i < this.keys.length; i++) yield [this.names[i] as string, this.values[i] as string];
  }

  /** Lower-case long key of line i. @internal */
  keyAt(i: number): string {
    return this.keys[i] as string;
  }

  /** Wire name of line i. @internal */
  nameAt(i: number): string {
    return this.names[i] as string;
  }

  /** Value of line i. @internal */
  valueAt(i: number): string {
    return this.values[i] as string;
  }

  private removeAt(i: number): void {
    this.keys.splice(i, 1);
    this.names.splice(i, 1);
    this.values.splice(i, 1);
  }
}

/** Names given by callers must be tokens (RFC 3261 §7.3.1), or the message written out would not parse. */
function wireName(name: string): HeaderName {
  if (!isToken(name)) throw new ParseError(`invalid header name '${name}'`);
  return headerName(name);
}

/** A value containing CR or LF would inject header lines when written out. */
function checkValue(value: string): string {
  if (value.indexOf('\n') !== -1 || value.indexOf('\r') !== -1) {
    throw new ParseError('header value must not contain CR or LF');
  }
  let a = 0;
  let b = value.length;
  while (a < b && (value.charCodeAt(a) === 32 || value.charCodeAt(a) === 9)) a++;
  while (b > a && (value.charCodeAt(b - 1) === 32 || value.charCodeAt(b - 1) === 9)) b--;
  return value.slice(a, b);
}
