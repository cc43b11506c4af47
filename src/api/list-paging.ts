import { ValidationError } from '../accounts/account-errors.js';
import type { SubscriptionRecord } from '../store/records.js';

/**
 * Kazoo's paging of a list (crossbar: `page_size`, `start_key` → `next_start_key`) for the presence list. A paged list
 * is in one fixed order, by watched resource, then event package, then subscription id (`callId;localTag;remoteTag`,
 * unique), compared as strings; a key names a place in that order, so a page starts at the first subscription at or
 * after its key whatever was added or removed since the key was handed out. `next_start_key` is the key of the first
 * subscription not in the page: a client that follows it sees every subscription that stayed, once.
 */

/** The most subscriptions one page may ask for. */
export const MAX_PAGE_SIZE = 10_000;

/** The fields of a subscription that place it in the paged order. */
export type Keyed = Pick<SubscriptionRecord, 'resource' | 'event' | 'id'>;

/** A place in the paged order: resource, event package, subscription id. */
export type ListKey = readonly [resource: string, event: string, id: string];

export interface Paging {
  /** Subscriptions per page; undefined: every one from the start key on. */
  pageSize: number | undefined;
  startKey: ListKey | undefined;
  /** The start key as the client sent it, echoed in the envelope (Kazoo's `start_key`). */
  startKeyText: string | undefined;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The paged order of two subscriptions. */
export function compareListed(a: Keyed, b: Keyed): number {
  return cmp(a.resource, b.resource) || cmp(a.event, b.event) || cmp(a.id, b.id);
}

/** Where a subscription is relative to a key: negative before it, 0 at it, positive after it. */
export function compareToKey(rec: Keyed, key: ListKey): number {
  return cmp(rec.resource, key[0]) || cmp(rec.event, key[1]) || cmp(rec.id, key[2]);
}

/** The opaque text of a subscription's key: base64url of the JSON array [resource, event, id]. */
export function encodeListKey(rec: Keyed): string {
  return Buffer.from(JSON.stringify([rec.resource, rec.event, rec.id]), 'utf8').toString('base64url');
}

const pageSizeError = (rule: string, target: string): ValidationError =>
  ValidationError.one('page_size', rule, `Value must be an integer from 1 to ${MAX_PAGE_SIZE}`, target);

const startKeyError = (): ValidationError =>
  ValidationError.one('start_key', 'invalid', 'Value must be a next_start_key of an earlier page', 'next_start_key');

function parsePageSize(value: unknown): number {
  if (typeof value !== 'string' || !/^-?[0-9]{1,16}$/.test(value)) throw pageSizeError('type', 'integer');
  const n = Number(value);
  if (n < 1) throw pageSizeError('minimum', '1');
  if (n > MAX_PAGE_SIZE) throw pageSizeError('maximum', String(MAX_PAGE_SIZE));
  return n;
}

function parseStartKey(value: unknown): ListKey {
  if (typeof value !== 'string' || value === '' || !/^[A-Za-z0-9_-]+$/.test(value)) throw startKeyError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw startKeyError();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((p) => typeof p === 'string')) throw startKeyError();
  return parsed as unknown as ListKey;
}

/**
 * The paging parameters of a query; undefined when it has neither (the list is then whole, as before paging). A bad
 * value, or one given twice, is a validation error (400) naming the parameter.
 */
export function parsePaging(query: Record<string, unknown>): Paging | undefined {
  const size = query.page_size;
  const start = query.start_key;
  if (size === undefined && start === undefined) return undefined;
  return {
    pageSize: size === undefined ? undefined : parsePageSize(size),
    startKey: start === undefined ? undefined : parseStartKey(start),
    startKeyText: start === undefined ? undefined : (start as string),
  };
}
