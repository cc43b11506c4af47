import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Hashing of every secret the admin API keeps. Passwords get scrypt (memory-hard, salted) because people choose them;
 * API keys and tokens are 256 random bits, for which one SHA-256 is already out of reach of guessing and costs
 * nothing per request.
 */
export interface SecretHasherOptions {
  /** scrypt cost N (a power of two). Default 16384 (~16 MiB, tens of ms); tests pass a small one. */
  scryptCost?: number;
}

const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const CREDENTIALS_SALT = Buffer.from('piston-credentials-v2', 'utf8');

function scryptAsync(secret: string, salt: Buffer, cost: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: cost, r: BLOCK_SIZE, p: PARALLELISM, maxmem: 256 * cost * BLOCK_SIZE + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LENGTH, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function md5Hex(value: string): string {
  return createHash('md5').update(value, 'utf8').digest('hex');
}

/** A new auth token: 256 random bits, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A new API key: 64 lower-case hex (api-contract.md). */
export function newApiKey(): string {
  return randomBytes(32).toString('hex');
}

export class SecretHasher {
  private readonly cost: number;

  constructor(opts: SecretHasherOptions = {}) {
    this.cost = opts.scryptCost ?? 16384;
  }

  /** `scrypt$N$r$p$salt$hash` (base64url parts): the parameters travel with the hash, so the cost can change later. */
  async hashPassword(password: string): Promise<string> {
    return this.encode(password, randomBytes(16));
  }

  async verifyPassword(password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const cost = Number(parts[1]);
    if (!Number.isInteger(cost) || cost < 2) return false;
    const want = Buffer.from(parts[5]!, 'base64url');
    const got = await scryptAsync(password, Buffer.from(parts[4]!, 'base64url'), cost);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /**
   * The stored form of user_auth credentials (`md5(lower(username):password)`, api-contract.md). A login must find
   * the user from the credentials alone, so the salt is fixed: one scrypt per login attempt, whatever the number of
   * accounts its name matches (issue 19 item 6: per-account salts cost one scrypt per matching account). The user
   * name inside the MD5 already keeps two users' equal passwords apart.
   */
  async credentialsHash(md5Credentials: string): Promise<string> {
    return this.encode(md5Credentials.toLowerCase(), CREDENTIALS_SALT);
  }

  private async encode(secret: string, salt: Buffer): Promise<string> {
    const key = await scryptAsync(secret, salt, this.cost);
    return ['scrypt', this.cost, BLOCK_SIZE, PARALLELISM, salt.toString('base64url'), key.toString('base64url')].join('$');
  }
}
