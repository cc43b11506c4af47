import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { ClusterEngine } from '../../src/cluster/engine-port.js';
import { MemoryClusterData } from '../../src/cluster/memory/memory-cluster-data.js';
import { MemoryClusterEngine } from '../../src/cluster/memory/memory-cluster-engine.js';
import { ClusterLink } from '../../src/cluster/node/cluster-link.js';
import type { NodeContext } from '../../src/cluster/node/node-context.js';
import { SharedSecretPart } from '../../src/cluster/node/shared-secret-part.js';
import { ManualClock } from '../../src/lib/clock.js';
import { computeResponse } from '../../src/lib/digest-hash.js';
import { silentLogger } from '../../src/lib/logger.js';
import { NcTracker, NonceService, loadNonceSecret, parseNonceSecret, saveNonceSecret } from '../../src/security/index.js';
import type { DigestCredentials } from '../../src/security/digest/credentials.js';
import { verifyDigest } from '../../src/security/digest/verifier.js';

/**
 * Cluster mode (issue 22): the SIP digest nonce secret is shared through the engine, so a 401 challenge sent by one node
 * is answered on another (security.md §2.5.1: stateless nonces, an HMAC under the secret). The nc replay tracking stays
 * per node.
 */

const REALM = 'pbx.example';
const HA1 = '0123456789abcdef0123456789abcdef';
const NOW = 1_800_000_000_000;

/** What a phone sends back for `nonce` (MD5, qop=auth, nc 1). */
function answer(nonce: string, nc = 1): DigestCredentials {
  const ncText = nc.toString(16).padStart(8, '0');
  const p = { method: 'SUBSCRIBE', uri: `sip:1001@${REALM}`, nonce, qop: 'auth', nc: ncText, cnonce: 'c0ffee' };
  return {
    username: '1001',
    realm: REALM,
    nonce,
    uri: p.uri,
    response: computeResponse('MD5', HA1, p),
    algorithm: 'MD5',
    qop: 'auth',
    ncText,
    nc,
    cnonce: 'c0ffee',
  };
}

/** One node's digest side: its nonces and its own nc tracker. */
function verifierOn(nonces: NonceService) {
  const nc = new NcTracker();
  return (creds: DigestCredentials) => verifyDigest(creds, HA1, { method: 'SUBSCRIBE', sourceIp: '10.0.0.1', nowMs: NOW, nonces, nc });
}

/** The twin behind a switch: `down` fails every call, as an unreachable Redis does. */
function switched(inner: ClusterEngine): ClusterEngine & { down: boolean } {
  const sw = { down: false };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'down') return sw.down;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (sw.down) return Promise.reject(new Error('engine unreachable'));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    set(target, prop, value) {
      if (prop === 'down') {
        sw.down = value as boolean;
        return true;
      }
      return Reflect.set(target, prop, value);
    },
  }) as ClusterEngine & { down: boolean };
}

interface TestNode {
  nonces: NonceService;
  part: SharedSecretPart;
  link: ClusterLink;
  ctx: NodeContext;
}

function node(engine: ClusterEngine, name: string, secret: Buffer, clock: ManualClock): TestNode {
  const nonces = new NonceService({ secret });
  const part = new SharedSecretPart({
    name: 'sip-nonce-secret',
    local: secret.toString('hex'),
    adopt: (hex) => {
      const s = parseNonceSecret(hex);
      if (!s) return false;
      nonces.rekey(s);
      return true;
    },
  });
  const link = new ClusterLink(silentLogger, () => clock.now());
  link.onReturn(() => part.onReturn());
  const ctx = { engine, node: name, clock, logger: silentLogger, link } as unknown as NodeContext;
  return { nonces, part, link, ctx };
}

t.test("a nonce of one node's challenge verifies on another once both hold the cluster's secret", async (t) => {
  const clock = new ManualClock(NOW);
  const data = new MemoryClusterData();
  const a = node(new MemoryClusterEngine(data, clock), 'n1', Buffer.alloc(32, 1), clock);
  const b = node(new MemoryClusterEngine(data, clock), 'n2', Buffer.alloc(32, 2), clock);
  const beforeB = b.nonces.issue(REALM, '10.0.0.1', NOW);
  t.equal(verifierOn(a.nonces)(answer(b.nonces.issue(REALM, '10.0.0.1', NOW))), 'bad-nonce', 'two secrets: the other node does not know the nonce');

  await a.part.start(a.ctx);
  await b.part.start(b.ctx);
  t.equal(a.part.current, Buffer.alloc(32, 1).toString('hex'), "the first node's own secret became the cluster's");
  t.equal(b.part.current, a.part.current, 'the second node adopted it');

  const onA = verifierOn(a.nonces);
  const onB = verifierOn(b.nonces);
  const fromA = a.nonces.issue(REALM, '10.0.0.1', NOW);
  t.equal(onB(answer(fromA)), 'ok', "node 1's challenge answered on node 2");
  const fromB = b.nonces.issue(REALM, '10.0.0.1', NOW);
  t.equal(onA(answer(fromB)), 'ok', "node 2's challenge answered on node 1");
  t.equal(onB(answer(beforeB)), 'ok', "a nonce node 2 gave out before adopting still verifies there (until it expires)");
  t.equal(onA(answer(beforeB)), 'bad-nonce', 'but not on node 1, which never held that secret');
  t.equal(onB(answer(fromA)), 'replay', 'the same nc again on the same node is a replay');
  t.equal(onA(answer(fromA, 1)), 'ok', 'nc tracking is per node: node 1 has not seen nc 1 of its own nonce yet');
});

t.test("a node whose engine is unreachable at start uses its own secret, and the cluster's once the engine answers", async (t) => {
  const clock = new ManualClock(NOW);
  const data = new MemoryClusterData();
  const a = node(new MemoryClusterEngine(data, clock), 'n1', Buffer.alloc(32, 1), clock);
  await a.part.start(a.ctx);
  const engine = switched(new MemoryClusterEngine(data, clock));
  engine.down = true;
  const b = node(engine, 'n2', Buffer.alloc(32, 2), clock);
  await b.part.start(b.ctx);
  t.equal(b.link.up, false, 'the failed read turned island mode on');
  t.equal(b.part.current, Buffer.alloc(32, 2).toString('hex'), 'island mode: its own secret');
  t.equal(verifierOn(b.nonces)(answer(a.nonces.issue(REALM, '10.0.0.1', NOW))), 'bad-nonce');

  engine.down = false;
  b.link.succeeded();
  await new Promise((r) => setImmediate(r));
  t.equal(b.part.current, a.part.current, 'adopted on return');
  t.equal(verifierOn(b.nonces)(answer(a.nonces.issue(REALM, '10.0.0.1', NOW))), 'ok');
});

t.test('after the engine lost its data the secret in use is offered again, so the cluster keeps its key', async (t) => {
  const clock = new ManualClock(NOW);
  const data = new MemoryClusterData();
  const a = node(new MemoryClusterEngine(data, clock), 'n1', Buffer.alloc(32, 1), clock);
  const b = node(new MemoryClusterEngine(data, clock), 'n2', Buffer.alloc(32, 2), clock);
  await a.part.start(a.ctx);
  await b.part.start(b.ctx);
  data.wipe();
  b.part.onEpochChange();
  a.part.onEpochChange();
  await new Promise((r) => setImmediate(r));
  const engine = new MemoryClusterEngine(data, clock);
  t.equal(await engine.sharedValue('sip-nonce-secret', 'ff'.repeat(32)), Buffer.alloc(32, 1).toString('hex'), "node 2 offered the shared key, not its own first one");
  t.equal(b.part.current, a.part.current);
});

t.test('a value in the engine that is no secret is not adopted; the node keeps its own', async (t) => {
  const clock = new ManualClock(NOW);
  const data = new MemoryClusterData();
  await new MemoryClusterEngine(data, clock).sharedValue('sip-nonce-secret', 'not hex');
  const a = node(new MemoryClusterEngine(data, clock), 'n1', Buffer.alloc(32, 1), clock);
  await a.part.start(a.ctx);
  t.equal(a.part.current, Buffer.alloc(32, 1).toString('hex'));
  const n = a.nonces.issue(REALM, '10.0.0.1', NOW);
  t.equal(verifierOn(a.nonces)(answer(n)), 'ok');
});

t.test('the adopted secret is kept in the data directory, so a restart without the engine issues the same nonces', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'piston-nonce-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const own = loadNonceSecret(dir);
  const shared = Buffer.alloc(32, 9);
  t.not(own.toString('hex'), shared.toString('hex'));
  saveNonceSecret(dir, shared);
  t.same(loadNonceSecret(dir), shared);
  t.equal(parseNonceSecret('zz'), undefined);
  t.throws(() => new NonceService({ secret: own }).rekey(Buffer.alloc(8)), /at least 32 bytes/);
});
