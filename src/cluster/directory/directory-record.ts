/**
 * A subscription as the directory mirrors it (cluster.md §6 `pp:sub:{id}`) and back: the fields the admin list and a
 * support look-up need, as strings. Route set, flow details and tags stay on the owner (dialogs are node-owned).
 */
import type { SubscriptionRecord } from '../../store/records.js';
import type { DirectoryEntry } from '../engine-port.js';

type Mirrored = Readonly<SubscriptionRecord>;

/** The mirror of `rec` as its owner `node` sees it now; `mirroredAt` lets the janitor spare entries written after a restart. */
export function directoryEntryOf(rec: Mirrored, node: string, mirroredAt: number): DirectoryEntry {
  return {
    id: rec.id,
    domain: rec.domain,
    node,
    expiresAt: rec.expiresAt,
    fields: {
      callId: rec.callId,
      resource: rec.resource,
      event: rec.event,
      eventId: rec.eventId ?? '',
      watcherUser: rec.watcherUser,
      watcherDomain: rec.watcherDomain,
      watcherUri: rec.watcherUri,
      contact: rec.contact,
      transport: rec.flow.protocol,
      grantedExpires: String(rec.grantedExpires),
      createdAt: String(rec.createdAt),
      refreshedAt: String(rec.refreshedAt),
      localCseq: String(rec.localCseq),
      version: String(rec.version),
      notifyCseq: String(rec.lastNotify?.cseq ?? 0),
      reply: String(rec.lastNotify?.reply ?? 0),
      mirroredAt: String(mirroredAt),
    },
  };
}

/** When the owner wrote the entry (0 if unknown: an entry of an older writer, which the janitor may then remove). */
export function mirroredAtOf(entry: DirectoryEntry): number {
  return num(entry.fields.mirroredAt);
}

/**
 * A remote subscription as a read-only record the admin list can show beside the local ones (`subscriptionView`,
 * list paging): what the owner keeps alone (tags, route set, flow addresses, strikes) is empty. `body` gives the
 * NOTIFY body, asked only when the list writes the entry (cluster.md §7: re-rendered from the shared state).
 */
export function listedRecordOf(entry: DirectoryEntry, body: () => string): Mirrored {
  const f = entry.fields;
  const notifyCseq = num(f.notifyCseq);
  const reply = num(f.reply);
  return {
    id: entry.id,
    callId: f.callId ?? '',
    localTag: '',
    remoteTag: '',
    event: f.event ?? '',
    eventId: f.eventId ? f.eventId : null,
    resource: f.resource ?? '',
    domain: entry.domain,
    accountId: null,
    watcherUser: f.watcherUser ?? '',
    watcherDomain: f.watcherDomain ?? '',
    watcherUri: f.watcherUri ?? '',
    resourceUri: '',
    contact: f.contact ?? '',
    routeSet: [],
    flow: { protocol: f.transport ?? '', localAddress: '', localPort: 0, remoteAddress: '', remotePort: 0, connectionId: null },
    localCseq: num(f.localCseq),
    remoteCseq: 0,
    version: num(f.version),
    acceptTypes: [],
    grantedExpires: num(f.grantedExpires),
    expiresAt: entry.expiresAt,
    createdAt: num(f.createdAt),
    refreshedAt: num(f.refreshedAt),
    strikes: 0,
    // Before any NOTIFY the owner's list shows none either (presence-view.ts: 'undefined', 0, 0).
    lastNotify: notifyCseq === 0 && reply === 0 ? null : lazyNotify(notifyCseq, reply, body),
    node: entry.node,
  };
}

function lazyNotify(cseq: number, reply: number, body: () => string): { cseq: number; reply: number; readonly body: string } {
  return {
    cseq,
    reply,
    get body() {
      return body();
    },
  };
}

function num(text: string | undefined): number {
  const n = Number(text);
  return Number.isFinite(n) ? n : 0;
}
