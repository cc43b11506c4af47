import type { Clock } from '../lib/clock.js';
import { newId32 } from '../lib/ids.js';
import type { AdminDataStore } from '../store/ports.js';
import type { DeviceRecord } from '../store/records.js';
import { UnknownIdError, ValidationError } from './account-errors.js';
import { computeDeviceDigest } from './digest-ha1.js';
import { parseData } from './parse-data.js';
import { deviceCreateSchema, deviceUpdateSchema } from './schemas.js';
import type { SecretHasher } from './secrets.js';

export interface DeviceServiceOptions {
  store: AdminDataStore;
  clock: Clock;
  hasher: SecretHasher;
}

/**
 * SIP devices of an account. SIP user names are unique within the account, compared lower-cased, because the
 * presence resource they name is lower-cased (notifier-contract.md, keys). Passwords are hashed before any check
 * that reads the store, so check-and-write runs without an await in between and two concurrent requests cannot
 * both take one user name.
 */
export class DeviceService {
  constructor(private readonly opts: DeviceServiceOptions) {}

  get(accountId: string, id: string): DeviceRecord {
    const dev = this.opts.store.devices.get(id);
    if (!dev || dev.accountId !== accountId) throw new UnknownIdError(id);
    return dev;
  }

  list(accountId: string): DeviceRecord[] {
    return this.opts.store.devices.findByAccount(accountId).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  /** Devices a user owns. */
  ownedBy(accountId: string, userId: string): DeviceRecord[] {
    return this.list(accountId).filter((d) => d.ownerId === userId);
  }

  async create(accountId: string, data: unknown): Promise<DeviceRecord> {
    const input = parseData(deviceCreateSchema, data);
    const hash = await this.opts.hasher.hashPassword(input.sip.password);
    this.check(accountId, null, input.sip.username, input.owner_id ?? null);
    const now = this.opts.clock.now();
    const dev: DeviceRecord = {
      // The HA1s for digest (security.md §2.4), over the name as entered and the account's realm; the password goes.
      sipDigest: this.digestOf(accountId, input.sip.username, input.sip.password),
      id: newId32(),
      accountId,
      name: input.name,
      sipUsername: input.sip.username,
      sipPasswordHash: hash,
      presenceId: input.presence_id ?? null,
      ownerId: input.owner_id ?? null,
      createdAt: now,
      updatedAt: now,
    };
    this.opts.store.devices.put(dev);
    return dev;
  }

  /** POST semantics: replaces the document; a missing `sip.password` keeps the stored one. */
  async update(accountId: string, id: string, data: unknown): Promise<DeviceRecord> {
    this.get(accountId, id);
    const input = parseData(deviceUpdateSchema, data);
    const hash = input.sip.password === undefined ? undefined : await this.opts.hasher.hashPassword(input.sip.password);
    const old = this.get(accountId, id); // re-read: it may have gone while hashing
    this.check(accountId, id, input.sip.username, input.owner_id ?? null);
    const dev: DeviceRecord = {
      ...old,
      name: input.name,
      sipUsername: input.sip.username,
      sipPasswordHash: hash ?? old.sipPasswordHash,
      // A new password re-keys; a new user name without one leaves no valid HA1 (it is part of the hash).
      sipDigest:
        input.sip.password !== undefined
          ? this.digestOf(accountId, input.sip.username, input.sip.password)
          : input.sip.username === old.sipUsername
            ? (old.sipDigest ?? null)
            : null,
      presenceId: input.presence_id ?? null,
      ownerId: input.owner_id ?? null,
      updatedAt: this.opts.clock.now(),
    };
    this.opts.store.devices.put(dev);
    return dev;
  }

  delete(accountId: string, id: string): DeviceRecord {
    const dev = this.get(accountId, id);
    this.opts.store.devices.delete(id);
    return dev;
  }

  private digestOf(accountId: string, username: string, password: string): DeviceRecord['sipDigest'] {
    const realm = this.opts.store.accounts.get(accountId)?.realm;
    return realm === undefined ? null : computeDeviceDigest(username, realm, password);
  }

  private check(accountId: string, self: string | null, sipUsername: string, ownerId: string | null): void {
    const wanted = sipUsername.toLowerCase();
    const taken = this.opts.store.devices
      .findByAccount(accountId)
      .some((d) => d.id !== self && d.sipUsername.toLowerCase() === wanted);
    if (taken) throw ValidationError.one('sip.username', 'unique', 'SIP user name already in use in this account', 'unique');
    if (ownerId !== null) {
      const owner = this.opts.store.users.get(ownerId);
      if (!owner || owner.accountId !== accountId) {
        throw ValidationError.one('owner_id', 'not_found', 'Owner must be a user of this account', 'user');
      }
    }
  }
}
