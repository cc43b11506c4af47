import t from 'tap';
import { composePolicies } from '../../src/stack/compose-policy.js';
import type { PresencePolicy } from '../../src/stack/presence-policy.js';
import type { Flow } from '../../src/sip/transport/flow.js';
import { UDP } from '../../src/sip/transport/transport-descriptor.js';
import { buildRequest } from '../support/sip-builders.js';

const flow: Flow = { protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '192.0.2.10', remotePort: 5062 };
const request = buildRequest({ method: 'SUBSCRIBE', uri: 'sip:1001@example.com', headers: { Event: 'dialog' } });
const authInput = { request, flow, accountId: 'a1', domain: 'example.com', inDialog: false };
const subInput = {
  request,
  flow,
  identity: undefined,
  accountId: 'a1',
  event: 'dialog',
  eventId: null,
  resource: '1001',
  domain: 'example.com',
  watcherUser: '2001',
  watcherDomain: 'example.com',
  inDialog: false,
  expires: 3600,
};

t.test('composed policies are asked in order; the first drop, 503 or refusal wins', async (t) => {
  const asked: string[] = [];
  const limits: PresencePolicy = {
    admit: () => (asked.push('limits.admit'), true),
    authorizeSubscribe: () => (asked.push('limits.sub'), { ok: false, response: { status: 403, reason: 'Too many subscriptions' } }),
  };
  const digest: PresencePolicy = {
    admit: () => (asked.push('digest.admit'), { retryAfterS: 5 }),
    authenticate: () => ({ ok: true, identity: { kind: 'device', id: 'd1', accountId: 'a1' } }),
    authorizeSubscribe: () => (asked.push('digest.sub'), { ok: true }),
  };
  const both = composePolicies(limits, digest);
  t.same(both.admit!({ request, flow, transport: UDP }), { retryAfterS: 5 });
  t.same(both.authenticate!(authInput), { ok: true, identity: { kind: 'device', id: 'd1', accountId: 'a1' } }, 'the identity of the one that authenticates');
  t.same(both.authorizeSubscribe!(subInput), { ok: false, response: { status: 403, reason: 'Too many subscriptions' } });
  t.same(asked, ['limits.admit', 'digest.admit', 'limits.sub'], 'a refusal stops the asking');
  t.equal(both.authorizePublish, undefined, 'a hook none has stays absent');
});

t.test('an authentication refusal of any composed policy wins over an identity', async (t) => {
  const challenge = { ok: false as const, response: { status: 401, headers: [['WWW-Authenticate', 'Digest realm="a"']] as const } };
  const both = composePolicies({ authenticate: () => ({ ok: true }) }, { authenticate: () => challenge });
  t.same(both.authenticate!(authInput), challenge);
  t.same(composePolicies({ admit: () => true }, { admit: () => false }).admit!({ request, flow, transport: UDP }), false);
});
