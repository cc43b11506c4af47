import type { Clock } from '../lib/clock.js';
import { transportNamed } from '../sip/transport/transport-descriptor.js';
import type { StringPool } from '../lib/strings.js';
import type { PresenceStateStore } from '../store/ports.js';
import type { LastNotifyRecord, SubscriptionRecord } from '../store/records.js';
import { poolSharedStrings } from './compact-record.js';
import type { LiveSubscription } from './live-subscription.js';
import { SubscriptionState } from './subscription-state.js';

export interface RestoreDeps {
  store: PresenceStateStore;
  clock: Clock;
  strings: StringPool;
  /** A subscription already live under this id (restore twice): left as it is. */
  has(id: string): boolean;
  /** Takes a restored subscription into the live set and arms its expiry. */
  addLive(rec: LiveSubscription): void;
}

/**
 * Loads the stored subscriptions: expired ones and those only a connection of the last run could reach (WebSocket)
 * are deleted, the rest are live again with their expiry armed. The
 * store answers the load asynchronously (presence-state-port.ts); everything after it happens in one turn of the
 * event loop, so no request sees half the subscriptions restored. CSeq
 * and version continue from what was stored, which is exact after a clean stop (`checkpoint`). After a crash the
 * store lags by up to SEQUENCE_LEASE NOTIFYs plus its unflushed writes (about 100 ms), so the caller passes a
 * `headroom` that both jump by: CSeq and version must never go back (RFC 3261 §12.2.1.1, RFC 4235 §4.1); a gap only
 * makes a phone refresh. The CSeq the list shows as the last NOTIFY's moves with them (lastNotifyAfterCrash).
 */
export async function restoreSubscriptions(deps: RestoreDeps, headroom: number): Promise<{ restored: number; dropped: number }> {
  const now = deps.clock.now();
  const all = await deps.store.subscriptions.loadAll();
  let restored = 0;
  let dropped = 0;
  for (const stored of all) {
    // A WebSocket subscription's connection died with the process and no other can reach it (transports.md §3.2).
    if (stored.expiresAt <= now || transportNamed(stored.flow.protocol)?.dialable === false) {
      deps.store.subscriptions.delete(stored.id);
      dropped++;
      continue;
    }
    if (deps.has(stored.id)) continue;
    // The loaded record becomes the live one (no copy): it only gains the live-set fields.
    const rec = stored as LiveSubscription;
    rec.storedCseq = stored.localCseq;
    rec.wheelSlot = -1;
    rec.identity = undefined;
    // Stored subscriptions were active when written (ended ones are deleted): they come back as they were.
    rec.state = SubscriptionState.Active;
    // Whether it ever answered is not stored; it had the benefit of the doubt before the restart and keeps it.
    rec.reached = true;
    // No connection survives a restart, and connection ids start again from 1: a stored id would name whichever new
    // connection got it, another peer's. Without one, a NOTIFY finds the flow gone and, unless the subscription came
    // from a trusted peer, waits for the watcher's refresh on a new connection (subscription-dialog.ts).
    if (rec.flow.connectionId !== null) rec.flow = { ...rec.flow, connectionId: null };
    poolSharedStrings(rec, deps.strings);
    if (headroom > 0) {
      rec.localCseq += headroom;
      rec.version = (rec.version + headroom) >>> 0;
      rec.lastNotify = lastNotifyAfterCrash(rec);
      deps.store.subscriptions.put(rec);
      rec.storedCseq = rec.localCseq;
    }
    deps.addLive(rec);
    restored++;
  }
  return { restored, dropped };
}

/**
 * What a subscription restored with headroom records as its last NOTIFY. The list shows its CSeq as
 * `notify.sequence`, "the CSeq of the last NOTIFY" (api-contract.md), and the next NOTIFY must carry that plus one, as
 * in a running server. After a crash the CSeq really used is only known to lie below the one moved ahead, so the
 * sequence follows it: left behind, it showed 1 while the next NOTIFY carried 66. Body and answer stay the last ones
 * the store knew of (none: the contract's "undefined" and 0), the best there is until the next NOTIFY replaces them.
 */
function lastNotifyAfterCrash(rec: SubscriptionRecord): LastNotifyRecord {
  return { cseq: rec.localCseq, reply: rec.lastNotify?.reply ?? 0, body: rec.lastNotify?.body ?? 'undefined' };
}
