import { TOKEN, isWs, quote, skipQuoted, trimLws, unquote } from './grammar.js';
import { formatParams, parseParams } from './header-params.js';
import { ParseError } from './parse-error.js';
import { formatUri, parseUri, type SipUri } from './uri.js';

/**
 * From, To, Contact, Route, Record-Route, Refer-To... values (RFC 3261 §20.10, §25.1):
 * `[display-name] <URI> *(;param)` or `addr-spec *(;param)`. Header parameters (after `>`, or after the URI in
 * addr-spec form) are kept apart from URI parameters. `tag` is `params.get('tag')`.
 */
export interface NameAddr {
  /** Unescaped content of a quoted display name, or the tokens of an unquoted one. */
  displayName?: string;
  uri: SipUri;
  params: Map<string, string | null>;
}

export function parseNameAddr(text: string): NameAddr {
  const s = text;
  const n = s.length;
  let i = 0;
  while (i < n && isWs(s.charCodeAt(i))) i++;
  if (i >= n) throw new ParseError('empty name-addr');
  let displayName: string | undefined;
  let angle = false;
  if (s.charCodeAt(i) === 34) {
    const end = skipQuoted(s, i);
    if (end === -1) throw new ParseError('unterminated quoted display name');
    displayName = unquote(s.slice(i, end));
    i = end;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 60) throw new ParseError("a quoted display name must be followed by '<'");
    angle = true;
  } else {
    // An unquoted display name is *(token LWS): the first other character decides the form.
    let j = i;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c < 128 && (TOKEN[c] === 1 || c === 32 || c === 9)) j++;
      else break;
    }
    if (j < n && s.charCodeAt(j) === 60) {
      const dn = trimLws(s.slice(i, j));
      if (dn.length > 0) displayName = dn;
      i = j;
      angle = true;
    }
  }
  if (angle) {
    const close = s.indexOf('>', i + 1);
    if (close === -1) throw new ParseError("missing '>' in name-addr");
    const uri = parseUri(s.slice(i + 1, close));
    const params = parseParams(s, close + 1, 'name-addr');
    return displayName === undefined ? { uri, params } : { displayName, uri, params };
  }
  // addr-spec: RFC 3261 §20.10, a URI with a comma, '?' or ';' must be in <>, so ';' starts header params.
  const semi = s.indexOf(';', i);
  const uriEnd = semi === -1 ? n : semi;
  const uriText = trimLws(s.slice(i, uriEnd));
  if (uriText.indexOf('?') !== -1 || uriText.indexOf(',') !== -1) {
    throw new ParseError("a URI with '?' or ',' must be enclosed in <> (RFC 3261 §20.10)");
  }
  return { uri: parseUri(uriText), params: parseParams(s, uriEnd, 'addr-spec') };
}

/** Always writes the name-addr form (`<...>`), which is valid for every URI (RFC 3261 §20.10). */
export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName === undefined ? '' : quote(na.displayName) + ' ';
  return `${dn}<${formatUri(na.uri)}>${formatParams(na.params)}`;
}
