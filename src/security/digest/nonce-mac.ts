import { hash } from 'node:crypto';

/**
 * HMAC-SHA256 (RFC 2104) over the nonce's fields, the same bytes `createHmac('sha256', key)` gives, computed with
 * two one-shot `crypto.hash` calls over buffers kept between calls. A nonce is made and checked once each per
 * digest subscription, and `createHmac` (a KeyObject, an Hmac object, a Buffer per call) cost about 2.5 µs against
 * about 1 µs here (issue 19). `binary` (latin1) moves the digests as one byte per character: `crypto.hash` returning a
 * Buffer is the slow path on Node 20.
 */
const BLOCK = 64;
const SHA256_BYTES = 32;

export class NonceMac {
  /** K ⊕ ipad, then the message; grown when a message does not fit. */
  private inner: Buffer;
  /** K ⊕ opad, then the inner digest. */
  private readonly outer = Buffer.alloc(BLOCK + SHA256_BYTES);

  constructor(secret: Buffer) {
    // RFC 2104 §2: a key longer than the block is hashed first.
    const key = secret.length > BLOCK ? hash('sha256', secret, 'buffer') : secret;
    this.inner = Buffer.alloc(BLOCK + 256);
    for (let i = 0; i < BLOCK; i++) {
      const k = i < key.length ? key[i]! : 0;
      this.inner[i] = k ^ 0x36;
      this.outer[i] = k ^ 0x5c;
    }
  }

  /**
   * The first `out.length` bytes (at most 32) of HMAC(head ‖ 0x00 ‖ realm [‖ 0x00 ‖ sourceIp]), written into `out`
   * at `offset`. Not re-entrant (shared buffers), which a single-threaded caller never is.
   */
  into(out: Buffer, offset: number, length: number, head: Buffer, realm: string, sourceIp: string | undefined): void {
    const need = BLOCK + head.length + 2 + 3 * (realm.length + (sourceIp?.length ?? 0));
    if (need > this.inner.length) {
      const bigger = Buffer.alloc(need);
      this.inner.copy(bigger, 0, 0, BLOCK);
      this.inner = bigger;
    }
    const buf = this.inner;
    let n = BLOCK + head.copy(buf, BLOCK);
    buf[n++] = 0;
    n += buf.write(realm, n, 'utf8');
    if (sourceIp !== undefined) {
      buf[n++] = 0;
      n += buf.write(sourceIp, n, 'utf8');
    }
    this.outer.write(hash('sha256', buf.subarray(0, n), 'binary'), BLOCK, 'binary');
    out.write(hash('sha256', this.outer, 'binary'), offset, length, 'binary');
  }
}
