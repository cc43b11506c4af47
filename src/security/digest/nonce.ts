import { timingSafeEqual } from 'node:crypto';
import { randomInto } from '../../lib/ids.js';
import { NonceMac } from './nonce-mac.js';

/**
 * Stateless nonces (security.md §2.5.1): base64url(issued_s ‖ 8 random bytes ‖ first 16 bytes of
 * HMAC-SHA256(secret, issued_s ‖ random ‖ realm [‖ source IP])). The server keeps nothing per nonce it hands out;
 * a nonce proves that we issued it, when, and for which realm. Not bound to the source port (TCP reconnects, NAT);
 * to the source IP only when asked.
 */
export interface NonceServiceOptions {
  /**
   * At least 32 bytes; kept with the data, so nonces survive a restart. In cluster mode every node adopts the one kept
   * in the engine (`rekey`), so any node verifies any node's nonce.
   */
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
const HEAD_BYTES = TIME_BYTES + RANDOM_BYTES;
const NONCE_BYTES = HEAD_BYTES + MAC_BYTES;
/** base64url of 28 bytes, unpadded. */
const NONCE_CHARS = Math.ceil((NONCE_BYTES * 4) / 3);

export class NonceService {
  readonly lifetimeS: number;
  private mac: NonceMac;
  /** The key in use before `rekey`: its nonces still verify until they expire (cluster mode adopting the shared key). */
  private previous: NonceMac | undefined;
  private readonly bindSourceIp: boolean;
  /** The MAC a check computes, compared with the nonce's own (reused: checks never overlap). */
  private readonly expected = Buffer.alloc(MAC_BYTES);

  constructor(opts: NonceServiceOptions) {
    this.mac = new NonceMac(checkedSecret(opts.secret));
    this.lifetimeS = opts.lifetimeS ?? 300;
    this.bindSourceIp = opts.bindSourceIp ?? false;
  }

  /**
   * Issues nonces under `secret` from now on (cluster mode: the secret every node shares, once the engine answers).
   * Nonces of the key in use until now still verify, so a challenge sent just before is not answered with a second.
   */
  rekey(secret: Buffer): void {
    const next = new NonceMac(checkedSecret(secret));
    this.previous = this.mac;
    this.mac = next;
  }

  /** A fresh nonce for `realm`, issued at `nowMs`. */
  issue(realm: string, sourceIp: string, nowMs: number): string {
    // One buffer, random bytes from the shared pool: randomBytes(8) per nonce was a 7 µs call (issue 19).
    const raw = Buffer.allocUnsafe(NONCE_BYTES);
    raw.writeUInt32BE(Math.floor(nowMs / 1000) >>> 0, 0);
    randomInto(raw, TIME_BYTES, RANDOM_BYTES);
    this.mac.into(raw, HEAD_BYTES, MAC_BYTES, raw.subarray(0, HEAD_BYTES), realm, this.bindSourceIp ? sourceIp : undefined);
    return raw.toString('base64url');
  }

  /**
   * Whether `nonce` is one of ours for `realm` (and the source, when bound), and still within its lifetime. A nonce
   * from the future (a tampered timestamp passes no MAC, but a clock stepped back might) counts as invalid.
   */
  check(nonce: string, realm: string, sourceIp: string, nowMs: number): NonceCheck {
    if (nonce.length !== NONCE_CHARS || !/^[A-Za-z0-9_-]+$/.test(nonce)) return { kind: 'invalid' };
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== NONCE_BYTES) return { kind: 'invalid' };
    if (!this.signed(this.mac, raw, realm, sourceIp) && (this.previous === undefined || !this.signed(this.previous, raw, realm, sourceIp))) {
      return { kind: 'invalid' };
    }
    const issuedS = raw.readUInt32BE(0);
    const nowS = Math.floor(nowMs / 1000);
    if (issuedS > nowS + 1) return { kind: 'invalid' };
    return nowS - issuedS >= this.lifetimeS ? { kind: 'expired', issuedS } : { kind: 'valid', issuedS };
  }

  private signed(mac: NonceMac, raw: Buffer, realm: string, sourceIp: string): boolean {
    mac.into(this.expected, 0, MAC_BYTES, raw.subarray(0, HEAD_BYTES), realm, this.bindSourceIp ? sourceIp : undefined);
    return timingSafeEqual(raw.subarray(HEAD_BYTES), this.expected);
  }
}

function checkedSecret(secret: Buffer): Buffer {
  if (secret.length < 32) throw new Error('nonce secret must be at least 32 bytes');
  return secret;
}
