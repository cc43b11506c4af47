import type { DigestAlgorithm } from '../../lib/digest-hash.js';

/**
 * `WWW-Authenticate` values for a 401 (RFC 3261 §22.1, RFC 7616 §3.3, RFC 8760 §2.4): one per algorithm offered,
 * in the account's order (strongest first), all with one shared nonce, `qop="auth"` and `algorithm`. By default
 * the list is MD5 alone: Debian's SIPp reads the first challenge, SIP.js and JsSIP the last, baresip aborts on any
 * SHA one (security.md §2.3).
 */
export function challengeHeaders(
  realm: string,
  algorithms: readonly DigestAlgorithm[],
  nonce: string,
  stale: boolean,
): [string, string][] {
  const tail = stale ? ', stale=true' : '';
  return algorithms.map((alg): [string, string] => [
    'WWW-Authenticate',
    `Digest realm="${quote(realm)}", nonce="${nonce}", qop="auth", algorithm=${alg}${tail}`,
  ]);
}

/** quoted-string escaping (RFC 3261 §25.1): realms are host names, but an odd one must not break the header. */
function quote(s: string): string {
  return s.replace(/["\\]/g, (c) => `\\${c}`);
}
