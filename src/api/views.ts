import type { AccountRecord, DeviceRecord, UserRecord } from '../store/records.js';

/**
 * Records as the API shows them (Kazoo-shaped, snake_case). Secrets never appear: no password, hash, API key or
 * token field exists in any view. Optional fields are left out when unset, as the platform did.
 */
export function accountView(a: AccountRecord): Record<string, unknown> {
  return { id: a.id, name: a.name, parent_id: a.parentId, realm: a.realm };
}

export function deviceView(d: DeviceRecord): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    ...(d.ownerId !== null ? { owner_id: d.ownerId } : {}),
    ...(d.presenceId !== null ? { presence_id: d.presenceId } : {}),
    sip: { username: d.sipUsername },
  };
}

/** Listing entry: a summary without nested objects. */
export function deviceSummary(d: DeviceRecord): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    ...(d.ownerId !== null ? { owner_id: d.ownerId } : {}),
    ...(d.presenceId !== null ? { presence_id: d.presenceId } : {}),
    username: d.sipUsername,
  };
}

export function userView(u: UserRecord): Record<string, unknown> {
  return {
    id: u.id,
    first_name: u.firstName,
    last_name: u.lastName,
    ...(u.presenceId !== null ? { presence_id: u.presenceId } : {}),
    ...(u.username !== null ? { username: u.username } : {}),
  };
}
