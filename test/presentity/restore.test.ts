import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import type { MessageSummaryState } from '../../src/events/message-summary/message-summary-model.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { createMemoryStore } from '../../src/store/memory/index.js';
import { tempDataDir } from '../store/helpers/temp-dir.js';
import { dialogPublish, DOMAIN, harness, header } from './helpers/harness.js';
import { withDeferredReads } from '../store/helpers/deferred-reads.js';
import { storedPublicationsOf } from '../store/helpers/stored.js';

const COUNTS = { newMessages: 1, oldMessages: 0, urgentNew: 0, urgentOld: 0 };

t.test('restore after a reopened SQLite store gives the same states and drops expired publications (RFC 3903 §6)', async (t) => {
  const dataDir = tempDataDir(t);
  const clock = new ManualClock();
  const first = harness({ clock, store: openSqliteStore({ dataDir, clock }) });
  const talking = header(first.publish(dialogPublish([{ id: 'long', state: 'confirmed' }], { target: `1001@${DOMAIN}`, expires: 3600 })), 'SIP-ETag')!;
  first.publish(dialogPublish([{ id: 'short', state: 'early' }], { target: `1002@${DOMAIN}`, expires: 60 }));
  first.publish(dialogPublish([{ id: 'ended', state: 'terminated' }], { target: `1005@${DOMAIN}`, expires: 60 }));
  first.service.setManualState(`1003@${DOMAIN}`, 'confirmed');
  first.service.setMailbox(`1004@${DOMAIN}`, COUNTS);
  const before = ['1001', '1003'].map((u) => JSON.stringify(first.service.state(`${u}@${DOMAIN}`, 'dialog')));
  const mwiBefore = JSON.stringify(first.service.state(`1004@${DOMAIN}`, 'message-summary'));
  const lastSeq = Math.max(...first.service.describe(`1001@${DOMAIN}`).publications.map((p) => p.seq));
  first.service.dispose();
  first.store.close();

  // Down for two minutes: the 60 s publications lapse meanwhile.
  clock.advance(120_000);
  const second = harness({ clock, store: openSqliteStore({ dataDir, clock }) });
  await second.service.restore();

  t.same(
    ['1001', '1003'].map((u) => JSON.stringify(second.service.state(`${u}@${DOMAIN}`, 'dialog'))),
    before,
    'the live call and the manual state come back unchanged',
  );
  t.same(second.dialogStates(`1002@${DOMAIN}`), [], 'the expired publication is not restored');
  t.equal((await storedPublicationsOf(second.store.publications, `1002@${DOMAIN}`)).length, 0, 'and is deleted from the store');
  t.equal(await second.store.publications.count(), 1);
  t.equal(JSON.stringify(second.service.state(`1004@${DOMAIN}`, 'message-summary')), mwiBefore);
  t.equal((second.service.state(`1004@${DOMAIN}`, 'message-summary') as MessageSummaryState).waiting, true);
  t.same(second.changes, [], 'restoring announces nothing');

  const stored = await second.store.publications.get({ resource: `1001@${DOMAIN}`, event: 'dialog', etag: talking });
  t.ok(stored, 'the entity-tag survives the restart');
  t.equal(second.publish({ target: `1001@${DOMAIN}`, event: 'dialog', ifMatch: talking }).last.status, 200, 'and can be refreshed');

  second.publish(dialogPublish([{ id: 'ended', state: 'early' }], { target: `1005@${DOMAIN}` }));
  t.same(second.dialogStates(`1005@${DOMAIN}`), [], 'the restored history still keeps a late early from reviving an ended call');
  const newSeq = Math.max(...second.service.describe(`1005@${DOMAIN}`).publications.map((p) => p.seq));
  t.ok(newSeq > lastSeq, 'arrival order continues across the restart');

  second.changes.length = 0;
  clock.advance(3600_000);
  t.same(second.dialogStates(`1001@${DOMAIN}`), [], 're-armed expiry removes the restored publication');
  t.ok(second.changes.some((c) => c.resource === `1001@${DOMAIN}` && c.events.includes('dialog')), 'and announces it');
  second.service.dispose();
  second.store.close();
});

t.test('restore keeps a stored publication whose document was not kept by parsing its body again', async (t) => {
  const clock = new ManualClock();
  const store = createMemoryStore();
  const body = Buffer.from(
    '<?xml version="1.0"?><dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:1001@example.com">' +
      '<dialog id="x"><state>confirmed</state></dialog></dialog-info>',
  );
  store.publications.put({
    resource: `1001@${DOMAIN}`, event: 'dialog', etag: 'e1', seq: 1, contentType: 'application/dialog-info+xml',
    body, document: null, expiresAt: clock.now() + 60_000, updatedAt: clock.now(),
  });
  store.publications.put({
    resource: `1001@${DOMAIN}`, event: 'gone-package', etag: 'e2', seq: 2, contentType: 'text/plain',
    body: Buffer.from('x'), document: null, expiresAt: clock.now() + 60_000, updatedAt: clock.now(),
  });
  const h = harness({ clock, store });
  await h.service.restore();
  t.same(h.dialogStates(`1001@${DOMAIN}`), ['x:confirmed']);
  t.equal(await store.publications.count(), 1, 'a publication of a package no longer served is dropped');
});

t.test('restore waits for a store whose reads answer later, and changes live state only once it has read it all', async (t) => {
  // The presence-state port answers reads asynchronously so that a networked engine (the cluster's Redis) can serve it.
  const clock = new ManualClock();
  const store = withDeferredReads(createMemoryStore());
  const first = harness({ clock, store });
  first.publish(dialogPublish([{ id: 'long', state: 'confirmed' }], { target: `1001@${DOMAIN}`, expires: 3600 }));
  first.service.setManualState(`1003@${DOMAIN}`, 'early');
  first.service.setMailbox(`1004@${DOMAIN}`, COUNTS);
  const manualBefore = first.dialogStates(`1003@${DOMAIN}`);
  first.service.dispose();

  const second = harness({ clock, store });
  second.service.setManualState(`1009@${DOMAIN}`, 'confirmed'); // live, and written, before the restore is asked
  const live = second.dialogStates(`1009@${DOMAIN}`);
  t.equal(live.length, 1);
  const restoring = second.service.restore();
  t.same(second.dialogStates(`1001@${DOMAIN}`), [], 'nothing restored before the store answered');
  t.same(second.dialogStates(`1009@${DOMAIN}`), live, 'and nothing cleared either');
  await restoring;
  t.same(second.dialogStates(`1001@${DOMAIN}`), ['long:confirmed'], 'the publication is back');
  t.same(second.dialogStates(`1003@${DOMAIN}`), manualBefore, 'the manual state is back');
  t.equal((second.service.state(`1004@${DOMAIN}`, 'message-summary') as MessageSummaryState).waiting, true, 'the mailbox is back');
  t.same(second.dialogStates(`1009@${DOMAIN}`), live, 'a write made before the restore is read back with the rest');
});
