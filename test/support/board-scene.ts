import { SipEndpoint } from './sip-watcher.js';
import { removeDir, startServerProcess, type ServerProcess } from './server-process.js';

/**
 * The scene the BLF board is shown on, by the browser test and the screenshot script alike: the real server from
 * dist/, devices created through the API (each extension a device's presence_id, with a display name) and real SIP
 * watchers subscribed to their dialog state over UDP.
 */

export const BOARD_API_KEY = 'b0'.repeat(32);

export interface Envelope {
  status: string;
  auth_token?: string;
  data: any;
  message?: string;
}

export interface BoardScene {
  readonly server: ServerProcess;
  readonly token: string;
  readonly accountId: string;
  /** Each watcher endpoint subscribes once to every extension (so `watchers` endpoints = watchers per extension). */
  readonly watchers: SipEndpoint[];
  /** A raw UDP endpoint for PUBLISH. */
  readonly publisher: SipEndpoint;
  readonly deviceIds: Record<string, string>;
  /** Another UDP endpoint, closed with the scene (a watcher a test sets its own policy on). */
  endpoint(): Promise<SipEndpoint>;
  call(method: string, path: string, data?: unknown, token?: string): Promise<{ status: number; body: Envelope }>;
  close(): Promise<void>;
}

export interface SceneOptions {
  /** Extension → display name of its device. */
  devices: Record<string, string>;
  /** Extensions each watcher subscribes to (default: every device's). */
  watched?: string[];
  watchers?: number;
  env?: Record<string, string>;
}

export async function startBoardScene(opts: SceneOptions): Promise<BoardScene> {
  // SIP requests come from loopback without credentials: digest auth (issue 19) is off for this scene.
  const server = await startServerProcess({
    env: { PISTON_BOOTSTRAP_API_KEY: BOARD_API_KEY, PISTON_BOOTSTRAP_REALM: '127.0.0.1', PISTON_SIP_AUTH: 'off', ...opts.env },
  });
  const endpoints: SipEndpoint[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(endpoints.map((e) => e.close()));
    await server.stop();
    removeDir(server.dataDir);
  };
  try {
    const base = `http://127.0.0.1:${server.apiPort}`;
    const call = async (method: string, path: string, data?: unknown, token?: string): Promise<{ status: number; body: Envelope }> => {
      const res = await fetch(base + path, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
        ...(data === undefined ? {} : { body: JSON.stringify({ data }) }),
      });
      return { status: res.status, body: (await res.json()) as Envelope };
    };
    const auth = await call('PUT', '/v2/api_auth', { api_key: BOARD_API_KEY });
    if (auth.status !== 201) throw new Error(`api_auth answered ${auth.status}`);
    const token = auth.body.auth_token!;
    const accountId = auth.body.data.account_id as string;
    const deviceIds: Record<string, string> = {};
    for (const [ext, name] of Object.entries(opts.devices)) {
      const made = await call(
        'PUT',
        `/v2/accounts/${accountId}/devices`,
        { name, sip: { username: `dev${ext}`, password: `pw-${ext}-secret` }, presence_id: ext },
        token,
      );
      if (made.status !== 201) throw new Error(`device ${ext}: ${made.status} ${JSON.stringify(made.body)}`);
      deviceIds[ext] = made.body.data.id as string;
    }
    const publisher = await SipEndpoint.udp(server.sipPort);
    endpoints.push(publisher);
    const watched = opts.watched ?? Object.keys(opts.devices);
    const watchers: SipEndpoint[] = [];
    for (let i = 0; i < (opts.watchers ?? 2); i++) {
      const ep = await SipEndpoint.udp(server.sipPort);
      endpoints.push(ep);
      watchers.push(ep);
      for (const ext of watched) {
        const res = await ep.subscribe({ resource: ext, user: `${3000 + i}`, expires: 3600 });
        if (res.response.status !== 200) throw new Error(`SUBSCRIBE ${ext}: ${res.response.status}`);
      }
    }
    const endpoint = async (): Promise<SipEndpoint> => {
      const ep = await SipEndpoint.udp(server.sipPort);
      endpoints.push(ep);
      return ep;
    };
    return { server, token, accountId, watchers, publisher, deviceIds, endpoint, call: (m, p, d, tok = token) => call(m, p, d, tok), close };
  } catch (err) {
    await close();
    throw err;
  }
}
