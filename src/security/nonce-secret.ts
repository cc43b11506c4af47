import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NONCE_SECRET_FILE = 'sip-nonce-secret';

/**
 * The nonce HMAC key (security.md §2.5.1), made on first start and kept with the data (mode 0600), so nonces given
 * out before a restart still verify after it. A file that is not 64 hex characters is an error, not silently replaced:
 * it would mean the data directory is not what it seems.
 */
export function loadNonceSecret(dataDir: string): Buffer {
  const path = join(dataDir, NONCE_SECRET_FILE);
  if (existsSync(path)) {
    const secret = parseNonceSecret(readFileSync(path, 'utf8'));
    if (secret === undefined) throw new Error(`${path} does not hold a nonce secret (64 hex characters); delete it to make a new one`);
    return secret;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32);
  writeFileSync(path, secret.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}

/** A nonce secret as written (64 or more hex characters), or undefined. */
export function parseNonceSecret(text: string): Buffer | undefined {
  const hex = text.trim();
  return /^[0-9a-f]{64,}$/i.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/**
 * Replaces the kept secret (cluster mode: the one the cluster shares, so a restart while the engine is unreachable
 * still issues nonces every node accepts). Written beside and renamed over, so a crash leaves one whole file.
 */
export function saveNonceSecret(dataDir: string, secret: Buffer): void {
  const path = join(dataDir, NONCE_SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(`${path}.new`, secret.toString('hex') + '\n', { mode: 0o600 });
  renameSync(`${path}.new`, path);
}
