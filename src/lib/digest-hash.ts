import { hash } from 'node:crypto';

/**
 * The digest algorithms Piston verifies (RFC 7616 §3.3, RFC 8760): MD5 for every phone, SHA-256 and SHA-512-256 as
 * an account's opt-in (security.md §2.3). `-sess` variants are never offered, so never accepted.
 */
export type DigestAlgorithm = 'MD5' | 'SHA-256' | 'SHA-512-256';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-512-256', 'SHA-256', 'MD5'];

const NODE_HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

/** The algorithm an `algorithm=` value names (case-insensitive, RFC 7616 §3.3); absent means MD5 (RFC 2617 §3.2.1). */
export function algorithmOf(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const upper = value.toUpperCase();
  return (DIGEST_ALGORITHMS as readonly string[]).includes(upper) ? (upper as DigestAlgorithm) : undefined;
}

/**
 * H(data) as lower-case hex. The one-shot `crypto.hash` (Node 20.12+): a Hash object per call cost about 1.1 µs
 * more per hash, and a digest check makes two (issue 19).
 */
export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return hash(NODE_HASH[algorithm], data, 'hex');
}

/** HA1 = H(username:realm:password) (RFC 7616 §3.4.2). */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

/** The `response=` a client computes (RFC 7616 §3.4.1; RFC 2069 form without qop). */
export function computeResponse(
  algorithm: DigestAlgorithm,
  ha1: string,
  p: { method: string; uri: string; nonce: string; qop?: string | undefined; nc?: string | undefined; cnonce?: string | undefined },
): string {
  const ha2 = digestHash(algorithm, `${p.method}:${p.uri}`);
  if (p.qop === undefined) return digestHash(algorithm, `${ha1}:${p.nonce}:${ha2}`);
  return digestHash(algorithm, `${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${ha2}`);
}

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return (DIGEST_ALGORITHMS as readonly string[]).includes(value);
}
