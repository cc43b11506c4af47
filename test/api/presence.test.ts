import t from 'tap';
import { subscriptionRecord } from '../store/helpers/records.js';
import { apiHarness, MASTER_REALM, stable, type ApiHarness } from './helpers/api-harness.js';

// The seed document's presence examples (seed/presence-api.txt, JSON typos corrected as api-contract.md says) and
// the contract's presence rules, against fake presentity and notifier services.

const G = 62167219200;

async function withDevice(h: ApiHarness, token: string, data: Record<string, unknown>): Promise<string> {
  const res = await h.request('PUT', `/v2/accounts/${h.masterId}/devices`, { token, body: { data } });
  if (res.status !== 201) throw new Error(res.text);
  return res.json.data.id as string;
}

async function withUser(h: ApiHarness, token: string, data: Record<string, unknown>): Promise<string> {
  const res = await h.request('PUT', `/v2/accounts/${h.masterId}/users`, { token, body: { data } });
  if (res.status !== 201) throw new Error(res.text);
  return res.json.data.id as string;
}

t.test('seed: list subscriptions gives subscriptions.{resource}.{event}.{call_id} with every field', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  h.notifier.subs = [
    subscriptionRecord({
      callId: 'call-ext',
      resource: '*3101',
      domain: MASTER_REALM,
      watcherUser: '1002',
      watcherDomain: MASTER_REALM,
      grantedExpires: 1820,
      lastNotify: null,
      node: 'BLF-kamailio.Voxter.com',
      refreshedAt: (63606201099 - G) * 1000 + 999,
      version: 1,
    }),
    subscriptionRecord({
      callId: 'call-user',
      localTag: 'srv2',
      resource: 'alice',
      domain: MASTER_REALM,
      watcherUser: '1002',
      watcherDomain: MASTER_REALM,
      grantedExpires: 1820,
      lastNotify: null,
      node: 'BLF-kamailio.Voxter.com',
      refreshedAt: (63606201394 - G) * 1000,
      version: 1,
    }),
    subscriptionRecord({ callId: 'elsewhere', localTag: 'srv3', domain: 'other.example' }),
  ];
  // Another account claims other.example, so its subscription is not the master's to list.
  const other = await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'other', realm: 'other.example' } } });
  t.equal(other.status, 201);
  const res = await h.request('GET', `/v2/accounts/${h.masterId}/presence`, { token });
  t.equal(res.status, 200);
  const record = (timestamp: number) => ({
    expires: 1820,
    from: `1002@${MASTER_REALM}`,
    notify: { body: 'undefined', reply: 0, sequence: 0 },
    stalker: 'BLF-kamailio.Voxter.com',
    timestamp,
    version: 1,
  });
  t.strictSame(stable(res.json, { token: true }), {
    auth_token: '<token>',
    data: {
      subscriptions: {
        '*3101': { dialog: { 'call-ext': record(63606201099) } },
        alice: { dialog: { 'call-user': record(63606201394) } },
      },
    },
    status: 'success',
  });
});

t.test('list: notify fields come from the last NOTIFY and its answer; ?event= filters (api-contract.md)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  h.notifier.subs = [
    subscriptionRecord({ callId: 'd1', domain: MASTER_REALM, lastNotify: { cseq: 12, reply: 200, body: '<dialog-info/>' }, version: 5 }),
    subscriptionRecord({ callId: 'p1', localTag: 'x', domain: MASTER_REALM, event: 'presence' }),
  ];
  const all = await h.request('GET', `/v2/accounts/${h.masterId}/presence`, { token });
  t.strictSame(Object.keys(all.json.data.subscriptions['1001']).sort(), ['dialog', 'presence']);
  t.strictSame(all.json.data.subscriptions['1001'].dialog.d1.notify, { body: '<dialog-info/>', reply: 200, sequence: 12 });
  t.equal(all.json.data.subscriptions['1001'].dialog.d1.version, 5);
  const dialog = await h.request('GET', `/v2/accounts/${h.masterId}/presence?event=dialog`, { token });
  t.strictSame(Object.keys(dialog.json.data.subscriptions['1001']), ['dialog']);
  const bad = await h.request('GET', `/v2/accounts/${h.masterId}/presence?event=bogus`, { token });
  t.equal(bad.status, 400);
  t.strictSame(bad.json.data, {
    event: { enum: { message: 'Value must be one of dialog, presence, message-summary', target: 'dialog|presence|message-summary' } },
  });
});

t.test('list: an account with no subscriptions gets an empty object', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const res = await h.request('GET', `/v2/accounts/${h.masterId}/presence`, { token });
  t.strictSame(stable(res.json, { token: true }), { auth_token: '<token>', data: { subscriptions: {} }, status: 'success' });
});

t.test('seed: reset an arbitrary extension (corrected body) resets EXTENSION@realm', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const res = await h.request('POST', `/v2/accounts/${h.masterId}/presence/*3101`, {
    token,
    body: '{"data": {"action": "reset"}}',
  });
  t.equal(res.status, 200);
  t.strictSame(stable(res.json, { token: true }), {
    auth_token: '<token>',
    data: 'reset command sent for extension *3101',
    status: 'success',
  });
  t.strictSame(h.presentity.calls, [{ op: 'reset', resource: `*3101@${MASTER_REALM}` }]);
});

t.test('extension reset needs no body content beyond valid JSON, and lower-cases the resource', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  for (const body of [undefined, '{}', '{"data":{}}']) {
    const res = await h.request('POST', `/v2/accounts/${h.masterId}/presence/Park1`, { token, ...(body === undefined ? {} : { body }) });
    t.equal(res.status, 200, String(body));
    t.equal(res.json.data, 'reset command sent for extension Park1');
  }
  t.strictSame(h.presentity.calls.map((c) => c.resource), Array(3).fill(`park1@${MASTER_REALM}`));
});

t.test('seed: device reset uses the device presence_id, else its SIP user name', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const withId = await withDevice(h, token, { name: 'a', sip: { username: 'Dev1', password: 'x' }, presence_id: '2001@whatever.example' });
  const plain = await withDevice(h, token, { name: 'b', sip: { username: 'Dev2', password: 'x' } });
  for (const id of [withId, plain]) {
    const res = await h.request('POST', `/v2/accounts/${h.masterId}/devices/${id}/presence`, {
      token,
      body: '{"data":{"action":"reset"}}',
    });
    t.equal(res.status, 200);
    t.strictSame(stable(res.json, { token: true }), { auth_token: '<token>', data: 'command sent', status: 'success' });
  }
  t.strictSame(h.presentity.calls, [
    { op: 'reset', resource: `2001@${MASTER_REALM}` },
    { op: 'reset', resource: `dev2@${MASTER_REALM}` },
  ]);
});

t.test('seed: device set stores early, confirmed and terminated', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const id = await withDevice(h, token, { name: 'a', sip: { username: '1001', password: 'x' } });
  for (const state of ['early', 'confirmed', 'terminated']) {
    const res = await h.request('POST', `/v2/accounts/${h.masterId}/devices/${id}/presence`, {
      token,
      body: `{"data":{"action":"set","state":"${state}"}}`,
    });
    t.equal(res.status, 200, state);
    t.strictSame(stable(res.json, { token: true }), { auth_token: '<token>', data: 'command sent', status: 'success' });
  }
  t.strictSame(h.presentity.calls, [
    { op: 'set', resource: `1001@${MASTER_REALM}`, state: 'early' },
    { op: 'set', resource: `1001@${MASTER_REALM}`, state: 'confirmed' },
    { op: 'set', resource: `1001@${MASTER_REALM}`, state: 'terminated' },
  ]);
});

t.test('seed: user reset and (corrected) user set use the presence_id, else every owned device', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const withId = await withUser(h, token, { first_name: 'A', last_name: 'A', presence_id: '3001' });
  const owner = await withUser(h, token, { first_name: 'B', last_name: 'B' });
  await withDevice(h, token, { name: 'one', sip: { username: '1001', password: 'x' }, owner_id: owner });
  await withDevice(h, token, { name: 'two', sip: { username: '1002', password: 'x' }, presence_id: '1001', owner_id: owner });
  await withDevice(h, token, { name: 'three', sip: { username: '1003', password: 'x' }, owner_id: owner });
  const reset = await h.request('POST', `/v2/accounts/${h.masterId}/users/${withId}/presence`, {
    token,
    body: '{"data":{"action":"reset"}}',
  });
  t.strictSame(stable(reset.json, { token: true }), { auth_token: '<token>', data: 'command sent', status: 'success' });
  const set = await h.request('POST', `/v2/accounts/${h.masterId}/users/${owner}/presence`, {
    token,
    body: '{"data":{"action":"set","state":"confirmed"}}',
  });
  t.equal(set.status, 200);
  t.strictSame(stable(set.json, { token: true }), { auth_token: '<token>', data: 'command sent', status: 'success' });
  t.strictSame(h.presentity.calls[0], { op: 'reset', resource: `3001@${MASTER_REALM}` });
  // Devices made in the same millisecond have no order among them.
  t.strictSame(h.presentity.calls.slice(1).sort((a, b) => a.resource.localeCompare(b.resource)), [
    { op: 'set', resource: `1001@${MASTER_REALM}`, state: 'confirmed' },
    { op: 'set', resource: `1003@${MASTER_REALM}`, state: 'confirmed' },
  ], 'each resource once');
});

t.test('a user that resolves to nothing: 200 "nothing to send command to"', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const id = await withUser(h, token, { first_name: 'N', last_name: 'N' });
  const res = await h.request('POST', `/v2/accounts/${h.masterId}/users/${id}/presence`, { token, body: { data: { action: 'reset' } } });
  t.equal(res.status, 200);
  t.strictSame(stable(res.json, { token: true }), { auth_token: '<token>', data: 'nothing to send command to', status: 'success' });
  t.strictSame(h.presentity.calls, []);
});

t.test('bad or missing action: 400 action.invalid (api-contract.md)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const dev = await withDevice(h, token, { name: 'a', sip: { username: '1001', password: 'x' } });
  const user = await withUser(h, token, { first_name: 'A', last_name: 'A', presence_id: '1' });
  const bodies: unknown[] = [{ data: { action: 'Reset' } }, { data: {} }, {}, { data: { action: 7 } }, { data: 'reset' }];
  for (const path of [`devices/${dev}`, `users/${user}`]) {
    for (const body of bodies) {
      const res = await h.request('POST', `/v2/accounts/${h.masterId}/${path}/presence`, { token, body });
      t.equal(res.status, 400, JSON.stringify(body));
      t.strictSame(stable(res.json, { token: true }), {
        auth_token: '<token>',
        data: { action: { invalid: { message: 'Field must be set to a valid action', target: 'invalid' } } },
        error: '400',
        message: 'validation error',
        status: 'error',
      });
    }
  }
  t.strictSame(h.presentity.calls, []);
});

t.test('bad or missing state with set: 400 state.invalid, case-sensitive (api-contract.md)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const dev = await withDevice(h, token, { name: 'a', sip: { username: '1001', password: 'x' } });
  for (const state of [undefined, 'Confirmed', 'busy', 1]) {
    const res = await h.request('POST', `/v2/accounts/${h.masterId}/devices/${dev}/presence`, {
      token,
      body: { data: { action: 'set', ...(state === undefined ? {} : { state }) } },
    });
    t.equal(res.status, 400, String(state));
    t.strictSame(stable(res.json, { token: true }), {
      auth_token: '<token>',
      data: { state: { invalid: { message: 'Field must be set to a valid state', target: 'invalid' } } },
      error: '400',
      message: 'validation error',
      status: 'error',
    });
  }
});

t.test('unknown device or user for presence: 404 bad_identifier', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const id = 'f'.repeat(32);
  for (const kind of ['devices', 'users']) {
    const res = await h.request('POST', `/v2/accounts/${h.masterId}/${kind}/${id}/presence`, { token, body: { data: { action: 'reset' } } });
    t.equal(res.status, 404);
    t.strictSame(res.json.data, { cause: id, message: 'bad identifier' });
  }
});

t.test('a device of another account is unknown in this one (404)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const child = await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'c', realm: 'c.example' } } });
  const dev = await h.request('PUT', `/v2/accounts/${child.json.data.id}/devices`, {
    token,
    body: { data: { name: 'a', sip: { username: '1001', password: 'x' } } },
  });
  const res = await h.request('POST', `/v2/accounts/${h.masterId}/devices/${dev.json.data.id}/presence`, {
    token,
    body: { data: { action: 'reset' } },
  });
  t.equal(res.status, 404);
  const ok = await h.request('POST', `/v2/accounts/${child.json.data.id}/devices/${dev.json.data.id}/presence`, {
    token,
    body: { data: { action: 'reset' } },
  });
  t.equal(ok.status, 200, 'a parent acts on its descendant');
  t.strictSame(h.presentity.calls, [{ op: 'reset', resource: '1001@c.example' }], 'in the descendant\'s realm');
});

t.test('GET presence/{EXTENSION} shows manual state, publications, mailbox and watchers', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const now = h.clock.now();
  h.presentity.descriptions.set(`*3101@${MASTER_REALM}`, {
    resource: `*3101@${MASTER_REALM}`,
    manualState: 'confirmed',
    publications: [
      { event: 'dialog', etag: 'e1', expiresAt: now + 30_500, contentType: 'application/dialog-info+xml', seq: 3, updatedAt: now - 1000 },
    ],
    mailbox: { newMessages: 2, oldMessages: 1, urgentNew: 0, urgentOld: 0 },
  });
  h.notifier.subs = [
    subscriptionRecord({
      callId: 'w1',
      resource: '*3101',
      domain: MASTER_REALM,
      expiresAt: now + 100_000,
      refreshedAt: now,
      grantedExpires: 600,
      node: 'node-a',
      version: 2,
      lastNotify: null,
      watcherUser: '1002',
      watcherDomain: MASTER_REALM,
      contact: 'sip:1002@192.0.2.7:5062',
    }),
  ];
  const res = await h.request('GET', `/v2/accounts/${h.masterId}/presence/*3101`, { token });
  t.equal(res.status, 200);
  t.strictSame(stable(res.json, { token: true }), {
    auth_token: '<token>',
    data: {
      mailbox: { new_messages: 2, old_messages: 1, urgent_new: 0, urgent_old: 0 },
      manual_state: 'confirmed',
      publications: [
        { content_type: 'application/dialog-info+xml', etag: 'e1', event: 'dialog', expires_in: 31, updated: Math.floor((now - 1000) / 1000) + G },
      ],
      resource: `*3101@${MASTER_REALM}`,
      watchers: {
        dialog: {
          w1: {
            expires: 600,
            from: `1002@${MASTER_REALM}`,
            notify: { body: 'undefined', reply: 0, sequence: 0 },
            stalker: 'node-a',
            timestamp: Math.floor(now / 1000) + G,
            version: 2,
            contact: 'sip:1002@192.0.2.7:5062',
            expires_in: 100,
            transport: 'udp',
          },
        },
      },
    },
    status: 'success',
  });
});

t.test('an extension that is no SIP user part is a validation error, not a lookup', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  for (const ext of ['a%40b.example', '%20', 'x'.repeat(65), '%3Cscript%3E']) {
    const res = await h.request('POST', `/v2/accounts/${h.masterId}/presence/${ext}`, { token, body: {} });
    t.equal(res.status, 400, ext);
    t.strictSame(Object.keys(res.json.data), ['extension']);
  }
  t.strictSame(h.presentity.calls, []);
});

t.test('set on an extension stores manual state too (park slots)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const res = await h.request('POST', `/v2/accounts/${h.masterId}/presence/*3101`, {
    token,
    body: { data: { action: 'set', state: 'early' } },
  });
  t.equal(res.json.data, 'command sent');
  t.strictSame(h.presentity.calls, [{ op: 'set', resource: `*3101@${MASTER_REALM}`, state: 'early' }]);
});

// Issue 17 item 3: what an account serves (the account resolver's decision, as for SIP), it lists and commands. The
// master is the default account: it serves its realm and every domain no other account claims.

const CHILD_REALM = 'child.example';

async function withChild(h: ApiHarness, token: string): Promise<string> {
  // The default account is the oldest; on the manual clock a child made in the master's millisecond could sort first.
  h.clock.advance(1000);
  const res = await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'child', realm: CHILD_REALM } } });
  if (res.status !== 201) throw new Error(res.text);
  return res.json.data.id as string;
}

t.test('list: the default account lists every domain it serves; one user part under two domains shares its resource key', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const child = await withChild(h, token);
  h.notifier.subs = [
    subscriptionRecord({ callId: 'at-realm', localTag: 'a', domain: MASTER_REALM }),
    subscriptionRecord({ callId: 'at-loopback', localTag: 'b', domain: '127.0.0.1', watcherDomain: '127.0.0.1' }),
    subscriptionRecord({ callId: 'at-child', localTag: 'c', domain: CHILD_REALM }),
    subscriptionRecord({ callId: 'presence-loopback', localTag: 'd', domain: '127.0.0.1', event: 'presence' }),
  ];
  const master = await h.request('GET', `/v2/accounts/${h.masterId}/presence`, { token });
  t.equal(master.status, 200);
  t.strictSame(Object.keys(master.json.data.subscriptions), ['1001'], 'resource keys stay the user part');
  t.strictSame(Object.keys(master.json.data.subscriptions['1001'].dialog).sort(), ['at-loopback', 'at-realm'],
    'call-ids of both served domains under the one resource; the child\'s domain left out');
  t.equal(master.json.data.subscriptions['1001'].dialog['at-loopback'].from, '1002@127.0.0.1');
  t.strictSame(Object.keys(master.json.data.subscriptions['1001'].presence), ['presence-loopback']);
  const dialogOnly = await h.request('GET', `/v2/accounts/${h.masterId}/presence?event=dialog`, { token });
  t.strictSame(Object.keys(dialogOnly.json.data.subscriptions['1001']), ['dialog'], '?event= still filters');
  const own = await h.request('GET', `/v2/accounts/${child}/presence`, { token });
  t.strictSame(Object.keys(own.json.data.subscriptions['1001'].dialog), ['at-child'], 'an account that is not the default lists its realm only');
});

t.test('reset on the default account reaches the extension in every served domain where it is watched or has state', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const child = await withChild(h, token);
  h.notifier.subs = [
    subscriptionRecord({ callId: 'w-loop', localTag: 'a', resource: '1001', domain: '127.0.0.1' }),
    subscriptionRecord({ callId: 'w-child', localTag: 'b', resource: '1001', domain: CHILD_REALM }),
    subscriptionRecord({ callId: 'w-other-user', localTag: 'c', resource: '1002', domain: '10.0.0.9' }),
    subscriptionRecord({ callId: 'w-park', localTag: 'd', resource: 'park1', domain: '127.0.0.1' }),
  ];
  h.presentity.descriptions.set('1001@10.0.0.5', { resource: '1001@10.0.0.5', manualState: 'confirmed', publications: [], mailbox: null });
  const reset = await h.request('POST', `/v2/accounts/${h.masterId}/presence/1001`, { token, body: { data: { action: 'reset' } } });
  t.equal(reset.json.data, 'reset command sent for extension 1001');
  t.strictSame(h.presentity.calls.map((c) => c.resource).sort(), ['1001@10.0.0.5', '1001@127.0.0.1', `1001@${MASTER_REALM}`],
    'the realm, the watched loopback address and the domain with state; not the child\'s domain nor another user');
  h.presentity.calls.length = 0;
  await h.request('POST', `/v2/accounts/${h.masterId}/presence/Park1`, { token, body: {} });
  t.strictSame(h.presentity.calls.map((c) => c.resource).sort(), ['park1@127.0.0.1', `park1@${MASTER_REALM}`], 'the extension matched lower-cased');
  h.presentity.calls.length = 0;
  await h.request('POST', `/v2/accounts/${child}/presence/1001`, { token, body: { data: { action: 'reset' } } });
  t.strictSame(h.presentity.calls, [{ op: 'reset', resource: `1001@${CHILD_REALM}` }], 'the child resets its own domain only');
});

t.test('set and reset via device and user act on every served domain of each resource', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  await withChild(h, token);
  h.notifier.subs = [
    subscriptionRecord({ callId: 'w1', localTag: 'a', resource: '2001', domain: '127.0.0.1' }),
    subscriptionRecord({ callId: 'w2', localTag: 'b', resource: '2001', domain: CHILD_REALM }),
  ];
  const owner = await withUser(h, token, { first_name: 'O', last_name: 'W' });
  const dev = await withDevice(h, token, { name: 'd', sip: { username: 'Desk', password: 'x' }, presence_id: '2001', owner_id: owner });
  const set = await h.request('POST', `/v2/accounts/${h.masterId}/devices/${dev}/presence`, { token, body: { data: { action: 'set', state: 'early' } } });
  t.equal(set.json.data, 'command sent');
  const byResource = (a: { resource: string }, b: { resource: string }) => a.resource.localeCompare(b.resource);
  t.strictSame([...h.presentity.calls].sort(byResource), [
    { op: 'set', resource: '2001@127.0.0.1', state: 'early' },
    { op: 'set', resource: `2001@${MASTER_REALM}`, state: 'early' },
  ]);
  h.presentity.calls.length = 0;
  await h.request('POST', `/v2/accounts/${h.masterId}/users/${owner}/presence`, { token, body: { data: { action: 'reset' } } });
  t.strictSame([...h.presentity.calls].sort(byResource), [
    { op: 'reset', resource: '2001@127.0.0.1' },
    { op: 'reset', resource: `2001@${MASTER_REALM}` },
  ], 'the user resolves to its device\'s presence id');
});

t.test('with PISTON_DEFAULT_ACCOUNT_FOR_UNKNOWN_DOMAINS=false the account lists and resets its realm only', async (t) => {
  const h = await apiHarness(t, {}, { defaultAccountForUnknownDomains: false });
  const token = await h.masterToken();
  h.notifier.subs = [
    subscriptionRecord({ callId: 'at-realm', localTag: 'a', domain: MASTER_REALM }),
    subscriptionRecord({ callId: 'at-loopback', localTag: 'b', domain: '127.0.0.1' }),
  ];
  const list = await h.request('GET', `/v2/accounts/${h.masterId}/presence`, { token });
  t.strictSame(Object.keys(list.json.data.subscriptions['1001'].dialog), ['at-realm']);
  await h.request('POST', `/v2/accounts/${h.masterId}/presence/1001`, { token, body: {} });
  t.strictSame(h.presentity.calls, [{ op: 'reset', resource: `1001@${MASTER_REALM}` }]);
});
