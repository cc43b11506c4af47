import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { DIALOG_TYPE, dialogInfo, dialogPublish, DOMAIN, harness, header, PIDF_TYPE, pidf } from './helpers/harness.js';
import { storedPublicationsOf } from '../store/helpers/stored.js';

const RINGING = [{ id: 'd1', state: 'early' }];
const TALKING = [{ id: 'd1', state: 'confirmed' }];

t.test('an initial PUBLISH gets 200 with a SIP-ETag and the granted Expires (RFC 3903 §6)', async (t) => {
  const h = harness();
  const res = h.publish(dialogPublish(RINGING, { expires: 600 }));
  t.equal(res.last.status, 200);
  const etag = header(res, 'SIP-ETag');
  t.match(etag, /^[0-9a-f]{16}$/);
  t.equal(header(res, 'Expires'), '600');
  t.same(h.dialogStates(`1001@${DOMAIN}`), ['d1:early']);
  const stored = await h.store.publications.get({ resource: `1001@${DOMAIN}`, event: 'dialog', etag: etag! });
  t.ok(stored, 'the publication is in the store under its entity-tag');
  t.equal(stored!.body.toString('utf8'), dialogInfo(RINGING), 'the body is kept byte-exact');
  t.equal(stored!.expiresAt, h.clock.now() + 600_000);
});

t.test('without Expires the package default applies (RFC 3903 §6 step 4)', async (t) => {
  const h = harness();
  const res = h.publish(dialogPublish(RINGING));
  t.equal(res.last.status, 200);
  t.equal(header(res, 'Expires'), '3600');
});

t.test('an Expires above the maximum is lowered, and the 200 says so (RFC 3903 §6 step 4)', async (t) => {
  const h = harness();
  const res = h.publish(dialogPublish(RINGING, { expires: 86400 }));
  t.equal(res.last.status, 200);
  t.equal(header(res, 'Expires'), '3600');
});

t.test('an Expires between 1 and the minimum is 423 with Min-Expires (RFC 3903 §6 step 4)', async (t) => {
  const h = harness();
  const res = h.publish(dialogPublish(RINGING, { expires: 30 }));
  t.equal(res.last.status, 423);
  t.equal(header(res, 'Min-Expires'), '60');
  t.equal(await h.store.publications.count(), 0);
  t.same(h.changes, []);
});

t.test('the minimum PUBLISH lifetime can be lowered for publishers such as Kamailio (RFC 3903 §6 step 4)', async (t) => {
  const h = harness({ minPublishExpires: 5 });
  t.equal(h.publish(dialogPublish(RINGING, { expires: 11 })).last.status, 200);
  t.equal(h.publish(dialogPublish(RINGING, { expires: 4 })).last.status, 423);
});

t.test('a refresh (SIP-If-Match, no body) gets a new entity-tag and the old one stops working (RFC 3903 §4.3, §6)', async (t) => {
  const h = harness();
  const first = header(h.publish(dialogPublish(RINGING, { expires: 120 })), 'SIP-ETag')!;
  h.clock.advance(100_000);
  const refresh = h.publish({ target: `1001@${DOMAIN}`, event: 'dialog', ifMatch: first, expires: 120 });
  t.equal(refresh.last.status, 200);
  const second = header(refresh, 'SIP-ETag')!;
  t.not(second, first);
  t.equal(header(refresh, 'Expires'), '120');
  t.same(h.dialogStates(`1001@${DOMAIN}`), ['d1:early'], 'the document is kept');
  t.equal(h.changes.length, 1, 'a refresh changes nothing watchers see');

  h.clock.advance(100_000);
  t.same(h.dialogStates(`1001@${DOMAIN}`), ['d1:early'], 'the refresh moved the expiry');
  const stale = h.publish({ target: `1001@${DOMAIN}`, event: 'dialog', ifMatch: first, expires: 120 });
  t.equal(stale.last.status, 412, 'the replaced entity-tag no longer matches');
  t.equal(await h.store.publications.count(), 1);
  t.ok(await h.store.publications.get({ resource: `1001@${DOMAIN}`, event: 'dialog', etag: second }));
});

t.test('a modification (SIP-If-Match with a body) replaces the document under a new entity-tag (RFC 3903 §4.4)', async (t) => {
  const h = harness();
  const first = header(h.publish(dialogPublish(RINGING)), 'SIP-ETag')!;
  const modify = h.publish(dialogPublish(TALKING, { ifMatch: first }));
  t.equal(modify.last.status, 200);
  const second = header(modify, 'SIP-ETag')!;
  t.not(second, first);
  t.same(h.dialogStates(`1001@${DOMAIN}`), ['d1:confirmed']);
  const pubs = await storedPublicationsOf(h.store.publications, `1001@${DOMAIN}`);
  t.equal(pubs.length, 1, 'one publication, not two');
  t.equal(pubs[0]!.etag, second);
  t.equal(pubs[0]!.body.toString('utf8'), dialogInfo(TALKING));
  t.equal(h.publish(dialogPublish(TALKING, { ifMatch: first })).last.status, 412);
});

t.test('Expires 0 with SIP-If-Match removes the publication (RFC 3903 §4.5)', async (t) => {
  const h = harness();
  const etag = header(h.publish(dialogPublish(RINGING)), 'SIP-ETag')!;
  const res = h.publish({ target: `1001@${DOMAIN}`, event: 'dialog', ifMatch: etag, expires: 0 });
  t.equal(res.last.status, 200);
  t.equal(header(res, 'Expires'), '0');
  t.same(h.dialogStates(`1001@${DOMAIN}`), []);
  t.equal(await h.store.publications.count(), 0);
  t.same(h.changes.at(-1), { resource: `1001@${DOMAIN}`, events: ['dialog', 'presence'], force: false });
  t.equal(h.publish({ target: `1001@${DOMAIN}`, event: 'dialog', ifMatch: etag, expires: 0 }).last.status, 412, 'it is gone');
});

t.test('Expires 0 without SIP-If-Match is 400: there is nothing to remove (RFC 3903 §4.5)', async (t) => {
  const h = harness();
  const res = h.publish(dialogPublish(RINGING, { expires: 0 }));
  t.equal(res.last.status, 400);
  t.equal(await h.store.publications.count(), 0);
});

t.test('an unknown entity-tag is 412 Conditional Request Failed (RFC 3903 §6 step 3)', async (t) => {
  const h = harness();
  const res = h.publish(dialogPublish(TALKING, { ifMatch: 'etag-f8rvupja' }));
  t.equal(res.last.status, 412);
  t.same(h.changes, []);
});

t.test('an entity-tag is scoped to its resource and event package (RFC 3903 §6 step 3)', async (t) => {
  const h = harness();
  const etag = header(h.publish(dialogPublish(RINGING)), 'SIP-ETag')!;
  t.equal(h.publish(dialogPublish(TALKING, { target: `1002@${DOMAIN}`, ifMatch: etag })).last.status, 412, 'other resource');
  t.equal(h.publish({ target: `1001@${DOMAIN}`, event: 'presence', ifMatch: etag }).last.status, 412, 'other package');
});

t.test('more than one SIP-If-Match is 400 (RFC 3903 §6 step 3)', async (t) => {
  const h = harness();
  const a = header(h.publish(dialogPublish(RINGING)), 'SIP-ETag')!;
  const res = h.publish({ target: `1001@${DOMAIN}`, event: 'dialog', ifMatch: [a, a] });
  t.equal(res.last.status, 400);
  const listed = h.publish({ target: `1001@${DOMAIN}`, event: 'dialog', headers: { 'SIP-If-Match': `${a}, ${a}` } });
  t.equal(listed.last.status, 400, 'two entity-tags on one line');
});

t.test('an initial PUBLISH without a body is 400 (RFC 3903 §4.2)', async (t) => {
  const h = harness();
  const res = h.publish({ target: `1001@${DOMAIN}`, event: 'dialog' });
  t.equal(res.last.status, 400);
  t.match(header(res, 'Warning'), /needs a body/);
});

t.test('an unknown event package is 489 with Allow-Events (RFC 3903 §6 step 2, RFC 6665 §8.2.2)', async (t) => {
  const h = harness();
  const res = h.publish({ target: `1001@${DOMAIN}`, event: 'conference', contentType: 'application/conference-info+xml', body: '<x/>' });
  t.equal(res.last.status, 489);
  t.equal(header(res, 'Allow-Events'), 'dialog, presence, message-summary');
  const none = h.publish({ target: `1001@${DOMAIN}`, event: null, contentType: DIALOG_TYPE, body: dialogInfo(RINGING) });
  t.equal(none.last.status, 489, 'no Event header at all');
});

t.test('a Content-Type the package does not take is 415 with Accept (RFC 3903 §6 step 5)', async (t) => {
  const h = harness();
  const res = h.publish(dialogPublish(RINGING, { contentType: 'application/pidf+xml' }));
  t.equal(res.last.status, 415);
  t.equal(header(res, 'Accept'), DIALOG_TYPE);
  t.equal(await h.store.publications.count(), 0);
  const missing = h.publish({ target: `1001@${DOMAIN}`, event: 'dialog', body: dialogInfo(RINGING) });
  t.equal(missing.last.status, 415, 'a body without Content-Type');
});

t.test('a body its package cannot read is 400 with a Warning saying why (RFC 3903 §6 step 5)', async (t) => {
  const h = harness();
  const noId = h.publish(dialogPublish([], { body: dialogInfo([{ id: '', state: 'early' }]).replace(' id=""', '') }));
  t.equal(noId.last.status, 400);
  t.match(header(noId, 'Warning'), /^399 piston ".*no id attribute.*"$/);
  const badState = h.publish(dialogPublish([{ id: 'd1', state: 'ringing' }]));
  t.equal(badState.last.status, 400);
  t.match(header(badState, 'Warning'), /unknown state/);
  const notXml = h.publish(dialogPublish([], { body: 'this is not xml' }));
  t.equal(notXml.last.status, 400);
  t.equal(await h.store.publications.count(), 0);
  t.same(h.changes, []);
});

t.test('a modification with a bad body keeps the old document and entity-tag (RFC 3903 §6 step 5)', async (t) => {
  const h = harness();
  const etag = header(h.publish(dialogPublish(RINGING)), 'SIP-ETag')!;
  t.equal(h.publish(dialogPublish([{ id: 'd1', state: 'nonsense' }], { ifMatch: etag })).last.status, 400);
  t.same(h.dialogStates(`1001@${DOMAIN}`), ['d1:early']);
  t.equal(h.publish({ target: `1001@${DOMAIN}`, event: 'dialog', ifMatch: etag }).last.status, 200, 'the entity-tag still works');
});

t.test('a domain no account serves is 404 when unknown domains are refused (RFC 3903 §6 step 1)', async (t) => {
  const h = harness({ defaultForUnknown: false });
  const res = h.publish(dialogPublish(RINGING, { target: '1001@elsewhere.org' }));
  t.equal(res.last.status, 404);
  t.equal(h.publish(dialogPublish(RINGING, { target: '1001@EXAMPLE.com' })).last.status, 200, 'realms match case-insensitively');
});

t.test('a Request-URI without a user part is 400 (RFC 3903 §6 step 1)', async (t) => {
  const h = harness();
  const res = h.publish(dialogPublish(RINGING, { target: `sip:${DOMAIN}` }));
  t.equal(res.last.status, 400);
});

t.test('resources are keyed by the lower-cased user and host of the Request-URI (RFC 3261 §19.1.4)', async (t) => {
  const h = harness();
  h.publish(dialogPublish(RINGING, { target: 'Alice@Example.COM' }));
  t.same(h.dialogStates('alice@example.com'), ['d1:early']);
  t.equal((await storedPublicationsOf(h.store.publications, 'alice@example.com')).length, 1);
});

t.test('presence PUBLISH with PIDF is accepted and aggregated for presence watchers (RFC 3903 §6, RFC 3863)', async (t) => {
  const h = harness();
  const res = h.publish({ target: `1001@${DOMAIN}`, event: 'presence', contentType: PIDF_TYPE, body: pidf('closed', 'Gone fishing') });
  t.equal(res.last.status, 200);
  t.match(h.service.state(`1001@${DOMAIN}`, 'presence'), { basic: 'closed', note: 'Gone fishing' });
  t.same(h.changes, [{ resource: `1001@${DOMAIN}`, events: ['presence'], force: false }]);
});

t.test('an expired entity-tag is 412 even before the expiry timer has run (RFC 3903 §6 step 3)', async (t) => {
  // A clock whose reading runs ahead of its timers, as a busy event loop does.
  class LateTimers extends ManualClock {
    skew = 0;
    override now(): number {
      return super.now() + this.skew;
    }
  }
  const clock = new LateTimers();
  const h = harness({ clock });
  const etag = header(h.publish(dialogPublish(RINGING, { expires: 60 })), 'SIP-ETag')!;
  clock.skew = 60_000;
  const res = h.publish({ target: `1001@${DOMAIN}`, event: 'dialog', ifMatch: etag });
  t.equal(res.last.status, 412);
  t.same(h.dialogStates(`1001@${DOMAIN}`), []);
  t.equal(h.changes.length, 2, 'the expiry was announced');
});
