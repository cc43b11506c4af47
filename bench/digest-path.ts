/**
 * Digest SUBSCRIBE micro-benchmark (issue 19): the server's JavaScript for one subscription with digest
 * authentication, without sockets or the transaction layer, so that small changes to the digest path can be compared
 * where the SIPp runs are too noisy on a shared machine.
 *
 * A stack as main.ts builds it (createPresenceStack) with the digest policy of main-security.ts over a SQLite admin
 * store (one account, one device), and an in-process phone for a network (as the start-up rehearsal). Each
 * subscription is what SIPp's `subscribe-auth.xml` does: SUBSCRIBE → 401 (parsed, its nonce taken) → SUBSCRIBE with
 * Authorization (MD5, qop=auth) → 200, and the NOTIFY answered 200. Every message goes through the real parser; every
 * response and NOTIFY is serialised. Mode `plain` sends the same SUBSCRIBE from a trusted peer (no challenge): the
 * difference is what digest costs here. The phone's own MD5s are counted in `digest` (two hashes, about 1 µs).
 *
 *   node dist/bench/digest-path.js [digest|plain|both]      (after a build)
 *
 * Prints CPU µs per subscription (user + system), best and median of the batches after warm-up. Figures only.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDeviceDigest } from '../src/accounts/digest-ha1.js';
import { ListAccountResolver } from '../src/accounts/account-resolver.js';
import { ManualClock } from '../src/lib/clock.js';
import { silentLogger } from '../src/lib/logger.js';
import { createSipAuthPolicy, NonceService, StoreCredentialDirectory } from '../src/security/index.js';
import type { SipRequest, SipResponse } from '../src/sip/message/message.js';
import { createResponse } from '../src/sip/message/response-factory.js';
import { serialize } from '../src/sip/message/serialize.js';
import { parseMessage } from '../src/sip/parser/parse-message.js';
import type { ClientResult } from '../src/sip/transaction/non-invite-client-transaction.js';
import type { Flow } from '../src/sip/transport/flow.js';
import { stampVia } from '../src/sip/transport/via-stamp.js';
import { createPresenceStack, type PresenceStack } from '../src/stack/index.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';

const PER_BATCH = Number(process.env.BENCH_SUBS ?? 2000);
const WARM_BATCHES = 3;
const TIMED_BATCHES = Number(process.env.BENCH_BATCHES ?? 10);
const ACCOUNT = 'a'.repeat(32);
const REALM = '127.0.0.1';
const USER = 'benchauth';
const PASSWORD = 'bench-password';
const PEER = '127.0.0.9';
const PHONE = '127.0.0.1';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const HA1 = md5(`${USER}:${REALM}:${PASSWORD}`);

function flowFrom(address: string): Flow {
  return { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: address, remotePort: 5061 };
}

interface Bench {
  stack: PresenceStack;
  clock: ManualClock;
  last: SipResponse | undefined;
  dispose(): void;
}

function build(): Bench {
  const dir = mkdtempSync(join(tmpdir(), 'digest-path-'));
  const clock = new ManualClock(Date.now());
  const admin = openSqliteStore({ dataDir: dir, clock });
  admin.accounts.put({ id: ACCOUNT, name: 'bench', realm: REALM, parentId: null, createdAt: 1, updatedAt: 1 });
  admin.devices.put({
    id: 'd'.repeat(32), accountId: ACCOUNT, name: USER, sipUsername: USER, sipPasswordHash: 'scrypt$unused', presenceId: null,
    ownerId: null, createdAt: 1, updatedAt: 1, sipDigest: computeDeviceDigest(USER, REALM, PASSWORD),
  });
  const policy = createSipAuthPolicy({
    directory: new StoreCredentialDirectory(admin, clock),
    nonces: new NonceService({ secret: Buffer.alloc(32, 7) }),
    clock,
    trustedPeers: ({ address }) => (address === PEER ? [{ id: 'p'.repeat(32), accountId: ACCOUNT }] : []),
  });
  const b: Bench = {
    clock,
    last: undefined,
    stack: createPresenceStack({
      clock,
      logger: silentLogger,
      accounts: new ListAccountResolver(() => [{ id: ACCOUNT, realm: REALM }], true),
      policy,
      channel: {
        request: (req: SipRequest): Promise<ClientResult> => {
          serialize(req);
          const response = parseMessage(serialize(createResponse(req, 200)), { datagram: true }) as SipResponse;
          return Promise.resolve({ kind: 'response', response, flow: flowFrom(PHONE) });
        },
      },
    }),
    dispose() {
      b.stack.dispose();
      admin.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return b;
}

function subscribeText(i: number, cseq: number, from: string, authorization?: string): string {
  return [
    `SUBSCRIBE sip:${10_000 + i}@${REALM}:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP ${from}:5061;branch=z9hG4bK-${i}-${cseq}`,
    'Max-Forwards: 70',
    `From: <sip:${USER}@${REALM}>;tag=${i}b`,
    `To: <sip:${10_000 + i}@${REALM}>`,
    `Call-ID: ${i}-bench@${from}`,
    `CSeq: ${cseq} SUBSCRIBE`,
    `Contact: <sip:w${i}@${from}:5061;transport=udp>`,
    'Event: dialog',
    'Accept: application/dialog-info+xml',
    'Expires: 3600',
    ...(authorization ? [authorization] : []),
    'User-Agent: piston-bench',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function send(b: Bench, text: string, from: string): SipResponse {
  b.last = undefined;
  const req = parseMessage(Buffer.from(text), { datagram: true }) as SipRequest;
  const flow = flowFrom(from);
  stampVia(req, flow.remoteAddress, flow.remotePort);
  b.stack.receive(req, flow, {
    respond: (res) => {
      // As the server transaction does; the phone reads the 401 from the wire.
      b.last = parseMessage(serialize(res), { datagram: true }) as SipResponse;
    },
  });
  if (!b.last) throw new Error('no answer');
  return b.last;
}

function subscribeDigest(b: Bench, i: number): void {
  const challenge = send(b, subscribeText(i, 1, PHONE), PHONE);
  if (challenge.status !== 401) throw new Error(`expected 401, got ${challenge.status}`);
  const nonce = /nonce="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')![1]!;
  const uri = `sip:${REALM}:5060`;
  const cnonce = `c${i}`;
  const response = md5(`${HA1}:${nonce}:00000001:${cnonce}:auth:${md5(`SUBSCRIBE:${uri}`)}`);
  const auth = `Authorization: Digest username="${USER}",realm="${REALM}",cnonce="${cnonce}",nc=00000001,qop="auth",uri="${uri}",nonce="${nonce}",response="${response}",algorithm=MD5`;
  const ok = send(b, subscribeText(i, 2, PHONE, auth), PHONE);
  if (ok.status !== 200 && ok.status !== 202) throw new Error(`expected 200, got ${ok.status}`);
}

function subscribePlain(b: Bench, i: number): void {
  const ok = send(b, subscribeText(i, 1, PEER), PEER);
  if (ok.status !== 200 && ok.status !== 202) throw new Error(`expected 200, got ${ok.status}`);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One batch on a fresh stack; each subscription in a turn of its own so its NOTIFY goes out as in the server. */
async function batch(mode: 'digest' | 'plain'): Promise<number> {
  const b = build();
  const c0 = process.cpuUsage();
  for (let i = 0; i < PER_BATCH; i++) {
    b.clock.advance(1);
    if (mode === 'digest') subscribeDigest(b, i);
    else subscribePlain(b, i);
    await nextTurn();
  }
  const c = process.cpuUsage(c0);
  b.dispose();
  return (c.user + c.system) / PER_BATCH;
}

const which = process.argv[2] ?? 'both';
const modes: ('digest' | 'plain')[] = which === 'both' ? ['digest', 'plain'] : [which as 'digest' | 'plain'];
for (let w = 0; w < WARM_BATCHES; w++) for (const m of modes) await batch(m);
const results = new Map<string, number[]>(modes.map((m) => [m, []]));
for (let t = 0; t < TIMED_BATCHES; t++) for (const m of modes) results.get(m)!.push(await batch(m));
for (const [m, xs] of results) {
  xs.sort((a, b) => a - b);
  process.stdout.write(`${m}: CPU per subscription best ${xs[0]!.toFixed(1)} µs, median ${xs[Math.floor(xs.length / 2)]!.toFixed(1)} µs (${TIMED_BATCHES} batches of ${PER_BATCH})\n`);
}
