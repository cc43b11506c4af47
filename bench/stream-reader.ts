/**
 * The live-stream readers of `bench/stream-cost.ts`, in a process of their own so their CPU is not the server's.
 * Forked with an IPC channel and driven by it:
 *   {op:'open', url, token, n}  opens n streams (one connection each); answers {op:'opened', readers} once every
 *                                stream has its snapshot (or has failed)
 *   {op:'stats'}                answers {op:'stats', readers}
 *   {op:'close'}                ends every stream; answers {op:'closed', readers} with their last counters
 * Each stream is read as fast as it comes and parsed into events (so "read" means parsed, not just taken off the
 * socket); `bytesRaw` is what its socket read (headers and chunk framing included), to be compared with what the
 * server's socket wrote.
 */
import http from 'node:http';
import type { Socket } from 'node:net';

export interface ReaderStats {
  /** The client's local port: the server's remote port for this stream. */
  port: number;
  status: number;
  bytesRaw: number;
  events: Record<string, number>;
  /** Extension entries in `lamp` events (in the snapshot: `snapshotExtensions`). */
  lampExtensions: number;
  snapshotExtensions: number;
  snapshotBytes: number;
  lastId: number;
  /** Ids that did not follow the one before (an SSE stream's ids count up by one per event). */
  idGaps: number;
  ended: boolean;
  error: string | null;
}

interface Reader {
  req: http.ClientRequest;
  socket: Socket | null;
  stats: ReaderStats;
  pending: string;
  searchFrom: number;
}

export type ReaderCommand = { op: 'open'; url: string; token: string; n: number } | { op: 'stats' } | { op: 'close' };
export type ReaderReply = { op: 'opened' | 'stats' | 'closed'; readers: ReaderStats[] };

let readers: Reader[] = [];
let waitingForSnapshots = false;

const countOf = (text: string, needle: string): number => {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
};

function handle(r: Reader, block: string): void {
  const s = r.stats;
  if (block.startsWith(':')) {
    s.events.ping = (s.events.ping ?? 0) + 1;
    return;
  }
  let event = 'message';
  let data = '';
  let id: number | null = null;
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data = line.slice(6);
    else if (line.startsWith('id: ')) id = Number(line.slice(4));
    else if (line.startsWith('retry: ')) event = 'retry';
  }
  s.events[event] = (s.events[event] ?? 0) + 1;
  if (id !== null) {
    if (id !== s.lastId + 1) s.idGaps++;
    s.lastId = id;
  }
  if (event === 'lamp') s.lampExtensions += countOf(data, '"extension":');
  else if (event === 'snapshot') {
    s.snapshotExtensions += countOf(data, '"extension":');
    s.snapshotBytes += data.length;
  }
}

function parse(r: Reader, chunk: string): void {
  r.pending += chunk;
  let start = 0;
  for (;;) {
    const i = r.pending.indexOf('\n\n', Math.max(start, r.searchFrom));
    if (i === -1) break;
    handle(r, r.pending.slice(start, i));
    start = i + 2;
  }
  r.pending = r.pending.slice(start);
  // A boundary may straddle two chunks: look again from the last character kept.
  r.searchFrom = Math.max(0, r.pending.length - 1);
}

function statsOf(r: Reader): ReaderStats {
  return { ...r.stats, bytesRaw: r.socket?.bytesRead ?? r.stats.bytesRaw, events: { ...r.stats.events } };
}

const reply = (op: ReaderReply['op']): void => {
  process.send!({ op, readers: readers.map(statsOf) } satisfies ReaderReply);
};

function checkSnapshots(): void {
  if (!waitingForSnapshots) return;
  if (readers.every((r) => r.stats.ended || (r.stats.events.snapshot ?? 0) > 0)) {
    waitingForSnapshots = false;
    reply('opened');
  }
}

function open(url: string, token: string, n: number): void {
  readers = [];
  waitingForSnapshots = true;
  for (let i = 0; i < n; i++) {
    const stats: ReaderStats = {
      port: 0, status: 0, bytesRaw: 0, events: {}, lampExtensions: 0, snapshotExtensions: 0, snapshotBytes: 0, lastId: 0, idGaps: 0, ended: false, error: null,
    };
    // No agent: a connection of its own per stream, as a browser tab's EventSource would have.
    const req = http.get(url, { headers: { 'X-Auth-Token': token, Accept: 'text/event-stream' }, agent: false });
    const r: Reader = { req, socket: null, stats, pending: '', searchFrom: 0 };
    readers.push(r);
    req.on('socket', (socket: Socket) => {
      r.socket = socket;
      socket.on('connect', () => (stats.port = socket.localPort ?? 0));
      // Kept when the socket is gone, so a closed stream still reports what it read.
      socket.on('close', () => (stats.bytesRaw = socket.bytesRead));
    });
    req.on('response', (res) => {
      stats.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        parse(r, chunk);
        checkSnapshots();
      });
      res.on('close', () => {
        stats.ended = true;
        checkSnapshots();
      });
    });
    req.on('error', (err) => {
      stats.error ??= err.message;
      stats.ended = true;
      checkSnapshots();
    });
  }
  checkSnapshots(); // none asked for (a null run): answered at once
}

process.on('message', (m: ReaderCommand) => {
  if (m.op === 'open') open(m.url, m.token, m.n);
  else if (m.op === 'stats') reply('stats');
  else if (m.op === 'close') {
    const last = readers.map(statsOf);
    for (const r of readers) r.req.destroy();
    readers = [];
    process.send!({ op: 'closed', readers: last } satisfies ReaderReply);
  }
});
// The parent's end is ours: no orphan reader if the bench dies.
process.on('disconnect', () => process.exit(0));
