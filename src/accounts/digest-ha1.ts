import { computeHa1 } from '../lib/digest-hash.js';
import type { DeviceDigestRecord } from '../store/records.js';

/**
 * The HA1s stored for a device when its SIP password is set (security.md §2.4): all four, always, so an account's
 * opt-in to SHA-256 needs no new passwords. The password itself is then dropped.
 */
export function computeDeviceDigest(username: string, realm: string, password: string): DeviceDigestRecord {
  return {
    realm,
    ha1Md5: computeHa1('MD5', username, realm, password),
    ha1bMd5: computeHa1('MD5', `${username}@${realm}`, realm, password),
    ha1Sha256: computeHa1('SHA-256', username, realm, password),
    ha1Sha512_256: computeHa1('SHA-512-256', username, realm, password),
  };
}

/** Whether the device can answer a digest challenge of its account's current realm. */
export function digestReady(digest: DeviceDigestRecord | null | undefined, accountRealm: string | undefined): boolean {
  return digest !== null && digest !== undefined && accountRealm !== undefined && digest.realm === accountRealm;
}
