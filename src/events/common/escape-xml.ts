// Characters that XML 1.0 cannot carry at all (§2.2 Char): C0 controls other than tab, LF and CR, lone surrogates,
// U+FFFE and U+FFFF. A display name from a PUBLISH or an API call must never make a NOTIFY body unparseable.
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const SPECIAL = /[&<>"'\t\n\r]/g;
const NEEDS_WORK = /[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

const ENTITY: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Attribute-value normalisation would turn raw whitespace into spaces (XML 1.0 §3.3.3); references keep it.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * Escapes a value for XML character data or a quoted attribute value alike. Markup characters become entity
 * references, and characters XML cannot represent are replaced by U+FFFD rather than dropped, so the damage shows.
 */
export function escapeXml(value: string): string {
  // Most values (URIs, tags, ids) need nothing: one test, no allocation.
  if (!NEEDS_WORK.test(value)) return value;
  return value.replace(INVALID, '\uFFFD').replace(SPECIAL, (c) => ENTITY[c]!);
}
