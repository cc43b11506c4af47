import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { newLimitCounters } from '../../../src/security/limits/limit-counters.js';
import { createRequestGate } from '../../../src/security/limits/request-gate.js';
import { isScannerAgent } from '../../../src/security/limits/scanner-agents.js';
import { SourceRateLimiter } from '../../../src/security/limits/source-rate-limiter.js';
import type { TrustedPeerLookup } from '../../../src/security/limits/trusted-peers.js';
import type { Flow } from '../../../src/sip/transport/flow.js';
import { TCP, UDP } from '../../../src/sip/transport/transport-descriptor.js';
import { buildRequest } from '../../support/sip-builders.js';

const flowFrom = (address: string, protocol: 'udp' | 'tcp'): Flow => ({
  protocol,
  localAddress: '127.0.0.1',
  localPort: 5060,
  remoteAddress: address,
  remotePort: 5062,
  ...(protocol === 'tcp' ? { connectionId: 7 } : {}),
});

const subscribe = (userAgent?: string) =>
  buildRequest({ method: 'SUBSCRIBE', uri: 'sip:1001@example.com', headers: { Event: 'dialog', ...(userAgent ? { 'User-Agent': userAgent } : {}) } });

function gate(trusted: TrustedPeerLookup = () => []) {
  const clock = new ManualClock();
  const counters = newLimitCounters();
  const rate = new SourceRateLimiter({ requests: 50, windowMs: 2000, banMs: 300_000, maxSources: 1000, clock });
  const admit = createRequestGate({ dropScanners: true, rate, trusted, counters });
  const ask = (address: string, protocol: 'udp' | 'tcp', userAgent?: string) =>
    admit({ request: subscribe(userAgent), flow: flowFrom(address, protocol), transport: protocol === 'udp' ? UDP : TCP });
  return { clock, counters, ask };
}

t.test('scanner User-Agents are dropped without an answer (security.md §4.1, Kamailio\'s pattern; R2)', async (t) => {
  for (const ua of ['friendly-scanner', 'sipvicious 0.3.4', 'sipcli/v1.8', 'VaxSIPUserAgent/3.1', 'pplsip', 'sundayddr', 'iWar']) {
    t.ok(isScannerAgent(ua), `${ua} is a scanner`);
  }
  for (const ua of ['Yealink SIP-T46S 66.86.0.15', 'PolycomVVX-VVX_411-UA/6.4.3', 'baresip v1.0.0 (x86_64/linux)', 'sipsak 0.9.8', 'SIPp/Linux', 'JsSIP 3.13.8']) {
    t.notOk(isScannerAgent(ua), `${ua} is not`);
  }
  const { ask, counters } = gate();
  t.equal(ask('192.0.2.1', 'udp', 'friendly-scanner'), false, 'UDP: dropped');
  t.equal(ask('192.0.2.1', 'tcp', 'friendly-scanner'), false, 'TCP: dropped too, no answer to enumerate with');
  t.equal(ask('192.0.2.1', 'udp', 'Yealink SIP-T46S'), true, 'a phone is admitted');
  t.equal(counters.scanner, 2);
});

t.test('over its bucket an untrusted source is dropped on UDP and answered 503 + Retry-After on TCP, never 429 (security.md §4.2, RFC 3892)', async (t) => {
  const { ask, counters, clock } = gate();
  let admitted = 0;
  for (let i = 0; i < 50; i++) if (ask('192.0.2.2', 'udp') === true) admitted++;
  t.equal(admitted, 50);
  t.equal(ask('192.0.2.2', 'udp'), false, 'the 51st datagram is dropped');
  t.same(ask('192.0.2.2', 'tcp'), { retryAfterS: 300 }, 'on a connection: 503 with the ban\'s 300 s');
  clock.advance(100_000);
  t.same(ask('192.0.2.2', 'tcp'), { retryAfterS: 200 }, 'Retry-After counts down with the ban');
  t.equal(ask('192.0.2.9', 'udp'), true, 'another address is served');
  t.equal(counters['ban-started'], 1);
  t.equal(counters['rate-dropped'], 1);
  t.equal(counters['rate-refused'], 2);
  clock.advance(200_000);
  t.equal(ask('192.0.2.2', 'udp'), true, 'the ban has expired');
});

t.test('a trusted peer skips the bucket and is never banned (security.md §3.3)', async (t) => {
  const asked: string[] = [];
  const { ask, counters } = gate((source) => {
    asked.push(`${source.address}/${source.transport}`);
    return source.address === '192.0.2.50' ? [{ id: 'pbx', accountId: 'a1' }] : [];
  });
  let admitted = 0;
  for (let i = 0; i < 5000; i++) if (ask('192.0.2.50', 'udp') === true) admitted++;
  t.equal(admitted, 5000, 'every request admitted');
  t.equal(counters['ban-started'], 0);
  t.ok(asked.length <= 100, `trust is asked once per bucketful, not per request (${asked.length} lookups)`);
  t.same(asked[0], '192.0.2.50/udp');
});

t.test('an IPv6 source is counted by its /64: rotating the interface identifier does not buy a new bucket (RFC 6177)', async (t) => {
  const { sourceKey } = await import('../../../src/security/limits/source-key.js');
  t.equal(sourceKey('192.0.2.7'), '192.0.2.7');
  t.equal(sourceKey('2001:db8:1:2:a:b:c:d'), '2001:db8:1:2::/64');
  t.equal(sourceKey('2001:db8:1:2::5'), '2001:db8:1:2::/64');
  t.equal(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.equal(sourceKey('2001:0db8:0000:0002::1'), '2001:db8:0:2::/64');
  t.equal(sourceKey('::1'), '0:0:0:0::/64');
  t.equal(sourceKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  const { ask } = gate();
  let admitted = 0;
  for (let i = 0; i < 200; i++) if (ask(`2001:db8:1:2::${(i + 1).toString(16)}`, 'udp') === true) admitted++;
  t.equal(admitted, 50, 'one bucket for the whole /64');
  t.equal(ask('2001:db8:1:3::1', 'udp'), true, 'the next /64 is another source');
});
