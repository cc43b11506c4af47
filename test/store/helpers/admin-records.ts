import type { AccountRecord, ApiKeyRecord, AuthTokenRecord, DeviceRecord, UserRecord } from '../../../src/store/records.js';
import { T0 } from './records.js';

export const ACCOUNT_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
export const ACCOUNT_B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

/** Fully populated admin records, every field distinct so a swapped column shows up. */
export function accountRecord(over: Partial<AccountRecord> = {}): AccountRecord {
  return {
    id: ACCOUNT_A,
    name: 'Acme',
    realm: 'acme.example.com',
    parentId: null,
    createdAt: T0,
    updatedAt: T0 + 1,
    digestAlgorithms: ['SHA-256', 'MD5'],
    ...over,
  };
}

export function deviceRecord(over: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id: 'd0000000000000000000000000000001',
    accountId: ACCOUNT_A,
    name: 'Desk phone',
    sipUsername: 'Alice1001',
    sipPasswordHash: 'scrypt$1024$8$1$c2FsdA$aGFzaA',
    presenceId: '1001',
    ownerId: 'u0000000000000000000000000000001',
    createdAt: T0 + 2,
    updatedAt: T0 + 3,
    sipDigest: {
      realm: 'acme.example.com',
      ha1Md5: '1'.repeat(32),
      ha1bMd5: '2'.repeat(32),
      ha1Sha256: '3'.repeat(64),
      ha1Sha512_256: '4'.repeat(64),
    },
    ...over,
  };
}

export function userRecord(over: Partial<UserRecord> = {}): UserRecord {
  return {
    id: 'u0000000000000000000000000000001',
    accountId: ACCOUNT_A,
    firstName: 'Alice',
    lastName: 'Liddell',
    presenceId: '2001',
    username: 'alice',
    passwordHash: 'scrypt$1024$8$1$c2FsdDE$aGFzaDE',
    credentialsHash: 'scrypt$1024$8$1$c2FsdDI$aGFzaDI',
    createdAt: T0 + 4,
    updatedAt: T0 + 5,
    ...over,
  };
}

export function apiKeyRecord(over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return { keyHash: 'k'.repeat(64), accountId: ACCOUNT_A, createdAt: T0 + 6, ...over };
}

export function authTokenRecord(over: Partial<AuthTokenRecord> = {}): AuthTokenRecord {
  return {
    tokenHash: 't'.repeat(64),
    accountId: ACCOUNT_A,
    ownerId: 'u0000000000000000000000000000001',
    method: 'credentials',
    createdAt: T0 + 7,
    lastUsedAt: T0 + 8,
    ...over,
  };
}
