import t, { type Test } from 'tap';
import type { PresenceEvent } from '../../src/feed/presence-feed.js';
import type { SipResponse } from '../../src/sip/message/message.js';
import type { TransportName } from '../../src/sip/transport/transport-descriptor.js';
import {
  OPEN_POLICY,
  type AuthenticationInput,
  type PresencePolicy,
  type PublishAuthorizationInput,
  type RequestSource,
  type SubscribeAuthorizationInput,
} from '../../src/stack/index.js';
import { publishText, type PublishSpec } from '../support/sip-builders.js';
import { dialogPublish } from '../presentity/helpers/harness.js';
import { CORRUPT, FaultyStore } from '../store/helpers/faulty-store.js';
import { DOMAIN, NotifierHarness, PHONE_ADDRESS, subscribeBytes } from '../subscriptions/helpers/notifier-harness.js';

/**
 * The stack's policy port (src/stack/presence-policy.ts), driven through the whole stack over the loop network: a
 * refusal answers with the policy's status and headers and leaves no trace (no NOTIFY, no store write, no feed event),
 * and `admit: false` drops a request before a transaction exists. RFC 3261 §22 (401 challenges), §8.2 (UAS checks).
 */

const RESOURCE = `1001@${DOMAIN}`;
const CHALLENGE: [string, string] = ['WWW-Authenticate', 'Digest realm="example.com", nonce="abc", qop="auth", algorithm=MD5'];

function setup(t: Test, policy: PresencePolicy, protocol: TransportName = 'udp', store?: FaultyStore): { h: NotifierHarness; events: PresenceEvent[] } {
  const h = new NotifierHarness({ policy, protocol, ...(store ? { store } : {}) });
  t.teardown(() => h.dispose());
  const events: PresenceEvent[] = [];
  h.feed.subscribe((e) => void events.push(e));
  return { h, events };
}

/** Sends a PUBLISH from the phone through the stack (UA core, presentity) and returns its final answer. */
async function publish(h: NotifierHarness, spec: PublishSpec): Promise<SipResponse> {
  const before = h.responses.length;
  await h.phone.send(Buffer.from(publishText(spec)), h.phone.flowTo(h.server, 'udp'));
  await h.tick();
  const res = h.responses.slice(before).find((r) => r.cseq.method === 'PUBLISH' && r.status >= 200);
  if (!res) throw new Error('no final response to PUBLISH');
  return res;
}

const header = (res: SipResponse, name: string): string | undefined => res.headers.get(name);

for (const protocol of ['udp', 'tcp'] as const) {
  t.test(`admit false drops a request over ${protocol} before any transaction: no answer, no subscription, no NOTIFY`, async (t) => {
    const asked: RequestSource[] = [];
    let open = false;
    const { h, events } = setup(
      t,
      {
        admit: (source) => {
          asked.push(source);
          return open;
        },
      },
      protocol,
    );
    const flow = h.phone.flowTo(h.server, protocol);
    await h.phone.send(subscribeBytes({}, protocol), flow);
    await h.tick(1_000);
    t.equal(h.responses.length, 0, 'no response of any kind');
    t.equal(h.layer.serverTransactionCount, 0, 'no server transaction was made');
    t.equal(h.notifies.length, 0);
    t.equal(h.notifier.count(), 0);
    t.equal(await h.store.subscriptions.count(), 0, 'nothing stored');
    t.same(events, []);
    t.same(
      asked.map((s) => [s.request.method, s.transport.name, s.flow.remoteAddress]),
      [['SUBSCRIBE', protocol, PHONE_ADDRESS]],
      'the gate saw the request, its transport and its source',
    );
    open = true;
    const ok = await h.subscribe();
    t.equal(ok.response.status, 200, 'an admitted request goes through as before');
    t.equal(h.notifies.length, 1);
  });
}

t.test('a SUBSCRIBE that authentication refuses gets the policy\'s 401 and challenge, and nothing else happens (RFC 3261 §22.1)', async (t) => {
  const asked: AuthenticationInput[] = [];
  const { h, events } = setup(t, {
    authenticate: (input) => {
      asked.push(input);
      return { ok: false, response: { status: 401, headers: [CHALLENGE] } };
    },
  });
  const res = await h.send({});
  t.equal(res.status, 401);
  t.equal(header(res, 'www-authenticate'), CHALLENGE[1], 'the challenge exactly as the policy wrote it');
  t.equal(header(res, 'warning'), undefined, 'no reason of ours is given away');
  await h.tick(1_000);
  t.equal(h.notifies.length, 0, 'no NOTIFY');
  t.equal(h.notifier.count(), 0, 'no subscription');
  t.equal(await h.store.subscriptions.count(), 0, 'nothing stored');
  t.same(events, [], 'nothing on the feed');
  t.same(
    asked.map((a) => [a.request.method, a.accountId, a.domain, a.inDialog, a.flow.remoteAddress]),
    [['SUBSCRIBE', 'a'.repeat(32), DOMAIN, false, PHONE_ADDRESS]],
    'asked with the account that serves the domain (its realm is the one to challenge with)',
  );
});

t.test('a SUBSCRIBE that authorization refuses gets the policy\'s status and reason, and no subscription, NOTIFY or store write', async (t) => {
  const asked: SubscribeAuthorizationInput[] = [];
  const { h, events } = setup(t, {
    authenticate: () => ({ ok: true, identity: { kind: 'device', id: 'dev1', accountId: 'a'.repeat(32) } }),
    authorizeSubscribe: (input) => {
      asked.push(input);
      return { ok: false, response: { status: 403, reason: 'Too many subscriptions' } };
    },
  });
  const res = await h.send({ user: '1001', fromUser: '2001', event: 'presence', expires: 600 });
  t.equal(res.status, 403);
  t.equal(res.reason, 'Too many subscriptions');
  await h.tick(1_000);
  t.equal(h.notifies.length, 0);
  t.equal(h.notifier.count(), 0);
  t.equal(await h.store.subscriptions.count(), 0);
  t.same(events, []);
  t.equal(asked.length, 1);
  const a = asked[0]!;
  t.same(
    { identity: a.identity?.id, event: a.event, resource: a.resource, domain: a.domain, watcher: `${a.watcherUser}@${a.watcherDomain}`, inDialog: a.inDialog, expires: a.expires },
    { identity: 'dev1', event: 'presence', resource: '1001', domain: DOMAIN, watcher: `2001@${DOMAIN}`, inDialog: false, expires: 600 },
    'asked with everything the checks learnt, and the identity authentication gave',
  );
});

t.test('a refresh that authorization refuses leaves the subscription as it was: no NOTIFY, the old expiry (RFC 6665 §4.2.1.2)', async (t) => {
  let refuse = false;
  const seen: boolean[] = [];
  const { h } = setup(t, {
    authorizeSubscribe: (input) => {
      seen.push(input.inDialog);
      return refuse ? { ok: false, response: { status: 403 } } : { ok: true };
    },
  });
  const d = await h.subscribe({ expires: 600 });
  const before = { ...h.record()! };
  await h.tick(10_000);
  refuse = true;
  const res = await h.resubscribe(d, { expires: 3600 });
  t.equal(res.status, 403);
  t.equal(h.notifies.length, 1, 'only the first NOTIFY');
  const after = h.record()!;
  t.equal(after.expiresAt, before.expiresAt, 'the expiry did not move');
  t.equal(after.remoteCseq, before.remoteCseq, 'the refused CSeq was not taken');
  t.same(seen, [false, true], 'the refresh was asked about as in-dialog');
  t.equal((await h.store.subscriptions.get(after.id))?.expiresAt, before.expiresAt, 'the stored record did not change');
});

t.test('a SUBSCRIBE the pipeline rejects itself (489) is never put to the policy', async (t) => {
  const asked: string[] = [];
  const { h } = setup(t, {
    authenticate: () => {
      asked.push('authenticate');
      return { ok: true };
    },
    authorizeSubscribe: () => {
      asked.push('authorize');
      return { ok: true };
    },
  });
  t.equal((await h.send({ event: 'conference' })).status, 489);
  t.same(asked, []);
  t.equal((await h.send({})).status, 200);
  t.same(asked, ['authenticate', 'authorize'], 'authentication first, then authorization');
});

t.test('a PUBLISH that authentication refuses gets the 401 and challenge, and no publication, store write or NOTIFY (RFC 3903 §6)', async (t) => {
  const { h, events } = setup(t, {
    authenticate: (input) =>
      input.request.method === 'PUBLISH' ? { ok: false, response: { status: 401, headers: [CHALLENGE] } } : { ok: true },
  });
  await h.subscribe();
  events.length = 0;
  const res = await publish(h, dialogPublish([{ id: 'd1', state: 'confirmed' }]));
  t.equal(res.status, 401);
  t.equal(header(res, 'www-authenticate'), CHALLENGE[1]);
  t.equal(header(res, 'warning'), undefined, 'no Warning: an unknown user and a wrong password must read alike');
  t.equal(header(res, 'sip-etag'), undefined);
  await h.tick(1_000);
  t.same(h.presentity.describe(RESOURCE).publications, [], 'nothing published');
  t.same(await h.store.publications.loadAll(), [], 'nothing stored');
  t.equal(h.notifies.length, 1, 'the watcher got no NOTIFY beyond its first');
  t.same(events, [], 'no change announced');
});

t.test('a PUBLISH that authorization refuses gets the policy\'s 403, and no publication, store write or NOTIFY', async (t) => {
  const asked: PublishAuthorizationInput[] = [];
  const { h, events } = setup(t, {
    authenticate: () => ({ ok: true, identity: { kind: 'peer', id: 'pbx', accountId: 'a'.repeat(32) } }),
    authorizePublish: (input) => {
      asked.push(input);
      return { ok: false, response: { status: 403, reason: 'Forbidden' } };
    },
  });
  await h.subscribe();
  events.length = 0;
  const res = await publish(h, dialogPublish([{ id: 'd1', state: 'confirmed' }]));
  t.equal(res.status, 403);
  await h.tick(1_000);
  t.same(h.presentity.describe(RESOURCE).publications, []);
  t.same(await h.store.publications.loadAll(), []);
  t.equal(h.notifies.length, 1);
  t.same(events, []);
  t.same(
    asked.map((a) => [a.identity?.id, a.accountId, a.resource, a.event, a.action]),
    [['pbx', 'a'.repeat(32), RESOURCE, 'dialog', 'create']],
  );
});

t.test('a refused SUBSCRIBE or PUBLISH gets the policy\'s answer, not the 503 of a store that cannot write: it learns nothing of the store', async (t) => {
  const store = new FaultyStore();
  const { h } = setup(t, { authorizeSubscribe: () => ({ ok: false, response: { status: 403 } }), authorizePublish: () => ({ ok: false, response: { status: 403 } }) }, 'udp', store);
  store.health = CORRUPT;
  t.equal((await h.send({})).status, 403);
  t.equal((await publish(h, dialogPublish([{ id: 'd1', state: 'confirmed' }]))).status, 403);
});

t.test('the open policy, as no policy, admits and allows everything as before: 200 and the NOTIFYs', async (t) => {
  const { h } = setup(t, OPEN_POLICY);
  await h.subscribe();
  const res = await publish(h, dialogPublish([{ id: 'd1', state: 'confirmed' }]));
  t.equal(res.status, 200);
  t.equal(h.notifies.length, 2, 'the first NOTIFY and the one for the publication');
  t.equal(h.presentity.describe(RESOURCE).publications.length, 1);
});
