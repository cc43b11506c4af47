import type { DeviceRecord, UserRecord } from '../store/records.js';

/**
 * Which presence resources (lower-cased user parts) an admin command addresses (api-contract.md, presence):
 * a device's `presence_id`, else its SIP user name; a user's `presence_id`, else every device it owns.
 * A `presence_id` written `id@realm` is used without the `@realm`: the account's realm always applies.
 */
export function presenceUser(presenceId: string): string {
  const at = presenceId.indexOf('@');
  return (at === -1 ? presenceId : presenceId.slice(0, at)).toLowerCase();
}

export function deviceResources(device: DeviceRecord): string[] {
  return [presenceUser(device.presenceId ?? device.sipUsername)];
}

export function userResources(user: UserRecord, ownedDevices: readonly DeviceRecord[]): string[] {
  if (user.presenceId !== null) return [presenceUser(user.presenceId)];
  return [...new Set(ownedDevices.flatMap(deviceResources))];
}
