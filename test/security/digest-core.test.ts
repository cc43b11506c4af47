import { createHash } from 'node:crypto';
import t from 'tap';
import { computeHa1, computeResponse } from '../../src/lib/digest-hash.js';
import { computeDeviceDigest } from '../../src/accounts/digest-ha1.js';
import { challengeHeaders } from '../../src/security/digest/challenge.js';
import { chooseCredentials } from '../../src/security/digest/credentials.js';
import { FailureLockout } from '../../src/security/digest/failure-lockout.js';
import { NcTracker } from '../../src/security/digest/nc-tracker.js';
import { NonceService } from '../../src/security/digest/nonce.js';
import { verifyDigest } from '../../src/security/digest/verifier.js';
import { parseAuthorization } from '../../src/sip/message/header-values.js';
import { parseRequest } from '../support/sip-builders.js';

/**
 * The digest building blocks (security.md §2.5): response computation against the RFCs' own examples, nonces,
 * replay tracking, the lockout, and the choice among several Authorization lines.
 */

t.test('RFC 2617 §3.5 example: MD5 with qop=auth gives the published response', async (t) => {
  const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
  const response = computeResponse('MD5', ha1, {
    method: 'GET',
    uri: '/dir/index.html',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    qop: 'auth',
    nc: '00000001',
    cnonce: '0a4f113b',
  });
  t.equal(response, '6629fae49393a05397450978507c4ef1');
});

t.test('RFC 7616 §3.9.1 example: the MD5 and SHA-256 responses', async (t) => {
  const p = {
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth',
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  const md5 = computeResponse('MD5', computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life'), p);
  t.equal(md5, '8ca523f5e9506fed4657c9700eebdbec');
  const sha = computeResponse('SHA-256', computeHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life'), p);
  t.equal(sha, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

t.test('RFC 2069 form (no qop): response = H(HA1:nonce:HA2)', async (t) => {
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  const ha1 = md5('Mufasa:testrealm@host.com:Circle Of Life');
  t.equal(ha1, computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life'));
  const r = computeResponse('MD5', ha1, { method: 'GET', uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093' });
  t.equal(r, md5(`${ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:${md5('GET:/dir/index.html')}`));
});

t.test('device digest secrets: HA1 per algorithm over username:realm:password, ha1b over user@realm (security.md §2.4)', async (t) => {
  const d = computeDeviceDigest('1001', 'pbx.example.com', 'pw');
  t.equal(d.realm, 'pbx.example.com');
  t.equal(d.ha1Md5, computeHa1('MD5', '1001', 'pbx.example.com', 'pw'));
  t.equal(d.ha1bMd5, computeHa1('MD5', '1001@pbx.example.com', 'pbx.example.com', 'pw'));
  t.equal(d.ha1Sha256.length, 64);
  t.equal(d.ha1Sha512_256.length, 64);
  t.not(d.ha1Sha256, d.ha1Sha512_256);
  t.notOk(JSON.stringify(d).includes('"pw"'), 'the password is not kept');
});

const SECRET = Buffer.alloc(32, 7);

t.test('nonce: valid within its lifetime, expired after it, invalid when forged, tampered or for another realm (A7, A8)', async (t) => {
  const nonces = new NonceService({ secret: SECRET, lifetimeS: 300 });
  const now = 1_800_000_000_000;
  const n = nonces.issue('a.example', '10.0.0.1', now);
  t.match(nonces.check(n, 'a.example', '10.0.0.1', now + 299_000), { kind: 'valid' });
  t.match(nonces.check(n, 'a.example', '10.0.0.9', now), { kind: 'valid' }, 'not bound to the source by default');
  t.match(nonces.check(n, 'a.example', '10.0.0.1', now + 300_000), { kind: 'expired' });
  t.same(nonces.check(n, 'b.example', '10.0.0.1', now), { kind: 'invalid' }, 'the realm is hashed in');
  const raw = Buffer.from(n, 'base64url');
  raw.writeUInt32BE(raw.readUInt32BE(0) + 100, 0);
  t.same(nonces.check(raw.toString('base64url'), 'a.example', '10.0.0.1', now + 400_000), { kind: 'invalid' }, 'a moved timestamp fails the MAC');
  t.same(nonces.check('garbage', 'a.example', '10.0.0.1', now), { kind: 'invalid' });
  t.same(nonces.check('', 'a.example', '10.0.0.1', now), { kind: 'invalid' });
  t.same(nonces.check('"%%%"'.repeat(8), 'a.example', '10.0.0.1', now), { kind: 'invalid' });
  const other = new NonceService({ secret: Buffer.alloc(32, 8) });
  t.same(other.check(n, 'a.example', '10.0.0.1', now), { kind: 'invalid' }, 'another secret does not know it');
  const bound = new NonceService({ secret: SECRET, bindSourceIp: true });
  const b = bound.issue('a.example', '10.0.0.1', now);
  t.same(bound.check(b, 'a.example', '10.0.0.2', now), { kind: 'invalid' }, 'bound to the source IP when asked');
  t.not(nonces.issue('a.example', '10.0.0.1', now), n, 'two nonces of one second differ');
});

t.test('nc tracking: rising nc accepted, the same or lower refused, no-qop nonces once, bounded (A5, A6)', async (t) => {
  const nc = new NcTracker(2);
  t.equal(nc.accept('n1', 100, 1), 'fresh');
  t.equal(nc.accept('n1', 100, 2), 'fresh', 'nc rising on one nonce (Snom, Yealink)');
  t.equal(nc.accept('n1', 100, 2), 'replay');
  t.equal(nc.accept('n1', 100, 1), 'replay');
  t.equal(nc.accept('n2', 100, 1), 'fresh', 'a new nonce starts at 1');
  t.equal(nc.accept('n3', 0, 0), 'fresh', 'RFC 2069 style: once');
  t.equal(nc.accept('n3', 0, 0), 'replay');
  t.ok(nc.size <= 2, 'never more entries than its capacity');
});

t.test('nc tracking: a nonce pushed out of the map is treated as stale, never replayable', async (t) => {
  const nc = new NcTracker(1);
  const nonceAt = (s: number): string => {
    const b = Buffer.alloc(28);
    b.writeUInt32BE(s, 0);
    b.writeUInt32BE(Math.floor(Math.random() * 1e9), 4);
    return b.toString('base64url');
  };
  const a = nonceAt(1000);
  const b = nonceAt(1001);
  t.equal(nc.accept(a, 1000, 1), 'fresh');
  t.equal(nc.accept(b, 1001, 1), 'fresh');
  t.equal(nc.accept(a, 1000, 1), 'evicted', 'the evicted nonce cannot be replayed');
  t.equal(nc.accept(a, 1000, 5), 'evicted');
});

t.test('lockout: the 5th failure within 300 s per (IP, user) locks with Retry-After; other IPs and users are free (A4)', async (t) => {
  const lock = new FailureLockout();
  const t0 = 1_000_000;
  for (let i = 0; i < 4; i++) t.equal(lock.fail('10.0.0.1', '1001', t0 + i * 1000), 0, `failure ${i + 1} does not lock`);
  const wait = lock.fail('10.0.0.1', '1001', t0 + 10_000);
  t.equal(wait, 290, 'the 5th locks until the first (10 s earlier) leaves the window');
  t.equal(lock.retryAfter('10.0.0.1', '1001', t0 + 20_000), 280);
  t.equal(lock.retryAfter('10.0.0.2', '1001', t0 + 20_000), 0, 'another IP is not locked');
  t.equal(lock.retryAfter('10.0.0.1', '1002', t0 + 20_000), 0, 'another user from that IP is not locked');
  t.equal(lock.retryAfter('10.0.0.1', '1001', t0 + 300_001), 0, 'free once the window has passed');
  t.equal(lock.fail('10.0.0.1', '1001', t0 + 600_000), 0, 'old failures no longer count');
});

t.test('lockout memory is bounded', async (t) => {
  const lock = new FailureLockout({ capacity: 10 });
  for (let i = 0; i < 100; i++) lock.fail(`10.0.${i}.1`, 'x', 1000);
  t.equal(lock.retryAfter('10.0.0.1', 'x', 1000), 0);
  t.ok(true);
});

const line = (s: string) => parseAuthorization(s);

t.test('choosing credentials: every Authorization line walked, the one for the challenged realm and an offered algorithm used (A12)', async (t) => {
  const lines = [
    line('Digest username="1001", realm="other.example", nonce="n", uri="sip:x", response="abcd", algorithm=MD5'),
    line('Digest username="1001", realm="a.example", nonce="n", uri="sip:x", response="0123", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c"'),
    line('Digest username="1001", realm="a.example", nonce="n2", uri="sip:x", response="beef", algorithm=MD5, qop=auth, nc=00000002, cnonce="c"'),
  ];
  const c = chooseCredentials(lines, 'a.example', ['MD5']);
  t.equal(c.kind, 'digest');
  if (c.kind !== 'digest') return;
  t.equal(c.matchesRealm, true);
  t.equal(c.credentials.nonce, 'n2', 'SHA-256 not offered: the MD5 line is used');
  t.equal(c.credentials.nc, 2);
  const sha = chooseCredentials(lines, 'a.example', ['SHA-256', 'MD5']);
  t.equal(sha.kind === 'digest' && sha.credentials.algorithm, 'SHA-256', 'the first matching line wins');
  const foreign = chooseCredentials(lines.slice(0, 1), 'a.example', ['MD5']);
  t.equal(foreign.kind === 'digest' && foreign.matchesRealm, false, 'only another realm: reported as such');
  t.same(chooseCredentials([], 'a.example', ['MD5']), { kind: 'none' });
  t.same(chooseCredentials([line('Bearer abc')], 'a.example', ['MD5']), { kind: 'none' }, 'other schemes ignored');
});

t.test('choosing credentials: missing fields, a bad nc, qop=auth-int are malformed (400)', async (t) => {
  const bad = [
    'Digest realm="a", nonce="n", uri="sip:x", response="ab"',
    'Digest username="u", realm="a", uri="sip:x", response="ab"',
    'Digest username="u", realm="a", nonce="n", response="ab"',
    'Digest username="u", realm="a", nonce="n", uri="sip:x"',
    'Digest username="u", realm="a", nonce="n", uri="sip:x", response="zz"',
    'Digest username="u", realm="a", nonce="n", uri="sip:x", response="ab", qop=auth, cnonce="c"',
    'Digest username="u", realm="a", nonce="n", uri="sip:x", response="ab", qop=auth, nc=1, cnonce="c"',
    'Digest username="u", realm="a", nonce="n", uri="sip:x", response="ab", qop=auth, nc=00000000, cnonce="c"',
    'Digest username="u", realm="a", nonce="n", uri="sip:x", response="ab", qop=auth-int, nc=00000001, cnonce="c"',
  ];
  for (const b of bad) t.equal(chooseCredentials([line(b)], 'a', ['MD5']).kind, 'malformed', b);
});

t.test('SipRequest.authorizations returns every Authorization header in order (pjsip sends several)', async (t) => {
  const req = parseRequest(
    [
      'SUBSCRIBE sip:1001@a.example SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKx',
      'From: <sip:2001@a.example>;tag=1',
      'To: <sip:1001@a.example>',
      'Call-ID: c1',
      'CSeq: 1 SUBSCRIBE',
      'Max-Forwards: 70',
      'Authorization: Digest username="a", realm="r1", nonce="n", uri="sip:x", response="ab"',
      'Authorization: Digest username="b", realm="r2", nonce="n", uri="sip:x,y", response="cd"',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  t.same(
    req.authorizations.map((a) => [a.params.get('username'), a.params.get('realm'), a.params.get('uri')]),
    [
      ['a', 'r1', 'sip:x'],
      ['b', 'r2', 'sip:x,y'],
    ],
  );
  t.equal(req.authorization?.params.get('username'), 'a', 'the single getter still gives the first');
});

t.test('verifier: right digest ok; wrong and unknown alike; expired right digest stale; forged nonce; replay (A3, A5, A7, A8)', async (t) => {
  const nonces = new NonceService({ secret: SECRET });
  const nc = new NcTracker();
  const now = 1_800_000_000_000;
  const realm = 'a.example';
  const ha1 = computeHa1('MD5', '1001', realm, 'pw');
  const make = (nonce: string, ncv: number, password = 'pw') => {
    const h = computeHa1('MD5', '1001', realm, password);
    const ncText = ncv.toString(16).padStart(8, '0');
    const response = computeResponse('MD5', h, { method: 'SUBSCRIBE', uri: 'sip:127.0.0.1:5060', nonce, qop: 'auth', nc: ncText, cnonce: 'cn' });
    const c = chooseCredentials(
      [line(`Digest username="1001", realm="${realm}", nonce="${nonce}", uri="sip:127.0.0.1:5060", response="${response}", algorithm=MD5, qop=auth, nc=${ncText}, cnonce="cn"`)],
      realm,
      ['MD5'],
    );
    if (c.kind !== 'digest') throw new Error('not digest');
    return c.credentials;
  };
  const ctx = (ms: number) => ({ method: 'SUBSCRIBE', sourceIp: '10.0.0.1', nowMs: ms, nonces, nc });
  const n = nonces.issue(realm, '10.0.0.1', now);
  t.equal(verifyDigest(make(n, 1), ha1, ctx(now)), 'ok', 'uri= is not the Request-URI and still verifies');
  t.equal(verifyDigest(make(n, 1), ha1, ctx(now)), 'replay', 'the same nonce and nc again');
  t.equal(verifyDigest(make(n, 2), ha1, ctx(now)), 'ok', 'nc rising');
  t.equal(verifyDigest(make(n, 3, 'bad'), ha1, ctx(now)), 'wrong');
  t.equal(verifyDigest(make(n, 3), undefined, ctx(now)), 'wrong', 'an unknown user is just wrong');
  t.equal(verifyDigest(make(n, 3), ha1, ctx(now + 301_000)), 'stale', 'expired nonce, right digest');
  t.equal(verifyDigest(make(n, 4, 'bad'), ha1, ctx(now + 301_000)), 'wrong', 'expired nonce, wrong digest: not stale');
  t.equal(verifyDigest(make('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 1), ha1, ctx(now)), 'bad-nonce');
});

t.test('challenge: one MD5 challenge by default; several strongest first with one shared nonce; stale=true', async (t) => {
  t.same(challengeHeaders('a.example', ['MD5'], 'N', false), [['WWW-Authenticate', 'Digest realm="a.example", nonce="N", qop="auth", algorithm=MD5']]);
  const two = challengeHeaders('a.example', ['SHA-256', 'MD5'], 'N', true);
  t.same(
    two.map((h) => h[1]),
    [
      'Digest realm="a.example", nonce="N", qop="auth", algorithm=SHA-256, stale=true',
      'Digest realm="a.example", nonce="N", qop="auth", algorithm=MD5, stale=true',
    ],
  );
});
