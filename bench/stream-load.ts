/**
 * Load generator for SIP over TLS and WebSocket, where SIPp cannot go (Debian's 3.6.1 has no TLS, no SIPp has WS).
 * Run as its own process by the load runner (bench/load/steps/tw.ts) so its CPU is its own, like SIPp's. Modes:
 *   subscribe  --kind tls|ws|wss|tcp --host H --port P --rate R --calls N [--conns C] [--user U --password W]
 *              SUBSCRIBE (Event: dialog, Expires 3600) paced at R/s over C connections; a 401 is answered with MD5
 *              digest; a call is done when its 2xx and its first NOTIFY (answered 200) are in. Prints one JSON line.
 *   idle       --kind tcp|tls|ws --host H --port P --count N --sources 127.0.0.2,127.0.0.3 [--concurrency K]
 *              opens N connections (TLS handshaken, WS upgraded with subprotocol sip), each sends one OPTIONS and
 *              waits for its answer, then stays silent;
 *              prints {"ready":..} then holds them until stdin closes or SIGTERM.
 *   handshake  --host H --port P --count N [--concurrency K]
 *              N full TLS handshakes (no session reuse), each connection closed once established; prints a JSON line.
 */
import { randomBytes } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';
import { callIdOf, digestAuthorization, header, okFor, openStream, statusOf, type SipStream, type StreamKind } from './load/sip-stream.js';

const { values: a } = parseArgs({
  allowPositionals: true,
  options: {
    kind: { type: 'string', default: 'tls' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    rate: { type: 'string', default: '500' },
    calls: { type: 'string', default: '1000' },
    conns: { type: 'string', default: '1' },
    user: { type: 'string' },
    password: { type: 'string' },
    domain: { type: 'string', default: '127.0.0.1' },
    prefix: { type: 'string', default: 'w' },
    extensions: { type: 'string', default: '1000' },
    'call-timeout': { type: 'string', default: '5000' },
    count: { type: 'string', default: '1000' },
    sources: { type: 'string', default: '127.0.0.1' },
    concurrency: { type: 'string', default: '64' },
  },
});
const mode = process.argv[2];
const host = a.host!;
const port = Number(a.port);

function out(o: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

function pct(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(((sorted.length - 1) * p) / 100))]!;
}

interface Call {
  n: number;
  conn: SipStream;
  callId: string;
  ext: string;
  t0: number;
  final: number | null;
  notified: boolean;
  challenged: boolean;
  done: boolean;
}

async function subscribe(): Promise<void> {
  const kind = a.kind as StreamKind;
  const rate = Number(a.rate);
  const calls = Number(a.calls);
  const nConns = Math.max(1, Number(a.conns));
  const exts = Number(a.extensions);
  const callTimeout = Number(a['call-timeout']);
  const conns: SipStream[] = [];
  for (let i = 0; i < nConns; i++) conns.push(await openStream({ kind, host, port }));
  const byCallId = new Map<string, Call>();
  const latencies: number[] = [];
  let success = 0;
  let failed = 0;
  let challenged = 0;
  let notifies = 0;
  let unexpected = 0;
  const failures = new Map<string, number>();
  let lastDone = 0;
  const fail = (c: Call, why: string): void => {
    if (c.done) return;
    c.done = true;
    failed++;
    failures.set(why, (failures.get(why) ?? 0) + 1);
    byCallId.delete(c.callId);
  };
  const maybeDone = (c: Call): void => {
    if (c.done || c.final === null || !c.notified) return;
    c.done = true;
    success++;
    lastDone = Date.now();
    latencies.push(lastDone - c.t0);
    byCallId.delete(c.callId);
  };
  const transport = kind.toUpperCase();
  const uriOf = (ext: string): string => `sip:${ext}@${a.domain}`;
  // One random tag per run; branches and Call-IDs are unique from it and the call number (no randomBytes per call).
  const runTag = randomBytes(6).toString('hex');
  const request = (c: Call, cseq: number, authorization?: string): string => {
    const user = a.user ?? `${a.prefix}${c.n}`;
    return `SUBSCRIBE ${uriOf(c.ext)} SIP/2.0\r\n` +
      `Via: SIP/2.0/${transport} ${c.conn.viaHost};branch=z9hG4bK${runTag}.${c.n}.${cseq}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:${user}@${a.domain}>;tag=${c.n}t${process.pid}\r\nTo: <${uriOf(c.ext)}>\r\n` +
      `Call-ID: ${c.callId}\r\nCSeq: ${cseq} SUBSCRIBE\r\n` +
      `Contact: <sip:${a.prefix}${c.n}@${c.conn.viaHost};transport=${kind === 'wss' ? 'ws' : kind}>\r\n` +
      `Event: dialog\r\nAccept: application/dialog-info+xml\r\nExpires: 3600\r\nUser-Agent: piston-bench-stream\r\n` +
      (authorization ? `Authorization: ${authorization}\r\n` : '') + `Content-Length: 0\r\n\r\n`;
  };
  for (const conn of conns) {
    conn.onMessage((text) => {
      const callId = callIdOf(text)?.trim() ?? '';
      const c = byCallId.get(callId);
      const status = statusOf(text);
      if (status === null) {
        if (text.startsWith('NOTIFY ')) {
          conn.send(okFor(text));
          notifies++;
          if (c) {
            c.notified = true;
            maybeDone(c);
          }
        } else unexpected++;
        return;
      }
      if (!c) return; // a late answer to a call already judged
      if (status < 200) return;
      if ((status === 401 || status === 407) && !c.challenged) {
        c.challenged = true;
        challenged++;
        const ch = header(text, status === 401 ? 'www-authenticate' : 'proxy-authenticate') ?? '';
        const auth = a.user && a.password ? digestAuthorization(ch, 'SUBSCRIBE', uriOf(c.ext), a.user, a.password) : null;
        if (!auth) return fail(c, `${status} without usable credentials`);
        conn.send(request(c, 2, auth));
        return;
      }
      if (status >= 300) return fail(c, String(status));
      c.final = status;
      maybeDone(c);
    });
  }
  const start = Date.now();
  // A connection the server closes mid-run strands every call on it: say when, so a stall is told from a slowdown.
  const closedAtS: number[] = [];
  let finished = false;
  for (const conn of conns) void conn.closed.then(() => void (finished || closedAtS.push(Math.round((Date.now() - start) / 10) / 100)));
  let sent = 0;
  let lateTicks = 0;
  const pending: Call[] = [];
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = Date.now();
      const due = Math.min(calls, Math.floor(((now - start) / 1000) * rate) + 1);
      if (due - sent > rate / 20 + 10) lateTicks++;
      while (sent < due) {
        const n = sent++;
        const c: Call = {
          n, conn: conns[n % conns.length]!, callId: `${n}-${process.pid}-${runTag}@bench`,
          ext: String(1000 + (n % exts)), t0: now, final: null, notified: false, challenged: false, done: false,
        };
        byCallId.set(c.callId, c);
        pending.push(c);
        c.conn.send(request(c, 1));
      }
      while (pending.length > 0 && (pending[0]!.done || now - pending[0]!.t0 > callTimeout)) {
        const c = pending.shift()!;
        if (!c.done) fail(c, 'timeout');
      }
      if (sent >= calls && pending.length === 0) return resolve();
      setTimeout(tick, 2);
    };
    tick();
  });
  finished = true;
  const sentS = (Date.now() - start) / 1000;
  latencies.sort((x, y) => x - y);
  out({
    mode: 'subscribe', kind, rate, calls, conns: nConns, success, failed, challenged, notifies, unexpected,
    failures: Object.fromEntries(failures), lateTicks, closedByServerAtS: closedAtS,
    durationS: Math.round(((lastDone || Date.now()) - start) / 10) / 100, wallS: Math.round(sentS * 100) / 100,
    p50Ms: pct(latencies, 50), p99Ms: pct(latencies, 99), maxMs: latencies[latencies.length - 1] ?? null,
  });
  for (const c of conns) c.close();
}

/** Runs `fn` for 0..n-1 with at most k at once; resolves with how many succeeded. */
async function pool(n: number, k: number, fn: (i: number) => Promise<boolean>): Promise<number> {
  let next = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      if (await fn(i).catch(() => false)) ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(k, n) }, worker));
  return ok;
}

async function idle(): Promise<void> {
  const kind = a.kind as StreamKind;
  const count = Number(a.count);
  const sources = a.sources!.split(',');
  const held: SipStream[] = [];
  const t0 = Date.now();
  const errors = new Map<string, number>();
  const ok = await pool(count, Number(a.concurrency), async (i) => {
    try {
      const s = await openStream({ kind, host, port, localAddress: sources[i % sources.length]!, timeoutMs: 20_000 });
      // One OPTIONS, answered, then silence: a server may close a connection that never carried a SIP message (ours
      // drops such a WebSocket after 10 s; a CRLF keep-alive does not count), and a real phone or browser always
      // sends one at once. The same for every server and transport, so the figures compare.
      const answered = new Promise<boolean>((res) => {
        const t = setTimeout(() => res(false), 20_000);
        s.onMessage((m) => {
          clearTimeout(t);
          res(statusOf(m) !== null);
        });
      });
      const tag = randomBytes(6).toString('hex');
      s.send(`OPTIONS sip:${host}:${port} SIP/2.0\r\nVia: SIP/2.0/${kind.toUpperCase()} ${s.viaHost};branch=z9hG4bK${tag}\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:idle${i}@127.0.0.1>;tag=${tag}\r\nTo: <sip:${host}>\r\nCall-ID: idle-${tag}\r\n` +
        `CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
      if (!(await answered)) {
        s.close();
        throw new Error('OPTIONS not answered');
      }
      held.push(s);
      return true;
    } catch (err) {
      const k = err instanceof Error ? err.message.replace(/\d+/g, 'N') : String(err);
      errors.set(k, (errors.get(k) ?? 0) + 1);
      return false;
    }
  });
  const openS = (Date.now() - t0) / 1000;
  let droppedByServer = 0;
  for (const s of held) void s.closed.then(() => droppedByServer++);
  out({ mode: 'idle', kind, ready: ok, failed: count - ok, openS: Math.round(openS * 100) / 100, errors: Object.fromEntries(errors) });
  const finish = (): void => {
    out({ mode: 'idle-end', droppedByServer });
    for (const s of held) s.close();
    process.exit(0);
  };
  process.stdin.on('end', finish);
  process.stdin.on('close', finish);
  process.stdin.resume();
  process.on('SIGTERM', finish);
}

async function handshake(): Promise<void> {
  const count = Number(a.count);
  const t0 = Date.now();
  const ok = await pool(count, Number(a.concurrency), (i) => new Promise<boolean>((res) => {
    const sources = a.sources!.split(',');
    // localAddress is passed on to net.connect (not in tls's types); no session given, so every handshake is full.
    const s = tlsConnect({ host, port, rejectUnauthorized: false, servername: 'localhost', ...({ localAddress: sources[i % sources.length]! } as object) }, () => {
      s.destroy();
      res(true);
    });
    s.setTimeout(20_000, () => {
      s.destroy();
      res(false);
    });
    s.once('error', () => res(false));
  }));
  const s = (Date.now() - t0) / 1000;
  out({ mode: 'handshake', count, ok, failed: count - ok, durationS: Math.round(s * 100) / 100, perS: Math.round(ok / s) });
}

const run = mode === 'subscribe' ? subscribe : mode === 'idle' ? idle : mode === 'handshake' ? handshake : null;
if (!run || !Number.isFinite(port)) {
  process.stderr.write('usage: node dist/bench/stream-load.js subscribe|idle|handshake --port P [options] (see the file header)\n');
  process.exit(2);
}
run().then(
  () => {
    if (mode !== 'idle') process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
