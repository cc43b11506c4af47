import { createHmac, randomBytes } from 'node:crypto';
import t from 'tap';
import { NonceMac } from '../../src/security/digest/nonce-mac.js';
import { NonceService } from '../../src/security/digest/nonce.js';

/**
 * The nonce MAC is HMAC-SHA256 (RFC 2104) computed by hand for speed (issue 19): it must give exactly the bytes
 * `createHmac` gives, so that nonces issued before the change, and by other cluster nodes, still verify.
 */

function reference(secret: Buffer, head: Buffer, realm: string, ip: string | undefined): Buffer {
  const h = createHmac('sha256', secret).update(head).update('\u0000').update(realm, 'utf8');
  if (ip !== undefined) h.update('\u0000').update(ip, 'utf8');
  return h.digest();
}

t.test('RFC 2104: the same bytes as createHmac for keys shorter than, equal to and longer than the 64-byte block', async (t) => {
  const realms = ['a.example', '', 'réalm.example', 'x'.repeat(1000), '\u{1F600}.example'];
  for (const keyLength of [32, 48, 64, 65, 100]) {
    const secret = randomBytes(keyLength);
    const mac = new NonceMac(secret);
    for (const realm of realms) {
      for (const ip of [undefined, '10.0.0.1', '2001:db8::1']) {
        const head = randomBytes(12);
        const out = Buffer.alloc(40, 0xee);
        mac.into(out, 5, 16, head, realm, ip);
        const want = reference(secret, head, realm, ip);
        t.same(out.subarray(5, 21), want.subarray(0, 16), `key ${keyLength}, realm ${realm.slice(0, 20)}, ip ${ip}`);
        t.equal(out[4], 0xee, 'nothing written before the offset');
        t.equal(out[21], 0xee, 'nothing written past the length');
      }
    }
  }
});

t.test('a nonce made as before the change (createHmac, randomBytes) still verifies, and a tampered one does not', async (t) => {
  const secret = randomBytes(32);
  const now = 1_800_000_000_000;
  const head = Buffer.alloc(12);
  head.writeUInt32BE(Math.floor(now / 1000), 0);
  randomBytes(8).copy(head, 4);
  const old = Buffer.concat([head, reference(secret, head, 'a.example', undefined).subarray(0, 16)]).toString('base64url');
  const nonces = new NonceService({ secret });
  t.match(nonces.check(old, 'a.example', '10.0.0.1', now + 1000), { kind: 'valid' });
  const raw = Buffer.from(old, 'base64url');
  raw[8] = raw[8]! ^ 1;
  t.same(nonces.check(raw.toString('base64url'), 'a.example', '10.0.0.1', now + 1000), { kind: 'invalid' });
});

t.test('nonces issued in a row are all different (pooled random bytes) and all verify', async (t) => {
  const nonces = new NonceService({ secret: randomBytes(32) });
  const now = 1_800_000_000_000;
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const n = nonces.issue('a.example', '10.0.0.1', now);
    seen.add(n);
    if (i % 97 === 0) t.match(nonces.check(n, 'a.example', '10.0.0.1', now), { kind: 'valid' });
  }
  t.equal(seen.size, 2000);
});
