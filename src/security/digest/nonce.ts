import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stateless nonces (security.md §2.5.1): base64url(issued_s ‖ 8 random bytes ‖ first 16 bytes of
 * HMAC-SHA256(secret, issued_s ‖ random ‖ realm [‖ source IP])). The server keeps nothing per nonce it hands out;
 * a nonce proves that we issued it, when, and for which realm. Not bound to the source port (TCP reconnects, NAT);
 * to the source IP only when asked.
 */
export interface NonceServiceOptions {
  /** At least 32 bytes; kept with the data, so nonces survive a restart (and every cluster node shares it). */
  secret: Buffer;
  /** Lifetime in seconds; default 300. */
  lifetimeS?: number;
  /** Bind nonces to the requester's IP address too; default false (NAT rebinding would make every nonce stale). */
  bindSourceIp?: boolean;
}

export type NonceCheck =
  | { readonly kind: 'valid'; readonly issuedS: number }
  | { readonly kind: 'expired'; readonly issuedS: number }
  | { readonly kind: 'invalid' };

const TIME_BYTES = 4;
const RANDOM_BYTES = 8;
const MAC_BYTES = 16;
const NONCE_BYTES = TIME_BYTES + RANDOM_BYTES + MAC_BYTES;
/** base64url of 28 bytes, unpadded. */
const NONCE_CHARS = Math.ceil((NONCE_BYTES * 4) / 3);

export class NonceService {
  readonly lifetimeS: number;
  private readonly secret: Buffer;
  private readonly bindSourceIp: boolean;

  constructor(opts: NonceServiceOptions) {
    if (opts.secret.length < 32) throw new Error('nonce secret must be at least 32 bytes');
    this.secret = opts.secret;
    this.lifetimeS = opts.lifetimeS ?? 300;
    this.bindSourceIp = opts.bindSourceIp ?? false;
  }

  /** A fresh nonce for `realm`, issued at `nowMs`. */
  issue(realm: string, sourceIp: string, nowMs: number): string {
    const head = Buffer.alloc(TIME_BYTES + RANDOM_BYTES);
    head.writeUInt32BE(Math.floor(nowMs / 1000) >>> 0, 0);
    randomBytes(RANDOM_BYTES).copy(head, TIME_BYTES);
    return Buffer.concat([head, this.mac(head, realm, sourceIp)]).toString('base64url');
  }

  /**
   * Whether `nonce` is one of ours for `realm` (and the source, when bound), and still within its lifetime. A nonce
   * from the future (a tampered timestamp passes no MAC, but a clock stepped back might) counts as invalid.
   */
  check(nonce: string, realm: string, sourceIp: string, nowMs: number): NonceCheck {
    if (nonce.length !== NONCE_CHARS || !/^[A-Za-z0-9_-]+$/.test(nonce)) return { kind: 'invalid' };
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== NONCE_BYTES) return { kind: 'invalid' };
    const head = raw.subarray(0, TIME_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(raw.subarray(TIME_BYTES + RANDOM_BYTES), this.mac(head, realm, sourceIp))) return { kind: 'invalid' };
    const issuedS = raw.readUInt32BE(0);
    const nowS = Math.floor(nowMs / 1000);
    if (issuedS > nowS + 1) return { kind: 'invalid' };
    return nowS - issuedS >= this.lifetimeS ? { kind: 'expired', issuedS } : { kind: 'valid', issuedS };
  }

  private mac(head: Buffer, realm: string, sourceIp: string): Buffer {
    const h = createHmac('sha256', this.secret).update(head).update('\u0000').update(realm, 'utf8');
    if (this.bindSourceIp) h.update('\u0000').update(sourceIp, 'utf8');
    return h.digest().subarray(0, MAC_BYTES);
  }
}
