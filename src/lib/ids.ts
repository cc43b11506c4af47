import { randomBytes } from 'node:crypto';

/** RFC 3261 §8.1.1.7: every branch we create starts with the magic cookie. */
export const BRANCH_COOKIE = 'z9hG4bK';

// Random bytes are drawn in blocks: one syscall serves many ids on hot paths (NOTIFY fan-out).
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const out = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return out;
}

/** Copies `length` random bytes from the pool into `target` at `offset` (the digest nonces' random part). */
export function randomInto(target: Buffer, offset: number, length: number): void {
  if (poolOffset + length > pool.length) {
    pool = randomBytes(Math.max(4096, length));
    poolOffset = 0;
  }
  pool.copy(target, offset, poolOffset, poolOffset + length);
  poolOffset += length;
}

/** A dialog tag (RFC 3261 §19.3: at least 32 bits of randomness). */
export function newTag(): string {
  return randomHex(6);
}

/** A client transaction branch, RFC 3261 §17.1.3 compliant. */
export function newBranch(): string {
  return BRANCH_COOKIE + randomHex(10);
}

/** An entity tag for PUBLISH (RFC 3903 §4.1). */
export function newETag(): string {
  return randomHex(8);
}

/** A Call-ID for requests we originate outside a dialog. */
export function newCallId(host: string): string {
  return `${randomHex(12)}@${host}`;
}

/** 32 lower-case hex characters: account, device, user and request ids (api-contract.md). */
export function newId32(): string {
  return randomHex(16);
}
