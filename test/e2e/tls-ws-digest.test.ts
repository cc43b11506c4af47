import type { ConnectionOptions } from 'node:tls';
import t from 'tap';
import { digestAuthorization, header } from '../../bench/load/sip-stream.js';
import { apiCaller } from '../support/api-call.js';
import { TlsSipPeer, WsSipPeer } from '../support/secure-peers.js';
import { dialogInfo, okTo, splitStream, subscribeText } from '../support/secure-requests.js';
import { startServerForFile } from '../support/server-process.js';
import { publishText } from '../support/sip-builders.js';
import { statusCodes } from '../support/sip-client.js';
import { makeTestPki } from '../support/tls-certs.js';

/**
 * Issue 20 acceptance with digest authentication on (the default of `npm start`): a SUBSCRIBE over TLS (Node's tls
 * client speaking SIP) and over WS with a device's credentials gets 401, then 200 and its NOTIFYs on the same
 * connection (security.md §6 A1, A2 over TLS and WS; transports.md W6 without JsSIP's help); a trusted peer's PUBLISH
 * over TLS, unchallenged, changes the lamp those watchers see (Z6 over TLS).
 */

const pki = makeTestPki();
t.teardown(() => pki.cleanup());
const API_KEY = 'd4'.repeat(32);
const TRUSTED = '127.0.0.5';
const server = await startServerForFile(t, {
  env: {
    PISTON_SIP_HOST: '127.0.0.1',
    PISTON_SIP_AUTH: 'digest',
    PISTON_BOOTSTRAP_API_KEY: API_KEY,
    PISTON_BOOTSTRAP_REALM: '127.0.0.1',
    PISTON_SIP_TRUSTED_PEERS: `${TRUSTED}/32`,
    PISTON_SIP_TLS_CERT: pki.server.certPath,
    PISTON_SIP_TLS_KEY: pki.server.keyPath,
    PISTON_WARM_UP_ROUNDS: '0',
  },
});
const call = apiCaller(`http://127.0.0.1:${server.apiPort}`);
const auth = await call('PUT', '/v2/api_auth', undefined, { api_key: API_KEY });
const token = auth.body.auth_token as string;
const master = auth.body.data.account_id as string;
const USER = '2001';
const PASSWORD = 'tls-ws-secret-2001';
const device = await call('PUT', `/v2/accounts/${master}/devices`, token, { name: 'desk', sip: { username: USER, password: PASSWORD } });

const DOMAIN = '127.0.0.1';
const unique = (): string => Math.random().toString(36).slice(2, 10);

/** What a SIP peer over a stream or a WebSocket can do here: send one message, see every message so far. */
interface Peer {
  send(text: string): Promise<void>;
  messages(): string[];
  wait(pred: (m: string[]) => boolean, ms?: number): Promise<string[]>;
}

function tlsPeer(p: TlsSipPeer): Peer {
  return {
    send: (text) => p.write(text),
    messages: () => splitStream(p.text),
    wait: async (pred, ms = 5000) => splitStream(await p.waitUntil((text) => pred(splitStream(text)), ms)),
  };
}

function wsPeer(p: WsSipPeer): Peer {
  return {
    send: (text) => p.send(text),
    messages: () => p.messages.filter((m) => m.trim() !== ''),
    wait: async (pred, ms = 5000) => (await p.waitUntil((m) => pred(m.filter((x) => x.trim() !== '')), ms)).filter((x) => x.trim() !== ''),
  };
}

const notifies = (m: string[]): string[] => m.filter((x) => x.startsWith('NOTIFY '));
const responsesTo = (m: string[], callId: string): string[] => m.filter((x) => x.startsWith('SIP/2.0 ') && header(x, '(?:call-id|i)')?.trim() === callId);

/** SUBSCRIBE without credentials, then with them: returns the challenge, the final answer and the NOTIFYs of that dialog. */
async function subscribeWithDigest(peer: Peer, via: 'TLS' | 'WS', resource: string): Promise<{ first: string; second: string; callId: string }> {
  const callId = `${unique()}@digest`;
  const fromTag = `f${unique()}`;
  const spec = { via, user: resource, domain: DOMAIN, callId, fromTag, fromUser: USER, expires: 600 } as const;
  await peer.send(subscribeText({ ...spec, cseq: 1 }));
  const first = responsesTo(await peer.wait((m) => responsesTo(m, callId).some((r) => !/^SIP\/2\.0 1/.test(r))), callId).find((r) => !/^SIP\/2\.0 1/.test(r))!;
  const challenge = header(first, 'www-authenticate') ?? '';
  const authorization = digestAuthorization(challenge, 'SUBSCRIBE', `sip:${resource}@${DOMAIN}`, USER, PASSWORD);
  const withAuth = subscribeText({ ...spec, cseq: 2 }).replace('Content-Length: 0', `Authorization: ${authorization}\r\nContent-Length: 0`);
  await peer.send(withAuth);
  const got = await peer.wait((m) => responsesTo(m, callId).length >= 2 && notifies(m).some((n) => n.includes(callId)));
  const second = responsesTo(got, callId)[1]!;
  for (const n of notifies(got).filter((x) => x.includes(callId))) await peer.send(okTo(n));
  return { first, second, callId };
}

/** A PUBLISH of `state` for `resource` over TLS from the trusted peer's address: its final status. */
async function trustedPublishOverTls(resource: string, state: 'early' | 'confirmed' | 'terminated'): Promise<number | undefined> {
  // tls.connect passes net's localAddress on (its ConnectionOptions type does not list it).
  const fromTrusted: ConnectionOptions & { localAddress: string } = { localAddress: TRUSTED };
  const tls = await TlsSipPeer.open(server.tlsPort!, fromTrusted);
  try {
    const text = publishText({
      target: `${resource}@${DOMAIN}`,
      contentType: 'application/dialog-info+xml',
      body: dialogInfo(`sip:${resource}@${DOMAIN}`, state),
      expires: 600,
      headers: { Via: `SIP/2.0/TLS ${TRUSTED}:5061;branch=z9hG4bK${unique()}`, Contact: `<sips:pbx@${TRUSTED}>` },
    });
    await tls.write(text);
    const got = splitStream(await tls.waitUntil((x) => splitStream(x).some((m) => /^SIP\/2\.0 [2-6]/.test(m)), 5000));
    return statusCodes(got.find((m) => /^SIP\/2\.0 [2-6]/.test(m)) ?? '')[0];
  } finally {
    tls.close();
  }
}

t.test('the device was made through the API, digest-ready', async (t) => {
  t.equal(device.status, 201);
  t.equal(device.body.data.sip.digest_ready, true);
  t.ok(server.tlsPort && server.wsPort, `tls ${server.tlsPort}, ws ${server.wsPort}`);
});

t.test('TLS: a SUBSCRIBE with a device\'s credentials gets 401, then 200 and NOTIFYs on the same TLS connection; a trusted peer\'s PUBLISH over TLS changes the lamp (issue 20 acceptance, security.md §6 A1, A2, Z6)', async (t) => {
  const raw = await TlsSipPeer.open(server.tlsPort!);
  t.teardown(() => raw.close());
  const peer = tlsPeer(raw);
  const { first, second, callId } = await subscribeWithDigest(peer, 'TLS', '1001');
  t.equal(statusCodes(first)[0], 401, 'no credentials: 401');
  t.match(header(first, 'www-authenticate') ?? '', /^Digest realm="127\.0\.0\.1", .*qop="auth".*algorithm=MD5/, 'one MD5 challenge with the account realm');
  t.equal(statusCodes(second)[0], 200, 'with credentials: 200');
  t.ok(notifies(peer.messages()).some((n) => n.includes(callId)), 'its first NOTIFY came on the TLS connection');
  t.notOk(raw.closed, 'the same connection throughout');

  t.equal(await trustedPublishOverTls('1001', 'early'), 200, 'the trusted peer\'s PUBLISH over TLS: 200, not challenged');
  const got = await peer.wait((m) => notifies(m).some((n) => n.includes(callId) && /<state>early<\/state>/.test(n)));
  t.ok(notifies(got).some((n) => n.includes(callId) && /<state>early<\/state>/.test(n)), 'the lamp change arrived on the watcher\'s TLS connection');
  for (const n of notifies(got).filter((x) => x.includes(callId))) await peer.send(okTo(n));
  t.equal(await trustedPublishOverTls('1001', 'terminated'), 200);
});

t.test('TLS: the same SUBSCRIBE with a wrong password gets 401 again, never 200', async (t) => {
  const raw = await TlsSipPeer.open(server.tlsPort!);
  t.teardown(() => raw.close());
  const peer = tlsPeer(raw);
  const callId = `${unique()}@wrong`;
  const spec = { via: 'TLS', user: '1001', domain: DOMAIN, callId, fromTag: 'fw', fromUser: USER } as const;
  await peer.send(subscribeText({ ...spec, cseq: 1 }));
  const first = responsesTo(await peer.wait((m) => responsesTo(m, callId).length >= 1), callId)[0]!;
  const bad = digestAuthorization(header(first, 'www-authenticate') ?? '', 'SUBSCRIBE', `sip:1001@${DOMAIN}`, USER, 'not-the-password');
  await peer.send(subscribeText({ ...spec, cseq: 2 }).replace('Content-Length: 0', `Authorization: ${bad}\r\nContent-Length: 0`));
  const got = responsesTo(await peer.wait((m) => responsesTo(m, callId).length >= 2), callId);
  t.same(got.map((r) => statusCodes(r)[0]), [401, 401]);
  t.same(notifies(peer.messages()).filter((n) => n.includes(callId)), [], 'no NOTIFY');
});

t.test('WS: a SUBSCRIBE with a device\'s credentials gets 401, then 200 and NOTIFYs on the same WebSocket; the PUBLISH reaches it there (issue 20 acceptance, transports.md W6)', async (t) => {
  const raw = await WsSipPeer.open(`ws://127.0.0.1:${server.wsPort}`);
  t.teardown(() => raw.close());
  const peer = wsPeer(raw);
  const { first, second, callId } = await subscribeWithDigest(peer, 'WS', '1002');
  t.equal(statusCodes(first)[0], 401, 'no credentials: 401');
  t.equal(statusCodes(second)[0], 200, 'with credentials: 200');
  t.match(header(second, 'via') ?? '', /^SIP\/2\.0\/WS [a-z0-9]+\.invalid;/, 'the .invalid sent-by untouched (RFC 7118 §5)');
  t.ok(notifies(peer.messages()).some((n) => n.includes(callId)), 'its first NOTIFY came on the WebSocket');
  t.equal(await trustedPublishOverTls('1002', 'confirmed'), 200);
  const got = await peer.wait((m) => notifies(m).some((n) => n.includes(callId) && /<state>confirmed<\/state>/.test(n)));
  t.ok(notifies(got).some((n) => n.includes(callId) && /<state>confirmed<\/state>/.test(n)), 'the lamp change arrived over the WebSocket');
  t.notOk(raw.closed, 'the same connection throughout');
  t.equal(await trustedPublishOverTls('1002', 'terminated'), 200);
});
