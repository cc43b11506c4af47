import t from 'tap';
import { peerSourceOf } from '../../src/lib/trusted-peer-lookup.js';

/** Every trust decision asks with the same source: address, transport and, on TLS, the client certificate (transports.md T3). */

t.test('a flow that presented a client certificate is asked about with its fingerprint; one without, without', (t) => {
  t.strictSame(peerSourceOf({ remoteAddress: '192.0.2.7', protocol: 'tls', tlsPeer: { fingerprint256: 'AB:CD' } }), {
    address: '192.0.2.7',
    transport: 'tls',
    fingerprint: 'AB:CD',
  });
  t.strictSame(peerSourceOf({ remoteAddress: '192.0.2.7', protocol: 'udp' }), { address: '192.0.2.7', transport: 'udp' });
  t.end();
});
