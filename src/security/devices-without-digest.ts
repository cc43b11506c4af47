import { digestReady } from '../accounts/digest-ha1.js';
import type { AdminDataStore } from '../store/admin-data-port.js';

export interface DeviceWithoutDigest {
  accountId: string;
  realm: string;
  deviceId: string;
  username: string;
}

/**
 * Devices that cannot answer a digest challenge (security.md §2.4): their password was set before HA1s were kept, or
 * their account's realm changed since. The server names them once at start; a new password fixes each.
 */
export function devicesWithoutDigest(store: AdminDataStore): DeviceWithoutDigest[] {
  const out: DeviceWithoutDigest[] = [];
  for (const acc of store.accounts.loadAll()) {
    for (const d of store.devices.findByAccount(acc.id)) {
      if (!digestReady(d.sipDigest, acc.realm)) out.push({ accountId: acc.id, realm: acc.realm, deviceId: d.id, username: d.sipUsername });
    }
  }
  return out;
}
