import t from 'tap';
import type { DialogResourceState } from '../../src/events/dialog/index.js';
import type { MessageSummaryState } from '../../src/events/message-summary/message-summary-model.js';
import type { PresenceResourceState } from '../../src/events/presence/presence-model.js';
import type { ResourceChange } from '../../src/presentity/index.js';
import { buildPublish, FakeIncoming } from '../support/sip-builders.js';
import { dialogPublish, DOMAIN, harness, header } from './helpers/harness.js';
import { storedPublicationsOf } from '../store/helpers/stored.js';

const R = `1001@${DOMAIN}`;
const COUNTS = { newMessages: 2, oldMessages: 5, urgentNew: 1, urgentOld: 0 };

t.test('a change is announced with every package whose state it changed (RFC 6665 §4.2.2)', async (t) => {
  const h = harness();
  h.publish(dialogPublish([{ id: 'd1', state: 'confirmed' }]));
  t.same(h.changes, [{ resource: R, events: ['dialog', 'presence'], force: false }], 'dialog, and presence which reads the calls');
  t.match(h.service.state(R, 'presence') as PresenceResourceState, { activities: ['on-the-phone'] });
});

t.test('a PUBLISH that changes nothing watchers see is not announced (RFC 6665 §4.2.2)', async (t) => {
  const h = harness();
  h.publish(dialogPublish([{ id: 'd1', state: 'early' }]));
  h.publish(dialogPublish([{ id: 'd1', state: 'early' }]));
  t.equal(h.changes.length, 1, 'the same dialog again under a second entity-tag');
  h.publish(dialogPublish([{ id: 'd1', state: 'proceeding' }]));
  t.same(h.changes.at(-1)!.events, ['dialog'], 'presence shows "busy" both for early and proceeding, so only dialog changed');
});

t.test('publication expiry removes it and announces the change; the resource goes idle (RFC 3903 §6)', async (t) => {
  const h = harness();
  const etag = header(h.publish(dialogPublish([{ id: 'd1', state: 'confirmed' }], { expires: 60 })), 'SIP-ETag')!;
  h.clock.advance(59_999);
  t.equal(h.changes.length, 1, 'not before its time');
  h.clock.advance(1);
  t.equal(h.changes.length, 2);
  t.same(h.changes[1], { resource: R, events: ['dialog', 'presence'], force: false });
  t.same((h.service.state(R, 'dialog') as DialogResourceState).dialogs, []);
  t.same((h.service.state(R, 'presence') as PresenceResourceState).activities, []);
  t.equal(await h.store.publications.get({ resource: R, event: 'dialog', etag }), undefined, 'deleted from the store');
  t.same(h.service.stats(), { resources: 0, publications: 0, cachedStates: 0 }, 'nothing is kept for an idle resource');
  t.equal(h.clock.pending, 0, 'no timer left');
});

t.test('expiry timers are shared: many publications arm one clock timer (one deadline queue)', async (t) => {
  const h = harness();
  for (let i = 0; i < 50; i++) h.publish(dialogPublish([{ id: `d${i}`, state: 'early' }], { target: `${2000 + i}@${DOMAIN}`, expires: 60 + i }));
  t.equal(h.clock.pending, 1);
  h.clock.advance(3600_000);
  t.equal(h.service.stats().publications, 0);
  t.equal(h.changes.length, 100, 'each publication announced once when made and once when it expired');
});

t.test('listeners see the new state, and the 200 is sent before they are told (RFC 3903 §6)', async (t) => {
  const h = harness();
  const seen: string[] = [];
  const incoming = new FakeIncoming(buildPublish(dialogPublish([{ id: 'd1', state: 'early' }])));
  h.service.onChange((c) => {
    seen.push(`responses=${incoming.responses.length}`);
    seen.push((h.service.state(c.resource, 'dialog') as DialogResourceState).dialogs.map((d) => d.state).join());
  });
  h.service.handlePublish(incoming);
  t.same(seen, ['responses=1', 'early']);
});

t.test('a failing listener does not keep the others from hearing of a change', async (t) => {
  const h = harness();
  const heard: ResourceChange[] = [];
  h.service.onChange(() => {
    throw new Error('boom');
  });
  h.service.onChange((c) => heard.push(c));
  const res = h.publish(dialogPublish([{ id: 'd1', state: 'early' }]));
  t.equal(res.last.status, 200);
  t.equal(heard.length, 1);
});

t.test('manual state is stored, announced to dialog and presence watchers, and shown as a dialog (api-contract.md)', async (t) => {
  const h = harness();
  h.service.setManualState(R, 'early');
  t.same(h.changes, [{ resource: R, events: ['dialog', 'presence'], force: false }]);
  const dialogs = (h.service.state(R, 'dialog') as DialogResourceState).dialogs;
  t.equal(dialogs.length, 1);
  t.equal(dialogs[0]!.state, 'early');
  t.equal((await h.store.resources.get(R))?.manualState, 'early');
  t.equal(h.service.describe(R).manualState, 'early');
  t.equal(h.service.manualStateOf(R), 'early', 'manualStateOf says what describe says, without its publication list');
  t.equal(h.service.manualStateOf(`nobody@${DOMAIN}`), null, 'a resource never seen has none');

  h.service.setManualState(R, 'early');
  t.equal(h.changes.length, 1, 'setting the same state again is a no-op for watchers');

  h.service.setManualState(R, 'confirmed');
  t.equal(h.changes.length, 2);
  t.match(h.service.state(R, 'presence') as PresenceResourceState, { activities: ['on-the-phone'] });
  t.throws(() => h.service.setManualState(R, 'ringing' as never), { code: 'bad_manual_state' });
});

t.test('reset clears publications, manual state and history but keeps mailbox counts; every package is told with force', async (t) => {
  const h = harness();
  h.publish(dialogPublish([{ id: 'd1', state: 'terminated' }]));
  h.publish(dialogPublish([{ id: 'd2', state: 'confirmed' }]));
  h.service.setManualState(R, 'early');
  h.service.setMailbox(R, COUNTS);
  h.changes.length = 0;

  h.service.reset(R);
  t.same(h.changes, [{ resource: R, events: ['dialog', 'presence', 'message-summary'], force: true }]);
  t.same((h.service.state(R, 'dialog') as DialogResourceState).dialogs, []);
  t.equal((await storedPublicationsOf(h.store.publications, R)).length, 0);
  t.equal(await h.store.resources.get(R), undefined, 'manual state and history are gone from the store');
  t.equal((h.service.state(R, 'message-summary') as MessageSummaryState).waiting, true, 'the mailbox stays');
  t.equal(h.service.stats().publications, 0, 'no expiry is waiting');
  h.clock.advance(3600_000);
  t.equal(h.changes.length, 1, 'the removed publications do not expire later');

  h.publish(dialogPublish([{ id: 'd1', state: 'early' }]));
  t.same(
    (h.service.state(R, 'dialog') as DialogResourceState).dialogs.map((d) => d.state),
    ['early'],
    'the ended-dialog history went with the reset',
  );

  h.changes.length = 0;
  h.service.reset(`idle@${DOMAIN}`);
  t.same(h.changes, [{ resource: `idle@${DOMAIN}`, events: ['dialog', 'presence', 'message-summary'], force: true }], 'a reset is always announced');
});

t.test('mailbox counts feed message-summary watchers; null clears them (RFC 3842 §5.2)', async (t) => {
  const h = harness();
  h.service.setMailbox(R, COUNTS);
  t.same(h.changes, [{ resource: R, events: ['message-summary'], force: false }]);
  t.match(h.service.state(R, 'message-summary') as MessageSummaryState, { waiting: true, summaries: [{ newMessages: 2, oldMessages: 5, urgentNew: 1 }] });
  t.match(await h.store.mailboxes.get(R), { mailbox: R, ...COUNTS });
  t.same(h.service.describe(R).mailbox, COUNTS);

  h.service.setMailbox(R, { ...COUNTS });
  t.equal(h.changes.length, 1, 'the same counts again change nothing');

  h.service.setMailbox(R, null);
  t.equal(h.changes.length, 2);
  t.equal((h.service.state(R, 'message-summary') as MessageSummaryState).waiting, false);
  t.equal(await h.store.mailboxes.get(R), undefined);
  t.throws(() => h.service.setMailbox(R, { ...COUNTS, newMessages: -1 }), { code: 'bad_mailbox_counts' });
});

t.test('aggregated states are cached only for resources that hold state', async (t) => {
  const h = harness();
  h.service.state(`watched@${DOMAIN}`, 'dialog');
  h.service.state(`watched@${DOMAIN}`, 'presence');
  t.equal(h.service.stats().cachedStates, 0, 'an idle resource is aggregated on demand, not cached');
  h.publish(dialogPublish([{ id: 'd1', state: 'early' }]));
  const first = h.service.state(R, 'dialog');
  t.equal(h.service.state(R, 'dialog'), first, 'the same object until the next change');
  h.publish(dialogPublish([{ id: 'd1', state: 'confirmed' }]));
  t.not(h.service.state(R, 'dialog'), first, 'a change invalidates it');
  t.ok(h.service.stats().cachedStates > 0);
});

t.test('describe lists live publications in arrival order for support staff', async (t) => {
  const h = harness();
  const a = header(h.publish(dialogPublish([{ id: 'd1', state: 'early' }], { expires: 120 })), 'SIP-ETag')!;
  const b = header(h.publish(dialogPublish([{ id: 'd2', state: 'early' }], { expires: 300 })), 'SIP-ETag')!;
  const d = h.service.describe(R);
  t.equal(d.resource, R);
  t.same(
    d.publications.map((p) => [p.event, p.etag, p.contentType, p.expiresAt - h.clock.now()]),
    [
      ['dialog', a, 'application/dialog-info+xml', 120_000],
      ['dialog', b, 'application/dialog-info+xml', 300_000],
    ],
  );
  t.ok(d.publications[0]!.seq < d.publications[1]!.seq);
  t.same(h.service.describe(`nobody@${DOMAIN}`), { resource: `nobody@${DOMAIN}`, manualState: null, publications: [], mailbox: null });
});

t.test('dispose cancels the expiry timer', async (t) => {
  const h = harness();
  h.publish(dialogPublish([{ id: 'd1', state: 'early' }]));
  t.equal(h.clock.pending, 1);
  h.service.dispose();
  t.equal(h.clock.pending, 0);
});

t.test('domainsOf names the domains where a user part holds published, manual or mailbox state (admin commands)', async (t) => {
  const h = harness();
  h.publish(dialogPublish([{ id: 'd1', state: 'confirmed' }]));
  h.service.setManualState('1001@127.0.0.1', 'early');
  h.service.setMailbox('1001@10.0.0.5', COUNTS);
  h.service.setManualState(`1002@${DOMAIN}`, 'early');
  t.same(h.service.domainsOf('1001').sort(), ['10.0.0.5', '127.0.0.1', DOMAIN].sort());
  h.service.reset('1001@127.0.0.1');
  t.notOk(h.service.domainsOf('1001').includes('127.0.0.1'), 'a reset resource holds nothing any more');
  t.same(h.service.domainsOf('9999'), []);
});
