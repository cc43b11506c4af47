/**
 * What the in-memory twin keeps: one object shared by every `MemoryClusterEngine` of a test "cluster", as one Redis
 * is shared by every node. Values are stored as JSON text, so what crosses the port is copied as it would be over
 * the wire (a caller mutating its document after a commit changes nothing here).
 */
import type { ChangeEntry } from '../engine-port.js';

export interface StoredResource {
  rev: number;
  docJson: string;
}

export interface StoredBeat {
  infoJson: string;
  until: number;
}

export class MemoryClusterData {
  readonly resources = new Map<string, StoredResource>();
  /** `resource|event|etag` → expiresAt (`pp:pubexp`). */
  readonly pubexp = new Map<string, number>();
  /** The change stream, oldest first. */
  changes: ChangeEntry[] = [];
  lastRev = 0;
  nextEntryId = 1;
  readonly directory = new Map<string, { entryJson: string; keyUntil: number }>();
  readonly nodes = new Map<string, number>();
  readonly beats = new Map<string, StoredBeat>();
  epoch: string | null = null;
  /** `sharedValue`'s values by name. */
  readonly shared = new Map<string, string>();
  /** Readers waiting for an entry (blocking reads). */
  readonly waiters = new Set<() => void>();

  /** Drops the stream's entries, as `XTRIM pp:chg MAXLEN 0` does: readers behind must see a gap. */
  trimChanges(): void {
    this.changes = [];
  }

  /** Forgets everything, as a Redis restarted without its data would. */
  wipe(): void {
    this.resources.clear();
    this.pubexp.clear();
    this.changes = [];
    this.lastRev = 0;
    this.directory.clear();
    this.nodes.clear();
    this.beats.clear();
    this.epoch = null;
    this.shared.clear();
  }
}
