import { algorithmOf, type DigestAlgorithm } from '../../lib/digest-hash.js';
import type { Authorization } from '../../sip/message/message.js';

/** One `Authorization: Digest …` line, checked for the fields RFC 7616 §3.4 requires. */
export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  /** `uri=` as sent: it need not equal the Request-URI (SIPp sends `sip:host:port`), the digest covers it as sent. */
  readonly uri: string;
  readonly response: string;
  readonly algorithm: DigestAlgorithm;
  /** `auth`, or undefined for RFC 2069 style credentials. */
  readonly qop: 'auth' | undefined;
  /** The 8 hex digits as sent, and their value; 0 without qop. */
  readonly ncText: string | undefined;
  readonly nc: number;
  readonly cnonce: string | undefined;
}

export type CredentialsChoice =
  | { readonly kind: 'none' }
  | { readonly kind: 'malformed'; readonly why: string }
  | { readonly kind: 'digest'; readonly credentials: DigestCredentials; readonly matchesRealm: boolean };

/**
 * Walks every Authorization line (pjsip sends one per challenge it could answer, security.md §2.2) and takes the
 * first Digest line whose realm is the challenged one and whose algorithm was offered. Failing that, the first
 * Digest line for another realm with a known algorithm (`matchesRealm: false`: the policy decides what it is worth).
 * A chosen line that lacks a required field is `malformed` (400); lines of other schemes are ignored.
 */
export function chooseCredentials(
  lines: readonly Authorization[],
  realm: string,
  offered: readonly DigestAlgorithm[],
): CredentialsChoice {
  let other: Authorization | undefined;
  for (const line of lines) {
    if (line.scheme.toLowerCase() !== 'digest') continue;
    const algorithm = algorithmOf(line.params.get('algorithm'));
    if (algorithm === undefined) continue;
    if (line.params.get('realm') === realm && offered.includes(algorithm)) return check(line, algorithm, true);
    other ??= line;
  }
  if (other === undefined) return { kind: 'none' };
  return check(other, algorithmOf(other.params.get('algorithm'))!, false);
}

const NC = /^[0-9a-fA-F]{8}$/;
const HEX = /^[0-9a-fA-F]+$/;

function check(line: Authorization, algorithm: DigestAlgorithm, matchesRealm: boolean): CredentialsChoice {
  const p = line.params;
  const username = p.get('username');
  const lineRealm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (!username || lineRealm === undefined || !nonce || !uri || !response) {
    return { kind: 'malformed', why: 'Digest credentials lack username, realm, nonce, uri or response' };
  }
  if (!HEX.test(response)) return { kind: 'malformed', why: 'Digest response is not hex' };
  const qop = p.get('qop');
  let ncText: string | undefined;
  let nc = 0;
  let cnonce: string | undefined;
  if (qop !== undefined) {
    if (qop.toLowerCase() !== 'auth') return { kind: 'malformed', why: `qop ${qop} was not offered` };
    ncText = p.get('nc');
    cnonce = p.get('cnonce');
    if (ncText === undefined || !NC.test(ncText) || !cnonce) return { kind: 'malformed', why: 'qop=auth needs nc (8 hex digits) and cnonce' };
    nc = parseInt(ncText, 16);
    if (nc === 0) return { kind: 'malformed', why: 'nc starts at 00000001' };
  }
  return {
    kind: 'digest',
    matchesRealm,
    credentials: {
      username,
      realm: lineRealm,
      nonce,
      uri,
      response: response.toLowerCase(),
      algorithm,
      qop: qop === undefined ? undefined : 'auth',
      ncText,
      nc,
      cnonce,
    },
  };
}
