/** What the event loop and the WAL checkpoint thread (checkpoint-worker.ts) tell each other. */
export interface CheckpointWorkerData {
  /** Resolved path of better-sqlite3 (the thread's code has no module resolution of its own). */
  sqliteModule: string;
  location: string;
  busyTimeoutMs: number;
  /** One Int32, set to 1 by the worker once its connection is closed. */
  closed: Int32Array;
}

export type CheckpointReply =
  | { kind: 'ready' }
  /** `log` WAL frames, `checkpointed` of them copied into the database (SQLite's `wal_checkpoint` row). */
  | { kind: 'done'; log: number; checkpointed: number; ms: number }
  | { kind: 'failed'; error: string };
