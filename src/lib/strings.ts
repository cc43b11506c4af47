/**
 * Strings that live as long as a subscription must not pin the message they were cut from: V8 represents a
 * `slice()` of a long string (and a `+` of two) as a view onto its parents, so one kept Call-ID would keep the whole
 * SUBSCRIBE text alive (measured: ~400 bytes per subscription). `detach` returns a flat copy.
 */
export function detach(s: string): string {
  // Short slices are copied by V8 anyway; a longer one is re-encoded, which yields a flat string owning only its own
  // characters (cheaper tricks such as `(' ' + s).slice(1)` still leave a view onto a private parent copy).
  return s.length < 13 ? (' ' + s).slice(1) : Buffer.from(s, 'utf8').toString('utf8');
}

/**
 * One shared copy per distinct value for the few values many subscriptions repeat (domains, addresses, media types).
 * Bounded: past `limit` distinct values it stops remembering and only detaches, so peers cannot grow it without end.
 */
export class StringPool {
  private readonly values = new Map<string, string>();

  constructor(private readonly limit = 65_536) {}

  intern(s: string): string {
    const known = this.values.get(s);
    if (known !== undefined) return known;
    const own = detach(s);
    if (this.values.size < this.limit) this.values.set(own, own);
    return own;
  }

  get size(): number {
    return this.values.size;
  }
}
