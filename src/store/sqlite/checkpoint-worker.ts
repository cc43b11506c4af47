import type { CheckpointReply, CheckpointWorkerData } from './checkpoint-protocol.js';

/**
 * The body of the WAL checkpoint thread (wal-checkpointer.ts starts it): a second connection to the database file
 * that copies the WAL back into the database when asked. A checkpoint ends with an fsync of the database file, which
 * took 8-16 ms here; on this thread it no longer holds up SIP traffic on the event loop.
 *
 * The thread runs this function's source (`toString()`), so that it needs no module loader (the test runner's
 * TypeScript hooks do not reach worker threads): it may use only `req`, never this module's imports or scope.
 * Messages in: 'checkpoint' | 'close'. Messages out: CheckpointReply.
 */
export function checkpointThread(req: NodeJS.Require): void {
  const { parentPort, workerData } = req('node:worker_threads') as typeof import('node:worker_threads');
  const data = workerData as CheckpointWorkerData;
  const Database = req(data.sqliteModule) as typeof import('better-sqlite3');
  const port = parentPort;
  if (port === null) return;
  let db: import('better-sqlite3').Database | undefined;
  try {
    db = new Database(data.location, { timeout: data.busyTimeoutMs, fileMustExist: true });
    port.postMessage({ kind: 'ready' } satisfies CheckpointReply);
  } catch (err) {
    port.postMessage({ kind: 'failed', error: String(err) } satisfies CheckpointReply);
  }
  port.on('message', (msg: unknown) => {
    if (msg === 'close') {
      db?.close();
      db = undefined;
      // The event loop waits on this flag (close() is synchronous there), then closes its own connection last.
      Atomics.store(data.closed, 0, 1);
      Atomics.notify(data.closed, 0);
      port.close();
      return;
    }
    if (msg !== 'checkpoint' || db === undefined) return;
    const t0 = performance.now();
    try {
      // PASSIVE never waits for the writer: it copies what it can, and the rest waits for the next request.
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      port.postMessage({
        kind: 'done',
        log: row?.log ?? 0,
        checkpointed: row?.checkpointed ?? 0,
        ms: performance.now() - t0,
      } satisfies CheckpointReply);
    } catch (err) {
      port.postMessage({ kind: 'failed', error: String(err) } satisfies CheckpointReply);
    }
  });
}
