import { timingSafeEqual } from 'node:crypto';
import { computeResponse } from '../../lib/digest-hash.js';
import type { DigestCredentials } from './credentials.js';
import type { NcTracker } from './nc-tracker.js';
import type { NonceService } from './nonce.js';

/**
 * One digest check (security.md §2.5.3), in the order that gives nothing away: the response against the HA1 first
 * (an unknown user is checked against a dummy HA1, so it costs the same and ends the same as a wrong password), then
 * the nonce (expired with a right digest: `stale`; not ours: `bad-nonce`), then nc (a replay).
 */
export type DigestOutcome = 'ok' | 'wrong' | 'stale' | 'bad-nonce' | 'replay';

export interface VerifyContext {
  readonly method: string;
  readonly sourceIp: string;
  readonly nowMs: number;
  readonly nonces: NonceService;
  readonly nc: NcTracker;
}

const DUMMY_HA1 = '0'.repeat(64);

export function verifyDigest(creds: DigestCredentials, ha1: string | undefined, ctx: VerifyContext): DigestOutcome {
  const expected = computeResponse(creds.algorithm, ha1 ?? DUMMY_HA1.slice(0, creds.algorithm === 'MD5' ? 32 : 64), {
    method: ctx.method,
    uri: creds.uri,
    nonce: creds.nonce,
    qop: creds.qop,
    nc: creds.ncText,
    cnonce: creds.cnonce,
  });
  const right = ha1 !== undefined && sameHex(expected, creds.response);
  if (!right) return 'wrong';
  const nonce = ctx.nonces.check(creds.nonce, creds.realm, ctx.sourceIp, ctx.nowMs);
  if (nonce.kind === 'invalid') return 'bad-nonce';
  if (nonce.kind === 'expired') return 'stale';
  const nc = ctx.nc.accept(creds.nonce, nonce.issuedS, creds.nc);
  if (nc === 'evicted') return 'stale';
  return nc === 'replay' ? 'replay' : 'ok';
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
