import type { Flow } from '../sip/transport/flow.js';
import { transportNamed } from '../sip/transport/transport-descriptor.js';
import type { FlowRecord } from '../store/records.js';
import type { LiveSubscription } from './live-subscription.js';

/**
 * Subscriptions whose NOTIFYs can go only on their own connection (a WebSocket's: `dialable: false`, RFC 7118), by
 * connection, so that when it closes they end at once, each on its own, without touching other watchers of the same
 * resource (Kamailio #4118: one dead WebSocket watcher made every later one be skipped).
 */
export class FlowBoundSubscriptions {
  private readonly byFlow = new Map<string, Set<LiveSubscription>>();

  /** Files the subscription under its flow when that flow cannot be dialled again. */
  note(rec: LiveSubscription): void {
    const key = boundKey(rec.flow);
    if (key === undefined) return;
    let set = this.byFlow.get(key);
    if (!set) this.byFlow.set(key, (set = new Set()));
    set.add(rec);
  }

  /** Unfiles it (removed, or about to move to another flow). */
  forget(rec: LiveSubscription): void {
    const key = boundKey(rec.flow);
    if (key === undefined) return;
    const set = this.byFlow.get(key);
    if (!set) return;
    set.delete(rec);
    if (set.size === 0) this.byFlow.delete(key);
  }

  /** The subscriptions filed under a connection that has closed; the index forgets that connection. */
  take(flow: Flow): LiveSubscription[] {
    const key = boundKey(flow);
    if (key === undefined) return [];
    const set = this.byFlow.get(key);
    if (!set) return [];
    this.byFlow.delete(key);
    return [...set];
  }

  get size(): number {
    return this.byFlow.size;
  }
}

/** `protocol|connection|remote` for a flow that only its peer can open; undefined for one we can dial. */
function boundKey(flow: Pick<FlowRecord, 'protocol' | 'remoteAddress' | 'remotePort'> & { connectionId?: number | null | undefined }): string | undefined {
  const transport = transportNamed(flow.protocol);
  if (!transport || transport.dialable || flow.connectionId === undefined || flow.connectionId === null) return undefined;
  return `${flow.protocol}|${flow.connectionId}|${flow.remoteAddress}|${flow.remotePort}`;
}
