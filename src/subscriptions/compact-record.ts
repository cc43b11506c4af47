import { detach, type StringPool } from '../lib/strings.js';
import type { FlowRecord, SubscriptionRecord } from '../store/records.js';

/**
 * Gives a subscription record its own copies of every string, so that a record kept for hours holds neither the
 * SUBSCRIBE it came from (its header values are views into the message text) nor a copy of values that thousands of
 * subscriptions share: domains, addresses, media types and the like come from `pool`. Mutates and returns `rec`.
 */
export function compactRecord<R extends SubscriptionRecord>(rec: R, pool: StringPool): R {
  rec.id = detach(rec.id);
  rec.callId = detach(rec.callId);
  rec.localTag = detach(rec.localTag);
  rec.remoteTag = detach(rec.remoteTag);
  rec.watcherUser = detach(rec.watcherUser);
  rec.watcherUri = detach(rec.watcherUri);
  rec.contact = detach(rec.contact);
  rec.routeSet = rec.routeSet.length === 0 ? EMPTY : rec.routeSet.map(detach);
  return poolSharedStrings(rec, pool);
}

/**
 * Only the pooling half of `compactRecord`, for records whose strings are already their own (read from the store:
 * SQLite hands out fresh strings), so a restart of 100,000 subscriptions does not copy every string once more.
 */
export function poolSharedStrings<R extends SubscriptionRecord>(rec: R, pool: StringPool): R {
  rec.event = pool.intern(rec.event);
  rec.eventId = rec.eventId === null ? null : pool.intern(rec.eventId);
  rec.resource = pool.intern(rec.resource);
  rec.domain = pool.intern(rec.domain);
  rec.accountId = rec.accountId === null ? null : pool.intern(rec.accountId);
  rec.watcherDomain = pool.intern(rec.watcherDomain);
  rec.resourceUri = pool.intern(rec.resourceUri);
  rec.flow = compactFlow(rec.flow, pool);
  rec.acceptTypes = rec.acceptTypes.length === 0 ? EMPTY : rec.acceptTypes.map((a) => pool.intern(a));
  rec.node = pool.intern(rec.node);
  return rec;
}

export function compactFlow(flow: FlowRecord, pool: StringPool): FlowRecord {
  flow.localAddress = pool.intern(flow.localAddress);
  flow.remoteAddress = pool.intern(flow.remoteAddress);
  return flow;
}

// Shared by every record without a route set or Accept; nothing mutates these arrays in place (records are replaced
// field by field), and the store copies arrays when it clones.
const EMPTY = Object.freeze([]) as unknown as string[];
