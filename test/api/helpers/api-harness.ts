import { Registry } from 'prom-client';
import { createAccountServices, type AccountServices } from '../../../src/accounts/account-services.js';
import { bootstrap } from '../../../src/accounts/bootstrap.js';
import { createApiApp } from '../../../src/api/create-api-app.js';
import type { ApiDeps } from '../../../src/api/api-deps.js';
import { createApiMetrics, type ApiMetrics } from '../../../src/api/metrics.js';
import { startApi } from '../../../src/api/start-api.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { recordingLogger, type LogRecord } from '../../../src/lib/logger.js';
import { createMemoryStore } from '../../../src/store/memory/index.js';
import type { StoreBackend } from '../../../src/store/ports.js';
import { FakeNotifier, FakePresentity } from './fakes.js';

export const MASTER_KEY = 'a'.repeat(64);
export const MASTER_REALM = 'master.example.com';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body, or undefined when it is not JSON. */
  json: any;
}

export interface RequestOptions {
  /** Serialised with JSON.stringify unless a string. */
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export interface ApiHarness {
  store: StoreBackend;
  clock: ManualClock;
  services: AccountServices;
  presentity: FakePresentity;
  notifier: FakeNotifier;
  metrics: ApiMetrics;
  logs: LogRecord[];
  health: { sip: boolean; store: boolean };
  masterId: string;
  port: number;
  request(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse>;
  /** A token for the master account (from the bootstrap API key). */
  masterToken(): Promise<string>;
}

/** A real listener on 127.0.0.1:0 over a memory store, fake presence services and a manual clock. */
export async function apiHarness(
  t: { teardown(fn: () => unknown): void },
  over: Partial<ApiDeps> = {},
  opts: { defaultAccountForUnknownDomains?: boolean } = {},
): Promise<ApiHarness> {
  const store = createMemoryStore();
  const clock = new ManualClock();
  const boot = bootstrap(store, { clock, realm: MASTER_REALM, apiKey: MASTER_KEY });
  const services = createAccountServices({
    store,
    clock,
    defaultAccountForUnknownDomains: opts.defaultAccountForUnknownDomains ?? true,
    scryptCost: 1024,
  });
  const presentity = new FakePresentity();
  const notifier = new FakeNotifier();
  const logger = recordingLogger();
  const health = { sip: true, store: true };
  const metrics = createApiMetrics({ registry: new Registry(), subscriptionsByEvent: () => ({ dialog: notifier.subs.length }) });
  const app = createApiApp({
    services,
    presentity,
    notifier,
    clock,
    logger,
    metrics,
    health: { sip: () => health.sip, store: () => health.store },
    ...over,
  });
  const running = await startApi(app, { host: '127.0.0.1', port: 0 });
  t.teardown(() => running.close());
  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token !== undefined) headers['X-Auth-Token'] = opts.token;
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const res = await fetch(`http://127.0.0.1:${running.port}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  return {
    store,
    clock,
    services,
    presentity,
    notifier,
    metrics,
    logs: logger.records,
    health,
    masterId: boot.accountId,
    port: running.port,
    request,
    async masterToken() {
      const res = await request('PUT', '/v2/api_auth', { body: { data: { api_key: MASTER_KEY } } });
      if (res.status !== 201) throw new Error(`api_auth failed: ${res.text}`);
      return res.json.auth_token as string;
    },
  };
}

/** The body without the fields that vary per request (request id, revision); tokens replaced by a marker. */
export function stable(body: any, opts: { token?: boolean } = {}): any {
  const { request_id: _r, revision: _v, ...rest } = body;
  if (opts.token) rest.auth_token = '<token>';
  return rest;
}
