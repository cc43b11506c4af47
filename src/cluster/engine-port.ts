/**
 * The cluster engine port (cluster.md §1, §5, §6): what several Piston nodes share, behind one async interface, so
 * the Redis adapter (src/cluster/redis/) and the in-memory twin (src/cluster/memory/) pass one contract suite
 * (test/cluster/engine-contract.ts) and a NATS adapter can come later.
 *
 * Unlike the store (src/store/ports.ts, synchronous writes), every call here may cross the network and answers with a
 * Promise. Nothing SIP-specific lives here: the node's notifier and presentity service build documents and decide.
 *
 * Revisions: `rev` is a cluster-wide, strictly increasing change number (one counter for all resources), not a
 * per-resource count. Every commit takes the next number and appends exactly one change entry carrying it, so
 * - the change stream's entries carry consecutive revs: a reader that sees rev != last + 1 knows it missed entries;
 * - each entry also carries `prevRev` (the resource's rev it replaced): a node whose cached rev differs knows it
 *   missed a change of that resource and snapshots it;
 * - an emptied resource is deleted (rev reads 0) without a later commit ever reusing a smaller rev.
 */
import type { JsonValue, ManualState, MailboxRecord, PublicationRecord } from '../store/records.js';

/** A publication as the shared document holds it: the store's record minus the resource it sits under. */
export type SharedPublication = Omit<PublicationRecord, 'resource'>;

/** Mailbox counts as shared (the store's record minus its key). */
export type SharedMailbox = Omit<MailboxRecord, 'mailbox'>;

/** The shared presentity of one resource `user@domain` (cluster.md §6, `pp:res:{R}` `doc`). */
export interface ResourceDoc {
  /** Every live publication of the resource, any event package. */
  publications: SharedPublication[];
  /** The packages' history (ResourceStateRecord.history): opaque to the engine. */
  history: JsonValue;
  manualState: ManualState | null;
  mailbox: SharedMailbox | null;
}

/** A resource as read: `rev` 0 and `doc` null when the engine holds nothing for it. */
export interface ResourceSnapshot {
  resource: string;
  rev: number;
  doc: ResourceDoc | null;
}

/** One entry of the publication expiry index (`pp:pubexp`). */
export interface PublicationExpiry {
  resource: string;
  event: string;
  etag: string;
  expiresAt: number;
}

export interface CommitRequest {
  resource: string;
  /** The rev the writer's document was derived from (0: the writer believes the resource absent). */
  expectedRev: number;
  /** The new document; null deletes the resource (nothing published, no manual state, no mailbox). */
  doc: ResourceDoc | null;
  /**
   * What other nodes apply: the aggregated state per affected package (~200–400 B), opaque to the engine; null for a
   * refresh-only commit, which still takes a rev and an entry so that gaps show.
   */
  state: JsonValue | null;
  /** The node that committed (stream field `o`). */
  origin: string;
  /** Set for admin reset/set: receivers NOTIFY even when the rendered state looks unchanged. */
  force: boolean;
}

export type CommitResult =
  | { ok: true; rev: number }
  /** The resource moved on (or is absent, `rev` 0): re-read, re-apply, retry. Nothing was written. */
  | { ok: false; rev: number };

/** One change-stream entry (`pp:chg`). */
export interface ChangeEntry {
  /** The engine's id of the entry; opaque. */
  id: string;
  resource: string;
  rev: number;
  /** The resource's rev before this change (0 when it was absent). */
  prevRev: number;
  origin: string;
  force: boolean;
  state: JsonValue | null;
  /** True when the commit deleted the resource. */
  deleted: boolean;
}

/** Where a reader stands in the change stream: the last entry it consumed and that entry's rev. */
export interface ChangeCursor {
  id: string;
  rev: number;
}

export interface ChangeBatch {
  entries: ChangeEntry[];
  /** The cursor after `entries` (unchanged when there are none). */
  cursor: ChangeCursor;
  /**
   * True when entries between the old cursor and this batch were lost (trimmed, or the engine lost its data): the
   * reader must snapshot every resource it watches (cluster.md §7, "Order and idempotency").
   */
  gap: boolean;
}

/** A subscription's mirror in the directory (cluster.md §6 `pp:sub:{id}`): string fields, the owner's view. */
export interface DirectoryEntry {
  id: string;
  domain: string;
  node: string;
  /** ms epoch; the entry leaves listings then and its key lapses `DIRECTORY_GRACE_MS` later. */
  expiresAt: number;
  /** The rest of the mirrored fields (callId, resource, event, from, contact, localCseq, version, ...), as strings. */
  fields: Record<string, string>;
}

/** How long a directory entry's key outlives its expiresAt (cluster.md §6: expiresAt + 60 s). */
export const DIRECTORY_GRACE_MS = 60_000;

/** A node as the registry knows it. */
export interface NodeStatus {
  node: string;
  /** ms epoch of its last heartbeat. */
  lastSeen: number;
  /** Whether its heartbeat key is still alive (beat within its TTL). */
  alive: boolean;
  /** What it announced with its last beat (SIP/API addresses); null once the beat lapsed. */
  info: JsonValue | null;
}

export interface ClusterEngine {
  /** Reads a resource with its rev (a snapshot for a cache miss, a resync or a gap). */
  getResource(resource: string): Promise<ResourceSnapshot>;
  /**
   * Atomically: if the resource's rev equals `expectedRev`, writes (or deletes) its document, takes the next rev,
   * replaces the resource's entries in the publication expiry index by the new document's, and appends one change
   * entry. Otherwise writes nothing and answers the current rev.
   */
  commit(request: CommitRequest): Promise<CommitResult>;
  /** Publication expiries due at `now` (score <= now), earliest first, at most `limit`. */
  dueExpiries(now: number, limit: number): Promise<PublicationExpiry[]>;

  /** The cursor at the stream's end: a new reader starts there after its snapshot. */
  latestCursor(): Promise<ChangeCursor>;
  /**
   * Entries after `cursor`, at most `count`; waits up to `blockMs` (0: not at all) for one to arrive when none is
   * there. A blocking read holds a connection of its own, so other calls are not delayed by it.
   */
  readChanges(cursor: ChangeCursor, count: number, blockMs: number): Promise<ChangeBatch>;

  /** Writes (or rewrites) a subscription's mirror and its domain and node indexes. */
  mirrorSubscription(entry: DirectoryEntry): Promise<void>;
  /** Removes a mirror and its index entries; a missing one is a no-op. */
  removeSubscription(id: string, domain: string, node: string): Promise<void>;
  /** Mirrors of `domain` not expired at `now`, ordered by id. */
  listDomain(domain: string, now: number): Promise<DirectoryEntry[]>;
  /** Mirrors held by `node` not expired at `now`, ordered by id (the janitor's and re-mirroring's view). */
  listNode(node: string, now: number): Promise<DirectoryEntry[]>;

  /** Announces `node` alive for `ttlMs` (cluster.md §6 `pp:hb:{node}`, `pp:nodes`). */
  heartbeat(node: string, info: JsonValue, ttlMs: number, now: number): Promise<void>;
  /** Every node that ever beat and was not forgotten, by name. */
  nodes(): Promise<NodeStatus[]>;
  /** Drops a dead node from the registry (the janitor, after its grace). */
  forgetNode(node: string): Promise<void>;

  /**
   * The dataset's epoch: sets `candidate` if none is set and answers the one in force. A node that sees it change
   * (or come back different after a reconnect) knows the engine lost its data (cluster.md §8).
   */
  epoch(candidate: string): Promise<string>;

  /**
   * A value every node must agree on (the SIP digest nonce secret): sets `candidate` under `name` if none is set and
   * answers the one in force, in one step, as `epoch` does. Lost with the engine's data like everything else.
   */
  sharedValue(name: string, candidate: string): Promise<string>;

  /** Whether the engine answers now (for /healthz and the island mode, cluster.md §8). */
  readonly connected: boolean;
  close(): Promise<void>;
}
