import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './net-probe.js';
import { prepareKamailioTw, type KamailioDevice } from './kamailio-tw.js';
import { makeSelfSigned, type SelfSigned } from './self-signed.js';
import { KamailioProcessTarget, PistonTarget, type StartInfo, type Target } from './targets.js';

/**
 * The servers of the transport and trust steps (issues 19 and 20), started with what a step needs: TLS, WS and WSS
 * listeners on fresh ports with the run's self-signed certificate, and digest authentication with bench devices.
 * Ours is the usual PistonTarget with more environment; Kamailio runs bench/kamailio/kamailio-tw.cfg.
 */

export interface TwFeatures {
  /** Digest authentication with these devices; otherwise the bench's sources are trusted peers (no challenge). */
  devices?: KamailioDevice[];
}

export interface TwPorts {
  tls: number;
  ws: number;
  wss: number;
}

/** Environment names our server takes for the issue 19/20 settings (branches tls-ws and digest). */
export const PISTON_TW_ENV = {
  tlsPort: 'PISTON_SIP_TLS_PORT',
  tlsCert: 'PISTON_SIP_TLS_CERT',
  tlsKey: 'PISTON_SIP_TLS_KEY',
  wsPort: 'PISTON_SIP_WS_PORT',
  wssPort: 'PISTON_SIP_WSS_PORT',
  auth: 'PISTON_SIP_AUTH',
  trustedPeers: 'PISTON_SIP_TRUSTED_PEERS',
} as const;

/**
 * Abuse limits (branch limits, issue 19 item 5) opened wide for the authenticated-rate step: one SIPp on an untrusted
 * 127.0.0.1 sends thousands of SUBSCRIBEs a second for one device, which the per-source bucket (50 per 2 s) and the
 * 500 subscriptions per watcher would otherwise refuse. The bench measures the server, not its flood protection.
 */
export const PISTON_AUTH_BENCH_LIMITS: Record<string, string> = {
  PISTON_SIP_RATE_REQUESTS: '100000000',
  PISTON_SUBSCRIPTIONS_PER_WATCHER: '100000000',
  PISTON_SIP_MAX_CONNECTIONS_PER_IP: '100000',
};

export interface TwStarted {
  ports: TwPorts;
  info: StartInfo;
}

let runCert: SelfSigned | null = null;
export function benchCert(outDir: string): SelfSigned {
  if (!runCert) {
    const d = join(outDir, 'tls');
    mkdirSync(d, { recursive: true });
    runCert = makeSelfSigned(d);
  }
  return runCert;
}

/** Starts `target` (ours or KamailioTwTarget) with TLS, WS and WSS listeners and, when asked, digest auth. */
export async function startTw(target: Target, outDir: string, tag: string, f: TwFeatures = {}): Promise<TwStarted> {
  const ports: TwPorts = { tls: await freePort(), ws: await freePort(), wss: await freePort() };
  const cert = benchCert(outDir);
  if (target instanceof KamailioTwTarget) {
    target.layout = { ports, cert, devices: f.devices ?? [] };
    return { ports, info: await target.start(tag) };
  }
  if (!(target instanceof PistonTarget)) throw new Error(`${target.label}: the transport steps start their servers (ours or --vs kamailio)`);
  const env: Record<string, string> = {
    [PISTON_TW_ENV.tlsPort]: String(ports.tls),
    [PISTON_TW_ENV.tlsCert]: cert.certPath,
    [PISTON_TW_ENV.tlsKey]: cert.keyPath,
    [PISTON_TW_ENV.wsPort]: String(ports.ws),
    [PISTON_TW_ENV.wssPort]: String(ports.wss),
    PISTON_BOOTSTRAP_REALM: '127.0.0.1',
    PISTON_SIP_MAX_CONNECTIONS: '40000',
    // The global ceiling (200,000 by default) would end a long auth-rate or TLS-rate step early.
    PISTON_SUBSCRIPTIONS_MAX: '10000000',
  };
  if (f.devices && f.devices.length > 0) {
    env[PISTON_TW_ENV.auth] = 'digest';
    // SIPp on 127.0.0.1 must be challenged: trust only an address nothing in the bench uses.
    env[PISTON_TW_ENV.trustedPeers] = '127.0.0.9/32';
    Object.assign(env, PISTON_AUTH_BENCH_LIMITS);
  } else {
    // Issue 19 item 8: the load runs from trusted peer addresses, so its figures stay comparable with Kamailio's
    // (which does not authenticate in these steps) and the per-source limits do not apply.
    env[PISTON_TW_ENV.trustedPeers] = '127.0.0.0/8';
  }
  const apiKey = f.devices && f.devices.length > 0 ? benchApiKey : undefined;
  if (apiKey) env.PISTON_BOOTSTRAP_API_KEY = apiKey;
  const info = await target.start(tag, { env });
  if (f.devices && f.devices.length > 0) await provisionDevices(target.apiPort, f.devices);
  return { ports, info };
}

const benchApiKey = 'b'.repeat(64);

/** Creates the bench devices in our server's first account through the admin API (a device's password sets its HA1s). */
async function provisionDevices(apiPort: number, devices: KamailioDevice[]): Promise<void> {
  const api = `http://127.0.0.1:${apiPort}`;
  const call = async (method: string, path: string, body: unknown, token?: string): Promise<unknown> => {
    const r = await fetch(api + path, { method, headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) }, body: JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  };
  const auth = (await call('PUT', '/v2/api_auth', { data: { api_key: benchApiKey } })) as { auth_token: string; data: { account_id: string } };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < devices.length) {
      const d = devices[next++]!;
      await call('PUT', `/v2/accounts/${auth.data.account_id}/devices`, { data: { name: `bench ${d.username}`, sip: { username: d.username, password: d.password } } }, auth.auth_token);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** Kamailio 5.6 with bench/kamailio/kamailio-tw.cfg (TLS, WS, WSS, optional auth_db), like KamailioTarget otherwise. */
export class KamailioTwTarget extends KamailioProcessTarget {
  layout: { ports: TwPorts; cert: SelfSigned; devices: KamailioDevice[] } | null = null;

  async start(tag: string): Promise<StartInfo> {
    if (!this.layout) throw new Error('KamailioTwTarget: use startTw()');
    const dir = join(this.outDir, 'server', `kamtw-${tag}`);
    mkdirSync(dir, { recursive: true });
    this.port = await freePort();
    const { ports, cert, devices } = this.layout;
    const args = prepareKamailioTw(dir, {
      sipPort: this.port, tlsPort: ports.tls, wsPort: ports.ws, wssPort: ports.wss, certPath: cert.certPath, keyPath: cert.keyPath,
      devices, shmMiB: 4096, children: 4, tcpChildren: 4, tcpMax: 40000,
      // Debian's q_malloc (debug) build aborted at ~700 idle TLS connections ("fragm. beginning overwritten", from
      // tls_init.c); KAM_MEMMGR=tlsf (as ../shared/bench/kamailio/bench.sh) selects TLSF.
      ...(process.env.KAM_MEMMGR ? { memManager: process.env.KAM_MEMMGR } : {}),
    });
    this.dataDir = join(dir, 'dbtext');
    return this.runKamailio(dir, args, {});
  }
}
