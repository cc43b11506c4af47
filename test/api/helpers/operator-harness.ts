import { createAccountServices } from '../../../src/accounts/account-services.js';
import { bootstrap } from '../../../src/accounts/bootstrap.js';
import type { PresenceControl } from '../../../src/api/api-deps.js';
import { createApiApp, streamHubOf } from '../../../src/api/create-api-app.js';
import type { StreamHub } from '../../../src/api/presence-stream.js';
import { operatorDeps } from '../../../src/api/operator-deps.js';
import { startApi, type RunningApi } from '../../../src/api/start-api.js';
import type { StreamLimits } from '../../../src/api/stream-limits.js';
import { readSse, type SseEvent } from '../../../src/cli/sse-reader.js';
import { PresenceHistory } from '../../../src/history/presence-history.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { recordingLogger, type LogRecord } from '../../../src/lib/logger.js';
import { MemoryHistoryRepository } from '../../../src/store/memory/memory-history.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { DOMAIN, NotifierHarness } from '../../subscriptions/helpers/notifier-harness.js';

export const OP_KEY = 'e'.repeat(64);

/** The admin API with the operator routes over the real SIP side (loop network, manual clock) and a memory history. */
export interface OperatorHarness {
  sip: NotifierHarness;
  api: RunningApi;
  history: PresenceHistory;
  hub: StreamHub;
  logs: LogRecord[];
  account: string;
  token: string;
  base: string;
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; json: any; headers: Headers }>;
  /** Closes the API as a shutdown does (the teardown does not close it again). */
  closeApi(): Promise<void>;
  /** Opens the account's live stream; `events` fills as they arrive. */
  stream(query?: string, token?: string): Promise<LiveStream>;
}

export interface LiveStream {
  events: SseEvent[];
  raw: string[];
  /** Resolves when the stream ended (server closed it). */
  ended: Promise<void>;
  close(): void;
  /** Waits (real time, bounded) until an event matches. */
  waitFor(pred: (e: SseEvent) => boolean, ms?: number): Promise<SseEvent>;
}

export async function operatorHarness(
  t: { teardown(fn: () => unknown): void },
  limits: Partial<StreamLimits> = {},
): Promise<OperatorHarness> {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const boot = bootstrap(store, { clock, realm: DOMAIN, apiKey: OP_KEY });
  const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: false, scryptCost: 1024 });
  const sip = new NotifierHarness({ store, clock, accounts: services.resolver });
  const logs: LogRecord[] = [];
  const logger = recordingLogger(logs);
  const history = new PresenceHistory({
    feed: sip.feed,
    clock,
    logger,
    repository: new MemoryHistoryRepository(),
    stateOf: (r, e) => sip.presentity.state(r, e),
  });
  history.start();
  const deps = {
    services,
    presentity: sip.presentity as unknown as PresenceControl,
    notifier: sip.notifier,
    clock,
    logger,
    health: { sip: () => true, store: () => true },
    operator: operatorDeps(sip.presentity, sip.feed, history, limits),
  };
  const app = createApiApp(deps);
  const hub = streamHubOf(app);
  const api = await startApi(app, { host: '127.0.0.1', port: 0 });
  const opened: LiveStream[] = [];
  let closed = false;
  t.teardown(async () => {
    for (const s of opened) s.close();
    if (!closed) await api.close();
    history.stop();
    sip.dispose();
  });
  const base = `http://127.0.0.1:${api.port}`;
  const call: OperatorHarness['call'] = async (method, path, body, token) => {
    const headers: Record<string, string> = {};
    if (token) headers['X-Auth-Token'] = token;
    const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, headers: res.headers };
  };
  const token = (await call('PUT', '/v2/api_auth', { data: { api_key: OP_KEY } })).json.auth_token as string;
  const account = boot.accountId;
  const stream: OperatorHarness['stream'] = async (query = '', tok = token) => {
    const ctrl = new AbortController();
    const res = await fetch(`${base}/v2/accounts/${account}/presence/stream${query}`, { headers: { 'X-Auth-Token': tok }, signal: ctrl.signal });
    if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${await res.text()}`);
    const events: SseEvent[] = [];
    const raw: string[] = [];
    const waiters: (() => void)[] = [];
    const [forEvents, forRaw] = res.body!.tee();
    const ended = (async () => {
      try {
        for await (const e of readSse(forEvents)) {
          events.push(e);
          for (const w of waiters.splice(0)) w();
        }
      } catch {
        // aborted
      }
    })();
    void (async () => {
      const dec = new TextDecoder();
      try {
        for await (const chunk of forRaw as unknown as AsyncIterable<Uint8Array>) raw.push(dec.decode(chunk));
      } catch {
        // aborted
      }
    })();
    const live: LiveStream = {
      events,
      raw,
      ended,
      close: () => ctrl.abort(),
      async waitFor(pred, ms = 3000) {
        const deadline = Date.now() + ms;
        for (;;) {
          const hit = events.find(pred);
          if (hit) return hit;
          if (Date.now() > deadline) throw new Error(`no such event; got ${events.map((e) => e.event).join(',')}`);
          await new Promise<void>((r) => {
            waiters.push(r);
            setTimeout(r, 20);
          });
        }
      },
    };
    opened.push(live);
    return live;
  };
  return {
    sip,
    get api() {
      return api;
    },
    history,
    hub,
    logs,
    account,
    token,
    base,
    call,
    stream,
    closeApi: async () => {
      closed = true;
      await api.close();
    },
  };
}
