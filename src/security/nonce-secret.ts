import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
    const text = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]{64,}$/i.test(text)) throw new Error(`${path} does not hold a nonce secret (64 hex characters); delete it to make a new one`);
    return Buffer.from(text, 'hex');
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32);
  writeFileSync(path, secret.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}
