import t from 'tap';
import { newLimitCounters } from '../../../src/security/limits/limit-counters.js';
import { SubscriptionQuota, TOO_MANY_SUBSCRIPTIONS, type QuotaSubscribeInput } from '../../../src/security/limits/subscription-quota.js';
import type { TrustedPeerLookup } from '../../../src/security/limits/trusted-peers.js';
import type { Flow } from '../../../src/sip/transport/flow.js';
import type { RequestIdentity } from '../../../src/sip/ua/request-policy.js';
import { buildRequest } from '../../support/sip-builders.js';

const flow = (address: string): Flow => ({ protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: address, remotePort: 5062 });

interface Spec {
  resource: string;
  address?: string;
  from?: string;
  identity?: RequestIdentity;
  inDialog?: boolean;
  expires?: number;
  callId?: string;
}

let n = 0;
function input(spec: Spec): QuotaSubscribeInput {
  const callId = spec.callId ?? `q${n++}@test`;
  const request = buildRequest({
    method: 'SUBSCRIBE',
    uri: `sip:${spec.resource}@example.com`,
    headers: { 'Call-ID': callId, From: `<sip:${spec.from ?? '2001'}@example.com>;tag=ft-${callId}`, Event: 'dialog' },
  });
  return {
    request,
    flow: flow(spec.address ?? '192.0.2.10'),
    identity: spec.identity,
    event: 'dialog',
    eventId: null,
    resource: spec.resource,
    domain: 'example.com',
    watcherUser: spec.from ?? '2001',
    watcherDomain: 'example.com',
    inDialog: spec.inDialog ?? false,
    expires: spec.expires ?? 3600,
  };
}

function quota(opts: { perWatcher?: number; ceiling?: number; trusted?: TrustedPeerLookup } = {}) {
  const counters = newLimitCounters();
  let live = 0;
  const q = new SubscriptionQuota({
    perWatcher: opts.perWatcher ?? 500,
    ceiling: opts.ceiling ?? 0,
    live: () => live,
    retryAfterS: 60,
    trusted: opts.trusted ?? (() => []),
    counters,
  });
  /** Authorizes and, when allowed, creates as the notifier would (its feed event). */
  const subscribe = (spec: Spec) => {
    const i = input(spec);
    const verdict = q.authorize(i);
    const id = `${i.request.callId};lt;ft-${i.request.callId}`;
    // A refresh or fetch creates nothing.
    if (verdict.ok && spec.inDialog !== true && spec.expires !== 0) {
      live++;
      q.created({ id, callId: i.request.callId, remoteTag: `ft-${i.request.callId}`, event: 'dialog', eventId: null, resource: spec.resource, domain: 'example.com' });
    }
    return { verdict, id };
  };
  const remove = (id: string) => {
    live--;
    q.removed({ id });
  };
  return { q, counters, subscribe, remove };
}

t.test('the 501st subscription from one watcher gets 403 "Too many subscriptions"; the first 500 stand (security.md §4.2, R3)', async (t) => {
  const { subscribe, counters } = quota();
  let ok = 0;
  for (let i = 0; i < 500; i++) if (subscribe({ resource: String(1000 + i) }).verdict.ok) ok++;
  t.equal(ok, 500);
  const over = subscribe({ resource: '9999' }).verdict;
  t.same(over, { ok: false, response: { status: 403, reason: TOO_MANY_SUBSCRIPTIONS } });
  t.equal(counters['subscriptions-per-watcher'], 1);
  t.ok(subscribe({ resource: '9999', from: '2002' }).verdict.ok, 'another watcher (From) at the same address is counted apart');
  t.ok(subscribe({ resource: '9999', address: '192.0.2.11' }).verdict.ok, 'the same From at another address is another watcher');
});

t.test('refreshes, unsubscribes and fetches are never refused by the cap (RFC 6665 §4.2.1.2)', async (t) => {
  const { subscribe } = quota({ perWatcher: 1 });
  t.ok(subscribe({ resource: '1001' }).verdict.ok);
  t.ok(subscribe({ resource: '1002', inDialog: true }).verdict.ok, 'in dialog');
  t.ok(subscribe({ resource: '1002', expires: 0 }).verdict.ok, 'a fetch');
  t.notOk(subscribe({ resource: '1002' }).verdict.ok, 'a second new target is over');
});

t.test('a new dialog for a target the watcher holds replaces rather than adds: a rebooted phone at its cap is not refused', async (t) => {
  const { subscribe, remove, q } = quota({ perWatcher: 2 });
  const a = subscribe({ resource: '1001' });
  subscribe({ resource: '1002' });
  const again = subscribe({ resource: '1001' });
  t.ok(again.verdict.ok, 'the same resource in a new dialog passes at the cap');
  remove(a.id); // the notifier replaces the old dialog
  t.equal(q.heldBy('source:192.0.2.10|2001@example.com'), 2);
  t.notOk(subscribe({ resource: '1003' }).verdict.ok, 'still two targets held');
});

t.test('a removed subscription frees its place, whatever the reason', async (t) => {
  const { subscribe, remove } = quota({ perWatcher: 2 });
  const a = subscribe({ resource: '1001' });
  subscribe({ resource: '1002' });
  t.notOk(subscribe({ resource: '1003' }).verdict.ok);
  remove(a.id);
  t.ok(subscribe({ resource: '1003' }).verdict.ok);
});

t.test('an authenticated device is counted by its identity, whatever address or From it uses', async (t) => {
  const { subscribe } = quota({ perWatcher: 2 });
  const device: RequestIdentity = { kind: 'device', id: 'dev1', accountId: 'a1' };
  t.ok(subscribe({ resource: '1001', identity: device, address: '192.0.2.20', from: 'x' }).verdict.ok);
  t.ok(subscribe({ resource: '1002', identity: device, address: '192.0.2.21', from: 'y' }).verdict.ok);
  t.notOk(subscribe({ resource: '1003', identity: device, address: '192.0.2.22', from: 'z' }).verdict.ok);
});

t.test('trusted peers skip the cap, by identity or by address (security.md §3.3)', async (t) => {
  const { subscribe } = quota({ perWatcher: 1, trusted: (s) => (s.address === '192.0.2.50' ? [{ id: 'pbx', accountId: 'a1' }] : []) });
  const peer: RequestIdentity = { kind: 'peer', id: 'pbx', accountId: 'a1' };
  for (let i = 0; i < 5; i++) t.ok(subscribe({ resource: String(2000 + i), identity: peer }).verdict.ok);
  for (let i = 0; i < 5; i++) t.ok(subscribe({ resource: String(3000 + i), address: '192.0.2.50' }).verdict.ok);
});

t.test('over the global ceiling a new subscription gets 503 + Retry-After, trusted or not (security.md §4.2)', async (t) => {
  const { subscribe, remove, counters } = quota({ ceiling: 3, trusted: () => [{ id: 'pbx', accountId: 'a1' }] });
  const first = subscribe({ resource: '1' });
  subscribe({ resource: '2' });
  subscribe({ resource: '3' });
  t.same(subscribe({ resource: '4' }).verdict, { ok: false, response: { status: 503, headers: [['Retry-After', '60']] } });
  t.ok(subscribe({ resource: '1', inDialog: true }).verdict.ok, 'a refresh still passes');
  t.equal(counters['subscription-ceiling'], 1);
  remove(first.id);
  t.ok(subscribe({ resource: '4' }).verdict.ok, 'room again');
});
