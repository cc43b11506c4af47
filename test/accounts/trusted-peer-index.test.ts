import t from 'tap';
import { TrustedPeerIndex } from '../../src/accounts/trusted-peer-index.js';
import { parseCidr, parseIp } from '../../src/lib/cidr.js';
import type { TrustedPeerRecord } from '../../src/store/records.js';

// Issue 19 item 3, security.md §3.3: trust comes from the source address (CIDR), optionally the transport and the TLS
// client certificate, never from a header. The index answers per SIP request from memory.

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const FP = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');

function peer(id: string, cidr: string, over: Partial<TrustedPeerRecord> = {}): TrustedPeerRecord {
  return { id, accountId: A, cidr, transport: null, fingerprint: null, name: null, createdAt: 0, updatedAt: 0, ...over };
}

const ids = (m: readonly { id: string }[]): string[] => m.map((x) => x.id);

t.test('CIDR text: blocks, single addresses, host bits cleared, IPv4-mapped blocks become IPv4, junk refused', async (t) => {
  t.equal(parseCidr('10.1.2.3/8')?.text, '10.0.0.0/8', 'host bits cleared');
  t.equal(parseCidr('192.0.2.10')?.text, '192.0.2.10/32', 'a single IPv4 address is a /32');
  t.equal(parseCidr('2001:DB8:0:0:1::/32')?.text, '2001:db8::/32', 'IPv6 in RFC 5952 form');
  t.equal(parseCidr('::1')?.text, '::1/128');
  t.equal(parseCidr('fe80::1:0:0:0:1/128')?.text, 'fe80:0:0:1::1/128', 'the longest zero run is the one compressed');
  t.equal(parseCidr('::ffff:10.0.0.0/104')?.text, '10.0.0.0/8', 'an IPv4-mapped block is the IPv4 block');
  t.equal(parseCidr('0.0.0.0/0')?.text, '0.0.0.0/0');
  t.equal(parseCidr('1:2:3:4:5:6:7:8')?.text, '1:2:3:4:5:6:7:8/128', 'no zero run to compress');
  t.equal(parseCidr('::')?.text, '::/128');
  for (const bad of [':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:', '12345::', '::g', '1.2.3.04', '']) {
    t.equal(parseCidr(bad), undefined, `refused: ${JSON.stringify(bad)}`);
  }
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0/8', '300.1.1.1', 'example.com', '10.0.0.0/-1', '10.0.0.0/8/8', 'fe80::1%eth0', '1.2.3.4/ 8']) {
    t.equal(parseCidr(bad), undefined, `refused: ${JSON.stringify(bad)}`);
  }
  t.strictSame(parseIp('::ffff:192.0.2.1'), parseIp('192.0.2.1'), 'an IPv4-mapped source is its IPv4 address');
  t.equal(parseIp('fe80::1%eth0')?.family, 6, 'a zone is ignored');
  t.equal(parseIp('not-an-ip'), undefined);
});

t.test('an IPv4 source matches the blocks that hold it, most specific first, and nothing else', async (t) => {
  const index = new TrustedPeerIndex(() => [
    peer('wide', '10.0.0.0/8'),
    peer('narrow', '10.1.2.0/24', { accountId: B }),
    peer('host', '10.1.2.3'),
    peer('other', '192.168.0.0/16'),
  ]);
  t.strictSame(ids(index.match({ address: '10.1.2.3', transport: 'udp' })), ['host', 'narrow', 'wide']);
  t.strictSame(index.match({ address: '10.1.2.3', transport: 'udp' }).find((m) => m.id === 'narrow')?.accountId, B);
  t.strictSame(ids(index.match({ address: '10.9.9.9', transport: 'udp' })), ['wide']);
  t.strictSame(ids(index.match({ address: '11.0.0.1', transport: 'udp' })), [], 'outside every block');
  t.strictSame(ids(index.match({ address: '::ffff:10.1.2.4', transport: 'tcp' })), ['narrow', 'wide'], 'IPv4-mapped source (dual-stack socket)');
  t.strictSame(ids(index.match({ address: 'garbage', transport: 'udp' })), [], 'an unparsable address matches nothing');
});

t.test('IPv6 blocks match IPv6 sources; IPv6 never matches an IPv4 source and the reverse', async (t) => {
  const index = new TrustedPeerIndex(() => [
    peer('doc', '2001:db8::/32'),
    peer('one', '2001:db8:1::7'),
    peer('loop', '::1'),
    peer('v4all', '0.0.0.0/0'),
  ]);
  t.strictSame(ids(index.match({ address: '2001:db8:1::7', transport: 'tcp' })), ['one', 'doc']);
  t.strictSame(ids(index.match({ address: '2001:DB8:ffff::1', transport: 'tcp' })), ['doc'], 'upper-case hex');
  t.strictSame(ids(index.match({ address: '2001:db9::1', transport: 'tcp' })), []);
  t.strictSame(ids(index.match({ address: '::1', transport: 'udp' })), ['loop']);
  t.strictSame(ids(index.match({ address: '127.0.0.1', transport: 'udp' })), ['v4all'], '0.0.0.0/0 holds IPv4 only');
  t.strictSame(ids(index.match({ address: '::ffff:127.0.0.1', transport: 'udp' })), ['v4all']);
});

t.test('a peer limited to a transport matches only requests over it (case-insensitive)', async (t) => {
  const index = new TrustedPeerIndex(() => [peer('tcp-only', '127.0.0.2', { transport: 'tcp' }), peer('any', '127.0.0.3')]);
  t.strictSame(ids(index.match({ address: '127.0.0.2', transport: 'tcp' })), ['tcp-only']);
  t.strictSame(ids(index.match({ address: '127.0.0.2', transport: 'TCP' })), ['tcp-only']);
  t.strictSame(ids(index.match({ address: '127.0.0.2', transport: 'udp' })), [], 'UDP from the same address is not trusted');
  t.strictSame(ids(index.match({ address: '127.0.0.3', transport: 'wss' })), ['any']);
});

t.test('a peer with a certificate fingerprint matches only a flow that presented that certificate', async (t) => {
  const index = new TrustedPeerIndex(() => [peer('cert', '127.0.0.0/8', { transport: 'tls', fingerprint: FP })]);
  t.strictSame(ids(index.match({ address: '127.0.0.5', transport: 'tls', fingerprint: FP })), ['cert']);
  t.strictSame(ids(index.match({ address: '127.0.0.5', transport: 'tls', fingerprint: FP.replace(/:/g, '').toLowerCase() })), ['cert'], 'colons and case ignored');
  t.strictSame(ids(index.match({ address: '127.0.0.5', transport: 'tls' })), [], 'no certificate');
  t.strictSame(ids(index.match({ address: '127.0.0.5', transport: 'tls', fingerprint: 'AB'.repeat(32) })), [], 'another certificate');
  t.strictSame(ids(index.match({ address: '10.0.0.1', transport: 'tls', fingerprint: FP })), [], 'the right certificate from outside the block');
});

t.test('refresh() follows the store; a record whose CIDR no longer parses is left out; empty answers are shared', async (t) => {
  let records = [peer('p', '127.0.0.2')];
  const index = new TrustedPeerIndex(() => records);
  t.equal(index.size, 1);
  records = [peer('q', '127.0.0.3'), peer('broken', 'not a cidr')];
  t.strictSame(ids(index.match({ address: '127.0.0.2', transport: 'udp' })), ['p'], 'unchanged until refresh');
  index.refresh();
  t.equal(index.size, 1, 'the broken record is skipped');
  t.strictSame(ids(index.match({ address: '127.0.0.2', transport: 'udp' })), []);
  t.strictSame(ids(index.match({ address: '127.0.0.3', transport: 'udp' })), ['q']);
  t.ok(Object.isFrozen(index.match({ address: '127.0.0.9', transport: 'udp' })), 'no allocation for a miss');
});

t.test('a lookup stays fast with many peers: 2,000 blocks, 100,000 lookups within 1.5 s even under coverage', async (t) => {
  const records: TrustedPeerRecord[] = [];
  for (let i = 0; i < 1000; i++) records.push(peer(`v4-${i}`, `10.${i >> 8}.${i & 255}.0/24`));
  for (let i = 0; i < 1000; i++) records.push(peer(`v6-${i}`, `2001:db8:${i.toString(16)}::/48`));
  const index = new TrustedPeerIndex(() => records);
  const started = performance.now();
  let hits = 0;
  for (let i = 0; i < 50_000; i++) {
    const j = i % 1000;
    hits += index.match({ address: `10.${j >> 8}.${j & 255}.9`, transport: 'udp' }).length;
    hits += index.match({ address: `2001:db8:${j.toString(16)}::1`, transport: 'udp' }).length;
  }
  const ms = performance.now() - started;
  t.equal(hits, 100_000, 'every lookup found its block');
  t.ok(ms < 1500, `100,000 lookups took ${ms.toFixed(0)} ms`);
});
