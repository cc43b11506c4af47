import type { z } from 'zod';
import { digestReady } from '../accounts/digest-ha1.js';
import { isDigestAlgorithm } from '../lib/digest-hash.js';
import type { AccountRecord, DeviceRecord, UserRecord } from '../store/records.js';
import type { accountAnswer, deviceAnswer, deviceSummaryAnswer, userAnswer } from './answer-schemas.js';

/**
 * Records as the API shows them (Kazoo-shaped, snake_case). Secrets never appear: no password, hash, API key or
 * token field exists in any view. Optional fields are left out when unset, as the platform did. Typed by the answer
 * schemas the OpenAPI document is built from (answer-schemas.ts).
 */
export function accountView(a: AccountRecord): z.output<typeof accountAnswer> {
  return {
    id: a.id,
    name: a.name,
    parent_id: a.parentId,
    realm: a.realm,
    ...(a.digestAlgorithms !== undefined && a.digestAlgorithms.length > 0 ? { digest_algorithms: a.digestAlgorithms.filter(isDigestAlgorithm) } : {}),
  };
}

/**
 * `sip.digest_ready` says whether the device can authenticate (security.md §2.4): false for a device whose password
 * was set before digest secrets were kept, or before its account's realm changed; a new password fixes it.
 */
export function deviceView(d: DeviceRecord, accountRealm: string): z.output<typeof deviceAnswer> {
  return {
    id: d.id,
    name: d.name,
    ...(d.ownerId !== null ? { owner_id: d.ownerId } : {}),
    ...(d.presenceId !== null ? { presence_id: d.presenceId } : {}),
    sip: { username: d.sipUsername, digest_ready: digestReady(d.sipDigest, accountRealm) },
  };
}

/** Listing entry: a summary without nested objects. */
export function deviceSummary(d: DeviceRecord): z.output<typeof deviceSummaryAnswer> {
  return {
    id: d.id,
    name: d.name,
    ...(d.ownerId !== null ? { owner_id: d.ownerId } : {}),
    ...(d.presenceId !== null ? { presence_id: d.presenceId } : {}),
    username: d.sipUsername,
  };
}

export function userView(u: UserRecord): z.output<typeof userAnswer> {
  return {
    id: u.id,
    first_name: u.firstName,
    last_name: u.lastName,
    ...(u.presenceId !== null ? { presence_id: u.presenceId } : {}),
    ...(u.username !== null ? { username: u.username } : {}),
  };
}
