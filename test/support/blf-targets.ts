import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kamailioWatchers, prepareKamailioTw } from '../../bench/load/kamailio-tw.js';
import { startClientProcess, type ClientProcess } from './real-clients/client-process.js';
import { freePort, startServerProcess, type ServerProcess } from './server-process.js';
import { makeSelfSigned } from './tls-cert.js';

/**
 * A presence server with WS and WSS listeners, digest authentication of SUBSCRIBE, one device and a trusted PUBLISH
 * source, for the browser test: our built server (dist/src/main.js) or, to prove the harness against a server that
 * already does all of it, Kamailio 5.6 with bench/kamailio/kamailio-tw.cfg (websocket, tls, auth_db).
 */

export interface BlfTarget {
  readonly name: 'piston' | 'kamailio';
  /** SIP domain = digest realm. */
  readonly domain: string;
  readonly sipPort: number;
  readonly wsUrl: string;
  readonly wssUrl: string;
  readonly device: { user: string; password: string };
  /** The address PUBLISHes come from: a trusted peer, never challenged. */
  readonly publisherAddress: string;
  /** How many subscriptions the server holds for `dialog` on this extension. */
  watchers(extension: string): Promise<number>;
  /** Last lines of the server's log, for failure messages. */
  logTail(): string;
  close(): Promise<void>;
}

const DOMAIN = '127.0.0.1';
const DEVICE = { user: '1001', password: 'browser-secret-1001' };
// The browser connects from 127.0.0.1 (challenged); PUBLISH comes from 127.0.0.2, the trusted peer.
const PUBLISHER = '127.0.0.2';

export async function startPistonBlfTarget(): Promise<BlfTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'piston-browser-'));
  const cert = makeSelfSigned(dir);
  const [wsPort, wssPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const apiKey = randomBytes(32).toString('hex');
  let server: ServerProcess;
  try {
    server = await startServerProcess({
      dataDir: join(dir, 'data'),
      env: {
        PISTON_BOOTSTRAP_REALM: DOMAIN,
        PISTON_BOOTSTRAP_API_KEY: apiKey,
        PISTON_SIP_AUTH: 'digest',
        PISTON_SIP_TRUSTED_PEERS: `${PUBLISHER}/32`,
        PISTON_SIP_WS_PORT: String(wsPort),
        PISTON_SIP_WSS_PORT: String(wssPort),
        PISTON_SIP_TLS_PORT: String(tlsPort),
        PISTON_SIP_TLS_CERT: cert.certPath,
        PISTON_SIP_TLS_KEY: cert.keyPath,
      },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const api = `http://127.0.0.1:${server.apiPort}`;
  const auth = (await jsonCall('PUT', `${api}/v2/api_auth`, undefined, { data: { api_key: apiKey } })) as { auth_token: string; data: { account_id: string } };
  const token = auth.auth_token;
  const account = auth.data.account_id;
  await jsonCall('PUT', `${api}/v2/accounts/${account}/devices`, token, {
    data: { name: 'browser', sip: { username: DEVICE.user, password: DEVICE.password } },
  });
  return {
    name: 'piston',
    domain: DOMAIN,
    sipPort: server.sipPort,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    wssUrl: `wss://127.0.0.1:${wssPort}`,
    device: DEVICE,
    publisherAddress: PUBLISHER,
    async watchers(extension) {
      const listed = (await jsonCall('GET', `${api}/v2/accounts/${account}/presence?event=dialog`, token)) as {
        data: { subscriptions?: Record<string, { dialog?: Record<string, unknown> }> };
      };
      return Object.keys(listed.data.subscriptions?.[extension]?.dialog ?? {}).length;
    },
    logTail: () => server.lines.slice(-30).join('\n'),
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startKamailioBlfTarget(): Promise<BlfTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'piston-kamailio-ws-'));
  const cert = makeSelfSigned(dir);
  const [sipPort, wsPort, wssPort] = [await freePort(), await freePort(), await freePort()];
  const args = prepareKamailioTw(dir, {
    sipPort, wsPort, wssPort, certPath: cert.certPath, keyPath: cert.keyPath,
    devices: [{ username: DEVICE.user, password: DEVICE.password, realm: DOMAIN }],
    subsDbMode: 3, children: 2, tcpChildren: 2, shmMiB: 128,
  });
  const proc: ClientProcess = startClientProcess('kamailio', 'kamailio', args, { cwd: dir, hardTimeoutMs: 300_000 });
  const close = async (): Promise<void> => {
    await proc.stop(3000);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await answersOptions(sipPort, 10_000, () => !proc.hasExited))) {
    const out = proc.output();
    await close();
    throw new Error(`kamailio did not answer on 127.0.0.1:${sipPort}:\n${out.slice(-3000)}`);
  }
  return {
    name: 'kamailio',
    domain: DOMAIN,
    sipPort,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    wssUrl: `wss://127.0.0.1:${wssPort}`,
    device: DEVICE,
    publisherAddress: PUBLISHER,
    watchers: async (extension) => kamailioWatchers(dir, `sip:${extension}@${DOMAIN}`),
    logTail: () => proc.output().slice(-3000),
    close,
  };
}

/** The target the browser test runs against: ours, or Kamailio with PISTON_BROWSER_TARGET=kamailio. */
export function startBlfTarget(): Promise<BlfTarget> {
  return process.env.PISTON_BROWSER_TARGET === 'kamailio' ? startKamailioBlfTarget() : startPistonBlfTarget();
}

async function jsonCall(method: string, url: string, token?: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** True once an OPTIONS over UDP gets any final answer. */
async function answersOptions(port: number, ms: number, stillRunning: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  let n = 0;
  while (Date.now() < deadline && stillRunning()) {
    n++;
    const text = (local: { address: string; port: number }): string =>
      `OPTIONS sip:ping@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${local.address}:${local.port};rport;branch=z9hG4bK-opt-${n}-${Date.now()}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p${n}\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: probe-${n}-${Date.now()}\r\n` +
      `CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    const answer = await udpRequest('127.0.0.1', port, text, 300);
    if (answer !== null && /^SIP\/2\.0 [2-6]\d\d/.test(answer)) return true;
  }
  return false;
}

/**
 * Sends one request over UDP from `localAddress` (a fresh port) and resolves with the first final response's text,
 * or null after `ms`. The Via names the real local address and port so the answer comes back.
 */
export function udpRequest(host: string, port: number, text: string | ((local: { address: string; port: number }) => string), ms: number, localAddress = '127.0.0.1'): Promise<string | null> {
  return new Promise((res) => {
    const sock = createSocket('udp4');
    let done = false;
    const finish = (v: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      res(v);
    };
    const timer = setTimeout(() => finish(null), ms);
    sock.on('message', (m) => {
      const s = m.toString('utf8');
      if (/^SIP\/2\.0 [2-6]\d\d/.test(s)) finish(s);
    });
    sock.on('error', () => finish(null));
    sock.bind(0, localAddress, () => {
      const a = sock.address();
      const msg = typeof text === 'string' ? text : text({ address: a.address, port: a.port });
      sock.send(msg, port, host);
    });
  });
}

export interface PublishOutcome {
  status: number | null;
  etag: string | null;
  response: string | null;
}

/**
 * A dialog-event PUBLISH (RFC 3903, RFC 4235 body) for `extension@domain` over UDP from the trusted publisher
 * address, in the shape a PBX's pua sends. `etag` refreshes/modifies an earlier publication (SIP-If-Match).
 */
let documentVersion = 0;

export async function publishDialog(target: BlfTarget, extension: string, state: 'early' | 'confirmed' | 'terminated', etag?: string): Promise<PublishOutcome> {
  const callId = `browser-call-${extension}`;
  // A rising RFC 4235 version, as a real publisher sends (Kamailio ignores a document whose version did not rise).
  documentVersion++;
  const body =
    `<?xml version="1.0"?>\r\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${documentVersion}" state="full" entity="sip:${extension}@${target.domain}">\r\n` +
    `<dialog id="${callId}" call-id="${callId}" local-tag="lt1" remote-tag="rt1" direction="recipient">\r\n<state>${state}</state>\r\n` +
    `<local><identity>sip:${extension}@${target.domain}</identity></local>\r\n<remote><identity>sip:2999@${target.domain}</identity></remote>\r\n` +
    `</dialog>\r\n</dialog-info>\r\n`;
  const response = await udpRequest('127.0.0.1', target.sipPort, (local) =>
    `PUBLISH sip:${extension}@${target.domain} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${local.address}:${local.port};rport;branch=z9hG4bK-pub-${randomBytes(6).toString('hex')}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:${extension}@${target.domain}>;tag=${randomBytes(4).toString('hex')}\r\n` +
    `To: <sip:${extension}@${target.domain}>\r\nCall-ID: pub-${randomBytes(8).toString('hex')}\r\nCSeq: 1 PUBLISH\r\n` +
    `Event: dialog\r\nExpires: 120\r\n${etag ? `SIP-If-Match: ${etag}\r\n` : ''}` +
    `Content-Type: application/dialog-info+xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  3000, target.publisherAddress);
  const status = response ? Number(response.slice(8, 11)) : null;
  const etagOut = response ? (/^SIP-ETag:\s*(\S+)/im.exec(response)?.[1] ?? null) : null;
  return { status, etag: etagOut, response };
}
