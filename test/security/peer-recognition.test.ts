import t from 'tap';
import { peerRecognition } from '../../src/security/index.js';
import type { SipRequest } from '../../src/sip/message/message.js';
import type { Flow } from '../../src/sip/transport/flow.js';
import { peerLookup } from '../support/trusted-peers.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const flowFrom = (address: string): Flow => ({ protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: address, remotePort: 5060 });
const input = (address: string, accountId: string | null) => ({
  request: {} as SipRequest,
  flow: flowFrom(address),
  accountId,
  domain: 'a.example',
  inDialog: false,
});

t.test('PISTON_SIP_AUTH=off: a trusted peer of the served account is still known as a peer, nobody is refused (security.md §3.3)', async (t) => {
  const { authenticate } = peerRecognition(peerLookup(A, ['192.0.2.0/24']));
  t.same(authenticate(input('192.0.2.7', A)), { ok: true, identity: { kind: 'peer', id: 'peer-0', accountId: A } });
  t.same(authenticate(input('192.0.2.7', B)), { ok: true }, "another account's domain: no peer identity, no refusal either");
  t.same(authenticate(input('198.51.100.1', A)), { ok: true }, 'an untrusted address');
});
