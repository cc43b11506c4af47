import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { ListAccountResolver } from '../../src/accounts/account-resolver.js';
import { computeDeviceDigest } from '../../src/accounts/digest-ha1.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createSipAuthPolicy, cidrPeerLookup, NonceService, StoreCredentialDirectory } from '../../src/security/index.js';
import type { SipRequest, SipResponse } from '../../src/sip/message/message.js';
import { createResponse } from '../../src/sip/message/response-factory.js';
import type { Flow } from '../../src/sip/transport/flow.js';
import type { TransportName } from '../../src/sip/transport/transport-descriptor.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { LoopTransport } from '../support/loop-transport.js';
import { publishText, requestText } from '../support/sip-builders.js';
import { NotifierHarness, subscribeBytes, type SubscribeSpec } from '../subscriptions/helpers/notifier-harness.js';

/**
 * Digest authentication and authorization through the whole stack (security.md §2, §3, the table of §6: A1-A15,
 * Z1-Z7) over the loop network, UDP and TCP: the real policy (src/security/sip-policy.ts) on the stack's policy port,
 * phones at their own addresses computing RFC 7616 MD5 responses from the 401s they get.
 */

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const REALM_A = 'example.com';
const REALM_B = 'b.example';
const PEER_IP = '10.9.9.9';
const SERVER_URI = 'sip:10.0.0.1:5060';

interface Setup {
  h: NotifierHarness;
  clock: ManualClock;
  store: MemoryStore;
  phone(address: string): Phone;
}

function setup(t: Test, protocol: TransportName, opts: { defaultForUnknown?: boolean; algorithmsA?: string[] } = {}): Setup {
  const clock = new ManualClock();
  const store = new MemoryStore();
  store.accounts.put({ id: A, name: 'a', realm: REALM_A, parentId: null, createdAt: 1, updatedAt: 1, ...(opts.algorithmsA ? { digestAlgorithms: opts.algorithmsA } : {}) });
  store.accounts.put({ id: B, name: 'b', realm: REALM_B, parentId: A, createdAt: 2, updatedAt: 2 });
  const device = (id: string, accountId: string, realm: string, username: string) =>
    store.devices.put({
      id,
      accountId,
      name: username,
      sipUsername: username,
      sipPasswordHash: 'scrypt$x',
      presenceId: null,
      ownerId: null,
      createdAt: 1,
      updatedAt: 1,
      sipDigest: computeDeviceDigest(username, realm, `pw${username}`),
    });
  device('d'.repeat(31) + '1', A, REALM_A, '2001');
  device('d'.repeat(31) + '2', A, REALM_A, '1001');
  device('d'.repeat(31) + '3', B, REALM_B, '3001');
  const policy = createSipAuthPolicy({
    directory: new StoreCredentialDirectory(store, clock, { ttlMs: 0 }),
    nonces: new NonceService({ secret: Buffer.alloc(32, 1) }),
    clock,
    trustedPeers: cidrPeerLookup(() => A, [PEER_IP]),
  });
  const accounts = new ListAccountResolver(
    () => [
      { id: A, realm: REALM_A },
      { id: B, realm: REALM_B },
    ],
    opts.defaultForUnknown ?? true,
  );
  const h = new NotifierHarness({ policy, protocol, store, clock, accounts });
  t.teardown(() => h.dispose());
  return { h, clock, store, phone: (address) => new Phone(h, address, protocol) };
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

interface Challenge {
  realm: string;
  nonce: string;
  algorithm: string;
  stale: boolean;
}

function challengesOf(res: SipResponse): Challenge[] {
  return res.headers.lines('www-authenticate').map((v) => ({
    realm: /realm="([^"]*)"/.exec(v)![1]!,
    nonce: /nonce="([^"]*)"/.exec(v)![1]!,
    algorithm: /algorithm=([A-Za-z0-9-]+)/.exec(v)![1]!,
    stale: /stale=true/i.test(v),
  }));
}

/** An Authorization line as a client writes it (RFC 7616 §3.4), `uri=` as SIPp sends it: not the Request-URI. */
function authorization(
  method: string,
  ch: Challenge,
  user: string,
  password: string,
  opts: { nc?: number; realm?: string; algorithm?: 'MD5' | 'SHA-256' } = {},
): string {
  const realm = opts.realm ?? ch.realm;
  const alg = opts.algorithm ?? 'MD5';
  const h = alg === 'MD5' ? md5 : sha256;
  const nc = (opts.nc ?? 1).toString(16).padStart(8, '0');
  const ha1 = h(`${user}:${realm}:${password}`);
  const response = h(`${ha1}:${ch.nonce}:${nc}:cn0:auth:${h(`${method}:${SERVER_URI}`)}`);
  return `Authorization: Digest username="${user}", realm="${realm}", nonce="${ch.nonce}", uri="${SERVER_URI}", response="${response}", algorithm=${alg}, qop=auth, nc=${nc}, cnonce="cn0"`;
}

let seq = 0;

/** A phone at its own address: sends requests, keeps the answers, answers NOTIFYs 200 (or as told). */
class Phone {
  readonly ep: LoopTransport;
  flow: Flow;
  readonly responses: SipResponse[] = [];
  readonly notifies: SipRequest[] = [];
  notifyAnswer = 200;

  constructor(
    private readonly h: NotifierHarness,
    readonly address: string,
    readonly protocol: TransportName,
  ) {
    this.ep = h.net.endpoint(address, 5062);
    this.flow = this.ep.flowTo(h.server, protocol);
    this.ep.onMessage((msg, flow) => {
      if (msg.isRequest()) {
        if (msg.method === 'NOTIFY') {
          this.notifies.push(msg);
          void this.ep.send(createResponse(msg, this.notifyAnswer), flow);
        }
      } else this.responses.push(msg as SipResponse);
    });
  }

  /** A new connection (TCP) for the next requests: another flow from the same address. */
  reconnect(): void {
    this.flow = this.ep.flowTo(this.h.server, this.protocol);
  }

  async sendRaw(bytes: Buffer, method: string): Promise<SipResponse> {
    const before = this.responses.length;
    await this.ep.send(bytes, this.flow);
    await this.h.tick();
    const res = this.responses.slice(before).find((r) => r.cseq.method === method && r.status >= 200);
    if (!res) throw new Error(`no final response to ${method}`);
    return res;
  }

  subscribeBytes(spec: SubscribeSpec): Buffer {
    return subscribeBytes({ callId: `c${++seq}@${this.address}`, ...spec }, this.protocol);
  }

  subscribe(spec: SubscribeSpec): Promise<SipResponse> {
    return this.sendRaw(this.subscribeBytes(spec), 'SUBSCRIBE');
  }

  /** 401 first, then the same SUBSCRIBE (CSeq + 1) with credentials for `user`. */
  async subscribeAs(user: string, password: string, spec: SubscribeSpec = {}): Promise<{ first: SipResponse; res: SipResponse; spec: SubscribeSpec }> {
    const base: SubscribeSpec = { callId: `c${++seq}@${this.address}`, fromTag: `f${seq}`, fromUser: user, cseq: 1, ...spec };
    const first = await this.subscribe(base);
    const ch = challengesOf(first)[0]!;
    const next: SubscribeSpec = { ...base, cseq: 2, extraHeaders: [...(base.extraHeaders ?? []), authorization('SUBSCRIBE', ch, user, password)] };
    const res = await this.subscribe(next);
    return { first, res, spec: next };
  }

  publish(target: string, event: string, extra: string[] = [], from?: string): Promise<SipResponse> {
    const uri = `sip:${target}`;
    const text = publishText({
      target,
      event,
      expires: 60,
      contentType: event === 'presence' ? 'application/pidf+xml' : 'application/dialog-info+xml',
      body: event === 'presence' ? pidf(target) : dialogInfo(target),
      headers: {
        Via: `SIP/2.0/${this.protocol.toUpperCase()} ${this.address}:5062;branch=z9hG4bKp${++seq};rport`,
        ...(from ? { From: `<sip:${from}>;tag=t${seq}` } : { From: `<${uri}>;tag=t${seq}` }),
        ...(extra.length > 0 ? { Authorization: extra.map((e) => e.replace(/^Authorization: /, '')) } : {}),
      },
    });
    return this.sendRaw(Buffer.from(text), 'PUBLISH');
  }

  async publishAs(user: string, password: string, target: string, event: string, from?: string): Promise<{ first: SipResponse; res: SipResponse }> {
    const first = await this.publish(target, event, [], from);
    const ch = challengesOf(first)[0]!;
    const res = await this.publish(target, event, [authorization('PUBLISH', ch, user, password)], from);
    return { first, res };
  }
}

function pidf(target: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:${target}"><tuple id="t1"><status><basic>open</basic></status></tuple></presence>`;
}

function dialogInfo(target: string): string {
  return `<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:${target}"><dialog id="d${++seq}" call-id="secret-call-id" direction="initiator"><state>${seq % 2 === 0 ? "confirmed" : "early"}</state></dialog></dialog-info>`;
}

const watchers = (s: Setup) => s.h.notifier.list(REALM_A).map((r) => `${r.watcherUser}@${r.watcherDomain}`);

for (const protocol of ['udp', 'tcp'] as const) {
  t.test(`${protocol}: A1 a SUBSCRIBE without credentials gets 401 with one MD5 challenge for the account's realm, and nothing happens`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.1');
    const res = await p.subscribe({ user: '1001' });
    t.equal(res.status, 401);
    const chs = challengesOf(res);
    t.equal(chs.length, 1, 'one challenge');
    t.match(res.headers.get('www-authenticate'), /^Digest realm="example\.com", nonce="[A-Za-z0-9_-]+", qop="auth", algorithm=MD5$/);
    await s.h.tick(1000);
    t.equal(p.notifies.length, 0, 'no NOTIFY');
    t.equal(s.h.notifier.count(), 0, 'no subscription');
    t.equal(await s.store.subscriptions.count(), 0, 'nothing stored');
  });

  t.test(`${protocol}: A2/Z2 right MD5 credentials (uri= not the Request-URI) get 200 and a NOTIFY; the watcher is the device, not From`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.2');
    const { first, res } = await p.subscribeAs('2001', 'pw2001', { user: '1001', extraHeaders: [] });
    t.equal(first.status, 401);
    t.equal(res.status, 200);
    t.equal(p.notifies.length, 1, 'the first NOTIFY');
    t.same(watchers(s), ['2001@example.com']);
    // Z2: From says x@evil.example; the credentials are 2001's.
    const q = s.phone('192.168.7.3');
    const base: SubscribeSpec = { user: '1002', requestUri: `sip:1002@${REALM_A}` };
    const r1 = await q.subscribe({ ...base, fromUser: 'x' });
    const ch = challengesOf(r1)[0]!;
    const bytes = subscribeBytes({ ...base, fromUser: 'x', callId: 'z2@q', extraHeaders: [authorization('SUBSCRIBE', ch, '2001', 'pw2001')] }, protocol);
    const text = bytes.toString().replace(/From: <sip:x@example\.com>/, 'From: <sip:x@evil.example>');
    const r2 = await q.sendRaw(Buffer.from(text), 'SUBSCRIBE');
    t.equal(r2.status, 200);
    const rec = s.h.notifier.list(REALM_A).find((r) => r.callId === 'z2@q')!;
    t.equal(`${rec.watcherUser}@${rec.watcherDomain}`, '2001@example.com', 'the authenticated device is the watcher shown');
  });

  t.test(`${protocol}: A3 a wrong password and an unknown user get the same 401 status line with a fresh challenge`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.4');
    const wrong = await p.subscribeAs('2001', 'nope', { user: '1001' });
    const unknown = await p.subscribeAs('9999', 'nope', { user: '1001' });
    t.equal(wrong.res.status, 401);
    t.equal(unknown.res.status, 401);
    t.equal(`${wrong.res.status} ${wrong.res.reason}`, `${unknown.res.status} ${unknown.res.reason}`, 'byte-identical status lines');
    const shape = (r: SipResponse) => r.headers.get('www-authenticate')!.replace(/nonce="[^"]*"/, 'nonce=""');
    t.equal(shape(wrong.res), shape(unknown.res), 'the same challenge but for its nonce');
    t.not(challengesOf(wrong.res)[0]!.nonce, challengesOf(wrong.first)[0]!.nonce, 'a fresh nonce');
    t.equal(s.h.notifier.count(), 0);
  });

  t.test(`${protocol}: A4 the 5th failure from one IP and user is 403 + Retry-After; the right password from another IP still works`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.5');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await p.subscribeAs('2001', `bad${i}`, { user: '1001' })).res.status);
    t.same(statuses, [401, 401, 401, 401, 403]);
    const locked = await p.subscribeAs('2001', 'pw2001', { user: '1001' });
    t.equal(locked.res.status, 403, 'locked even with the right password');
    t.match(locked.res.headers.get('retry-after'), /^\d+$/);
    t.ok(Number(locked.res.headers.get('retry-after')) <= 300);
    const other = await s.phone('192.168.7.6').subscribeAs('2001', 'pw2001', { user: '1001' });
    t.equal(other.res.status, 200, 'another IP is not locked out');
    s.clock.advance(301_000);
    const after = await p.subscribeAs('2001', 'pw2001', { user: '1002' });
    t.equal(after.res.status, 200, 'free once the window has passed');
  });

  t.test(`${protocol}: A5 the same Authorization (nonce, nc) replayed in a new transaction gets 401, no stale, no second subscription`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.7');
    const { res, spec } = await p.subscribeAs('2001', 'pw2001', { user: '1001' });
    t.equal(res.status, 200);
    const replay = await p.subscribe({ ...spec, callId: 'replayed@x', fromTag: 'other' });
    t.equal(replay.status, 401);
    t.notOk(challengesOf(replay)[0]!.stale, 'no stale=true');
    t.equal(s.h.notifier.count(), 1);
  });

  t.test(`${protocol}: A6 nc rising on one nonce is accepted each time, and nc=1 on a new nonce`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.8');
    const first = await p.subscribe({ user: '1001', fromUser: '2001' });
    const ch = challengesOf(first)[0]!;
    for (let nc = 1; nc <= 3; nc++) {
      const r = await p.subscribe({ user: `100${nc}`, fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', ch, '2001', 'pw2001', { nc })] });
      t.equal(r.status, 200, `nc=${nc}`);
    }
    const fresh = challengesOf(await p.subscribe({ user: '1005', fromUser: '2001' }))[0]!;
    const r = await p.subscribe({ user: '1005', fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', fresh, '2001', 'pw2001', { nc: 1 })] });
    t.equal(r.status, 200, 'nc=1 on a new nonce');
  });

  t.test(`${protocol}: A7 a right digest on an expired nonce gets 401 stale=true; the retry on the new nonce gets 200`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.9');
    const ch = challengesOf(await p.subscribe({ user: '1001', fromUser: '2001' }))[0]!;
    s.clock.advance(301_000);
    const stale = await p.subscribe({ user: '1001', fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', ch, '2001', 'pw2001')] });
    t.equal(stale.status, 401);
    const sch = challengesOf(stale)[0]!;
    t.ok(sch.stale, 'stale=true');
    const ok = await p.subscribe({ user: '1001', fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', sch, '2001', 'pw2001')] });
    t.equal(ok.status, 200);
    const wrongStale = await p.subscribe({ user: '1001', fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', ch, '2001', 'bad')] });
    t.notOk(challengesOf(wrongStale)[0]!.stale, 'a wrong digest on an expired nonce is not stale');
  });

  t.test(`${protocol}: A8 a forged, garbled or tampered nonce gets 401 without stale, never 500`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.10');
    const ch = challengesOf(await p.subscribe({ user: '1001', fromUser: '2001' }))[0]!;
    const raw = Buffer.from(ch.nonce, 'base64url');
    raw.writeUInt32BE(raw.readUInt32BE(0) + 1000, 0);
    for (const nonce of ['forged', 'A'.repeat(38), raw.toString('base64url'), '']) {
      const r = await p.subscribe({ user: '1001', fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', { ...ch, nonce }, '2001', 'pw2001')] });
      t.ok(r.status === 401 || r.status === 400, `nonce ${JSON.stringify(nonce)}: ${r.status}`);
      if (r.status === 401) t.notOk(challengesOf(r)[0]!.stale);
    }
    const garbled = await p.subscribe({ user: '1001', fromUser: '2001', extraHeaders: ['Authorization: Digest username="2001", realm="example.com"'] });
    t.equal(garbled.status, 400, 'credentials lacking their fields are a clean 400');
    t.equal(s.h.notifier.count(), 0);
  });

  t.test(`${protocol}: A9 credentials for another realm or a user of another account are treated as unknown (401)`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.11');
    const ch = challengesOf(await p.subscribe({ user: '1001', fromUser: '2001' }))[0]!;
    const bogus = await p.subscribe({ user: '1001', fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', ch, '2001', 'pw2001', { realm: 'nowhere.example' })] });
    t.equal(bogus.status, 401);
    const bUser = await p.subscribeAs('3001', 'pw3001', { user: '1001' });
    t.equal(bUser.res.status, 401, 'a user that exists only in account B, answering A\'s challenge');
    t.equal(s.h.notifier.count(), 0);
  });

  t.test(`${protocol}: A11 opt-in: [SHA-256, MD5] offered with one nonce; either answer gets 200. Without it one MD5 challenge`, async (t) => {
    const s = setup(t, protocol, { algorithmsA: ['SHA-256', 'MD5'] });
    const p = s.phone('192.168.7.12');
    const first = await p.subscribe({ user: '1001', fromUser: '2001' });
    const chs = challengesOf(first);
    t.same(chs.map((c) => c.algorithm), ['SHA-256', 'MD5'], 'strongest first');
    t.equal(chs[0]!.nonce, chs[1]!.nonce, 'one shared nonce');
    const sha = await p.subscribe({ user: '1001', fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', chs[0]!, '2001', 'pw2001', { algorithm: 'SHA-256' })] });
    t.equal(sha.status, 200, 'SHA-256 (pjsip, linphone)');
    const md = await p.subscribe({ user: '1002', fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', chs[1]!, '2001', 'pw2001', { nc: 2 })] });
    t.equal(md.status, 200, 'MD5 (SIP.js, JsSIP take the last)');
  });

  t.test(`${protocol}: A12 two Authorization lines, the first for an unknown realm: the matching one is used`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.13');
    const ch = challengesOf(await p.subscribe({ user: '1001', fromUser: '2001' }))[0]!;
    const r = await p.subscribe({
      user: '1001',
      fromUser: '2001',
      extraHeaders: [authorization('SUBSCRIBE', ch, '2001', 'x', { realm: 'unknown.example' }), authorization('SUBSCRIBE', ch, '2001', 'pw2001')],
    });
    t.equal(r.status, 200);
  });

  t.test(`${protocol}: A13 in-dialog refresh and Expires 0 on the dialog's flow need no credentials; from another flow 401, then accepted`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.14');
    const { res, spec } = await p.subscribeAs('2001', 'pw2001', { user: '1001' });
    t.equal(res.status, 200);
    const toTag = res.to.params.get('tag')!;
    const inDialog = { ...spec, toTag, extraHeaders: [] as string[] };
    const refresh = await p.subscribe({ ...inDialog, cseq: 3 });
    t.equal(refresh.status, 200, 'refresh on the same flow: no challenge');
    const notifies = p.notifies.length;
    // Another flow: another source IP (UDP) or another connection (TCP).
    const other = protocol === 'udp' ? s.phone('192.168.7.15') : p;
    if (protocol === 'tcp') p.reconnect();
    const challenged = await other.subscribe({ ...inDialog, cseq: 4 });
    t.equal(challenged.status, 401, 'from elsewhere: challenged');
    const ch = challengesOf(challenged)[0]!;
    const accepted = await other.subscribe({ ...inDialog, cseq: 5, extraHeaders: [authorization('SUBSCRIBE', ch, '2001', 'pw2001')] });
    t.equal(accepted.status, 200, 'then the credentials are accepted');
    const wrong = await other.subscribe({ ...inDialog, cseq: 6, extraHeaders: [authorization('SUBSCRIBE', ch, '2001', 'bad', { nc: 2 })] });
    t.equal(wrong.status, 403, 'wrong credentials on the dialog\'s (new) flow: 403');
    const bye = await other.subscribe({ ...inDialog, cseq: 7, expires: 0 });
    t.equal(bye.status, 200, 'Expires 0 on the dialog\'s flow: no challenge');
    t.equal(s.h.notifier.count(), 0, 'unsubscribed');
    t.ok(p.notifies.length + (other === p ? 0 : other.notifies.length) > notifies, 'NOTIFYs went on');
  });

  t.test(`${protocol}: A14 a NOTIFY answered 401/407 keeps the subscription; three in a row remove it`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.16');
    const { res } = await p.subscribeAs('2001', 'pw2001', { user: '1001' });
    t.equal(res.status, 200);
    await s.h.tick(100);
    t.equal(s.h.notifier.count(), 1);
    p.notifyAnswer = 401;
    const peer = s.phone(PEER_IP);
    t.equal((await peer.publish(`1001@${REALM_A}`, 'dialog')).status, 200);
    await s.h.tick(100);
    t.equal(s.h.notifier.count(), 1, 'kept after a 401');
    t.equal(s.h.notifier.list(REALM_A)[0]!.lastNotify?.reply, 401, 'the reply recorded');
    p.notifyAnswer = 407;
    t.equal((await peer.publish(`1001@${REALM_A}`, 'dialog')).status, 200);
    await s.h.tick(100);
    t.equal(s.h.notifier.count(), 1, 'kept after a 407');
    await peer.publish(`1001@${REALM_A}`, 'dialog');
    await s.h.tick(100);
    t.equal(s.h.notifier.count(), 0, 'removed after the third in a row');
  });

  t.test(`${protocol}: Z1 a device of account A watching account B's resource gets 403 with a right digest, no NOTIFY, no body`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.17');
    const toB = await p.subscribe({ user: '1001', domain: REALM_B, fromUser: '2001' });
    t.equal(toB.status, 401);
    t.equal(challengesOf(toB)[0]!.realm, REALM_B, 'challenged with B\'s realm');
    // A's credentials on a nonce of A's realm (as a phone configured for A, or caching, sends them).
    const chA = challengesOf(await p.subscribe({ user: '1001', fromUser: '2001' }))[0]!;
    const r = await p.subscribe({ user: '1001', domain: REALM_B, fromUser: '2001', extraHeaders: [authorization('SUBSCRIBE', chA, '2001', 'pw2001')] });
    t.equal(r.status, 403);
    t.equal(r.body.length, 0, 'no body');
    await s.h.tick(100);
    t.equal(p.notifies.length, 0);
    t.equal(s.h.notifier.count(), 0);
  });

  t.test(`${protocol}: Z3 an unclaimed domain or IP literal is challenged with the default account's realm; without the default, 404`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.18');
    for (const domain of ['unclaimed.example', '10.0.0.1']) {
      const r = await p.subscribe({ user: '1001', domain });
      t.equal(r.status, 401);
      t.equal(challengesOf(r)[0]!.realm, REALM_A, domain);
    }
    const strict = setup(t, protocol, { defaultForUnknown: false });
    const r = await strict.phone('192.168.7.19').subscribe({ user: '1001', domain: 'unclaimed.example' });
    t.equal(r.status, 404);
  });

  t.test(`${protocol}: Z4 message-summary only for the device's own mailbox`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.20');
    const other = await p.subscribeAs('2001', 'pw2001', { user: '1001', event: 'message-summary' });
    t.equal(other.res.status, 403, 'another device\'s mailbox');
    const own = await p.subscribeAs('2001', 'pw2001', { user: '2001', event: 'message-summary' });
    t.equal(own.res.status, 200, 'its own');
  });

  t.test(`${protocol}: Z5 PUBLISH: 401 without credentials; another user's presence 403; dialog PUBLISH from a device 403; own presence 200`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.21');
    const none = await p.publish(`2001@${REALM_A}`, 'presence');
    t.equal(none.status, 401);
    t.equal(challengesOf(none)[0]!.realm, REALM_A);
    t.equal((await p.publishAs('2001', 'pw2001', `1001@${REALM_A}`, 'presence')).res.status, 403, 'for a different user');
    t.equal((await p.publishAs('2001', 'pw2001', `2001@${REALM_A}`, 'dialog')).res.status, 403, 'dialog event from a device');
    t.equal((await p.publishAs('2001', 'pw2001', `2001@${REALM_A}`, 'presence', `1001@${REALM_A}`)).res.status, 403, 'From another user');
    t.equal((await p.publishAs('2001', 'pw2001', `2001@${REALM_A}`, 'presence')).res.status, 200, 'its own presence');
  });

  t.test(`${protocol}: Z6 PUBLISH from a trusted peer: 200 without a challenge; for another account's domain 403`, async (t) => {
    const s = setup(t, protocol);
    const peer = s.phone(PEER_IP);
    t.equal((await peer.publish(`1001@${REALM_A}`, 'dialog')).status, 200);
    t.equal((await peer.publish(`1001@${REALM_B}`, 'dialog')).status, 403);
    const sub = await peer.subscribe({ user: '1001', fromUser: '5555' });
    t.equal(sub.status, 200, 'a peer SUBSCRIBE needs no credentials either');
    t.same(watchers(s), ['5555@example.com'], 'a peer vouches for From');
  });

  t.test(`${protocol}: Z7 an unauthorized SUBSCRIBE while 10 watchers watch the resource sends them nothing`, async (t) => {
    const s = setup(t, protocol);
    const peer = s.phone(PEER_IP);
    for (let i = 0; i < 10; i++) t.equal((await peer.subscribe({ user: '1001', fromUser: `60${i}` })).status, 200);
    await s.h.tick(100);
    const before = peer.notifies.length;
    const p = s.phone('192.168.7.22');
    t.equal((await p.subscribe({ user: '1001', fromUser: '2001' })).status, 401);
    t.equal((await p.subscribeAs('3001', 'pw3001', { user: '1001' })).res.status, 401);
    const chA = challengesOf(await p.subscribe({ user: '1001', fromUser: '2001' }))[0]!;
    t.equal((await p.subscribe({ user: '1001', domain: REALM_B, extraHeaders: [authorization('SUBSCRIBE', chA, '2001', 'pw2001')] })).status, 403);
    await s.h.tick(1000);
    t.equal(peer.notifies.length, before, 'zero NOTIFYs to the watchers');
    t.equal(p.notifies.length, 0);
  });

  t.test(`${protocol}: a new SUBSCRIBE replaces an older one only from the same authenticated device, never on From alone`, async (t) => {
    const s = setup(t, protocol);
    const p = s.phone('192.168.7.23');
    t.equal((await p.subscribeAs('2001', 'pw2001', { user: '1001' })).res.status, 200);
    // Device 1001 claims to be 2001 in From, with a new Call-ID: the phone's subscription stays.
    const impostor = await p.subscribeAs('1001', 'pw1001', { user: '1001', fromUser: '2001' });
    t.equal(impostor.res.status, 200);
    t.equal(s.h.notifier.count(), 2, 'nothing replaced');
    // The real phone after a reboot: same device, new Call-ID: its old subscription goes.
    t.equal((await p.subscribeAs('2001', 'pw2001', { user: '1001' })).res.status, 200);
    t.same(watchers(s).sort(), ['1001@example.com', '2001@example.com']);
  });
}

t.test('udp: A10 a retransmitted authenticated SUBSCRIBE gets the same 200 from the transaction layer, no new challenge', async (t) => {
  const s = setup(t, 'udp');
  const p = s.phone('192.168.7.30');
  const first = await p.subscribe({ user: '1001', fromUser: '2001', callId: 'a10@x', fromTag: 'a10' });
  const ch = challengesOf(first)[0]!;
  const bytes = p.subscribeBytes({ user: '1001', fromUser: '2001', callId: 'a10@x', fromTag: 'a10', cseq: 2, extraHeaders: [authorization('SUBSCRIBE', ch, '2001', 'pw2001')] });
  const r1 = await p.sendRaw(bytes, 'SUBSCRIBE');
  const r2 = await p.sendRaw(bytes, 'SUBSCRIBE');
  t.equal(r1.status, 200);
  t.equal(r2.status, 200, 'the retransmission: 200 again, not a replay 401');
  t.equal(r2.to.params.get('tag'), r1.to.params.get('tag'), 'the same answer');
  t.equal(s.h.notifier.count(), 1);
});

t.test('A15: without the policy (PISTON_SIP_AUTH=off) a SUBSCRIBE without credentials gets 200 and a NOTIFY, as before', async (t) => {
  const h = new NotifierHarness();
  t.teardown(() => h.dispose());
  const d = await h.subscribe({});
  t.equal(d.response.status, 200);
  t.equal(h.notifies.length, 1);
});

t.test('OPTIONS is answered 200 without credentials', async (t) => {
  const s = setup(t, 'udp');
  const p = s.phone('192.168.7.31');
  const text = requestText({
    method: 'OPTIONS',
    uri: `sip:${REALM_A}`,
    headers: { Via: `SIP/2.0/UDP 192.168.7.31:5062;branch=z9hG4bKopt${++seq};rport` },
  });
  const r = await p.sendRaw(Buffer.from(text), 'OPTIONS');
  t.equal(r.status, 200);
});
