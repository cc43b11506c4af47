import { setNewest } from '../lib/bounded-map.js';
import type { Clock } from '../lib/clock.js';
import { isDigestAlgorithm, type DigestAlgorithm } from '../lib/digest-hash.js';
import { detach } from '../lib/strings.js';
import type { AdminDataStore } from '../store/admin-data-port.js';
import type { DeviceDigestRecord, DeviceRecord } from '../store/records.js';

/** An account as the SIP policy needs it: the realm a challenge names and the algorithms it offers. */
export interface DigestAccount {
  readonly id: string;
  readonly realm: string;
  /** Strongest first; never empty (MD5 alone by default). */
  readonly algorithms: readonly DigestAlgorithm[];
}

/** A device as the SIP policy needs it. */
export interface DigestDevice {
  readonly id: string;
  readonly accountId: string;
  /** As entered (the HA1s are over this spelling). */
  readonly username: string;
  readonly digest: DeviceDigestRecord | null;
  /** Lower-cased user parts it may PUBLISH presence for: its presence id, else its SIP user name. */
  readonly presenceIds: readonly string[];
  /** Lower-cased mailboxes it may watch (security.md §3.2): its presence id, SIP user name, its owner's presence id. */
  readonly mailboxes: readonly string[];
}

/** The SIP policy's synchronous view of accounts and devices (hooks run on the SIP path and wait for nothing). */
export interface CredentialDirectory {
  account(accountId: string): DigestAccount | undefined;
  accountByRealm(realm: string): DigestAccount | undefined;
  /** The device with this SIP user name (compared lower-cased) in the account. */
  device(accountId: string, username: string): DigestDevice | undefined;
}

/**
 * The directory over the admin-data store, with short-lived caches (accounts by id and by realm, devices by account
 * and SIP user name) so that a burst of SUBSCRIBEs does not read the store once each: every digest request asks for
 * its account (the challenge's realm), and with SQLite that read was a query per request (issue 19's bench). A
 * password, realm or algorithm change is seen within `ttlMs`. Devices are cached one by one: a stale entry re-reads
 * that device (and its owner) alone, not the whole account, whose 10,000 phones would otherwise be read every `ttlMs`.
 */
export class StoreCredentialDirectory implements CredentialDirectory {
  /** Devices found, by `accountId\n` + lower-cased user name. */
  private readonly devices = new Map<string, { at: number; device: DigestDevice }>();
  /** Names no device has (foreign or mistyped credentials), apart so that a spray of them never evicts a device. */
  private readonly unknownDevices = new Map<string, number>();
  private readonly accounts = new Map<string, { at: number; account: DigestAccount | undefined }>();
  private readonly realms = new Map<string, { at: number; account: DigestAccount | undefined }>();
  private readonly ttlMs: number;

  constructor(
    private readonly store: AdminDataStore,
    private readonly clock: Clock,
    opts: { ttlMs?: number } = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 1000;
  }

  account(accountId: string): DigestAccount | undefined {
    return this.cached(this.accounts, accountId, () => {
      const acc = this.store.accounts.get(accountId);
      return acc && digestAccount(acc.id, acc.realm, acc.digestAlgorithms);
    });
  }

  accountByRealm(realm: string): DigestAccount | undefined {
    const key = realm.toLowerCase();
    return this.cached(this.realms, key, () => {
      const acc = this.store.accounts.findByRealm(key);
      return acc && digestAccount(acc.id, acc.realm, acc.digestAlgorithms);
    });
  }

  /** An unknown key is cached too (a realm nobody claims, asked by every foreign credential); bounded. */
  private cached(
    cache: Map<string, { at: number; account: DigestAccount | undefined }>,
    key: string,
    load: () => DigestAccount | undefined,
  ): DigestAccount | undefined {
    const now = this.clock.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.account;
    const account = load();
    // A realm as parsed is a view onto the request's text: the key must not keep the request alive.
    setNewest(cache, detach(key), { at: now, account }, MAX_KEYS);
    return account;
  }

  device(accountId: string, username: string): DigestDevice | undefined {
    const now = this.clock.now();
    // Account ids are hex (no newline), so the key names one pair.
    const key = `${accountId}\n${username.toLowerCase()}`;
    const hit = this.devices.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.device;
    const missAt = this.unknownDevices.get(key);
    if (missAt !== undefined && now - missAt < this.ttlMs) return undefined;
    const record = this.store.devices.findBySipUsername(accountId, username);
    const device = record && this.view(record);
    // The user name is a view onto the request's text: the key must not keep the request alive.
    if (device) {
      this.unknownDevices.delete(key);
      setNewest(this.devices, detach(key), { at: now, device }, MAX_DEVICES);
    } else {
      this.devices.delete(key);
      setNewest(this.unknownDevices, detach(key), now, MAX_KEYS);
    }
    return device;
  }

  private view(d: DeviceRecord): DigestDevice {
    const own = d.presenceId === null ? d.sipUsername : userPart(d.presenceId);
    const owner = d.ownerId === null ? undefined : this.store.users.get(d.ownerId);
    const ownerBox = owner?.presenceId ? [userPart(owner.presenceId).toLowerCase()] : [];
    return {
      id: d.id,
      accountId: d.accountId,
      username: d.sipUsername,
      digest: d.sipDigest ?? null,
      presenceIds: [own.toLowerCase()],
      mailboxes: [...new Set([own.toLowerCase(), d.sipUsername.toLowerCase(), ...ownerBox])],
    };
  }
}

/** Devices that authenticated within `ttlMs`: beyond the phones of the largest deployment this serves. */
const MAX_DEVICES = 100_000;
/** Accounts, realms and unknown device names: each map drops its oldest entry beyond this. */
const MAX_KEYS = 10_000;

export function digestAccount(id: string, realm: string, algorithms: readonly string[] | undefined): DigestAccount {
  const offered = (algorithms ?? []).filter(isDigestAlgorithm);
  return { id, realm, algorithms: offered.length > 0 ? offered : ['MD5'] };
}

/** A presence id may be written `id@realm`; the realm part is ignored (api-contract.md). */
function userPart(presenceId: string): string {
  const at = presenceId.indexOf('@');
  return at === -1 ? presenceId : presenceId.slice(0, at);
}
