import t from 'tap';
import { STORE_RETRY_AFTER_SECONDS } from '../../src/presentity/store-refusal.js';
import { CORRUPT, FaultyStore, WRITABLE } from '../store/helpers/faulty-store.js';
import { dialogPublish, DOMAIN, harness, header } from './helpers/harness.js';

/**
 * While the store cannot write, an initial PUBLISH is refused with 503 and Retry-After (RFC 3261 §21.5.4, §20.33)
 * rather than acknowledged and lost at a restart; a publication already held is still modified, refreshed or removed.
 */

const RESOURCE = `1001@${DOMAIN}`;
const RINGING = [{ id: 'd1', state: 'early' }];
const TALKING = [{ id: 'd1', state: 'confirmed' }];

t.test('an initial PUBLISH while the store cannot write is 503 with Retry-After and a Warning, and changes nothing (RFC 3903 §6, RFC 3261 §21.5.4)', async (t) => {
  const store = new FaultyStore();
  const h = harness({ store });
  store.health = CORRUPT;
  const res = h.publish(dialogPublish(RINGING));
  t.equal(res.last.status, 503);
  t.equal(header(res, 'Retry-After'), String(STORE_RETRY_AFTER_SECONDS));
  t.equal(header(res, 'Warning'), '399 piston "presence store cannot save new state; retry later"');
  t.equal(header(res, 'SIP-ETag'), undefined, 'no entity-tag: nothing was created');
  t.same(h.dialogStates(RESOURCE), []);
  t.equal(store.publications.count(), 0);
  t.same(h.changes, [], 'no watcher is told');
});

t.test('a publication already held is modified, refreshed and removed while the store cannot write (RFC 3903 §4.3-§4.5)', async (t) => {
  const store = new FaultyStore();
  const h = harness({ store });
  const etag = header(h.publish(dialogPublish(RINGING)), 'SIP-ETag')!;
  store.health = CORRUPT;
  const modified = h.publish(dialogPublish(TALKING, { ifMatch: etag }));
  t.equal(modified.last.status, 200, 'the call goes on being shown');
  t.same(h.dialogStates(RESOURCE), ['d1:confirmed']);
  const refreshed = h.publish({ target: RESOURCE, event: 'dialog', ifMatch: header(modified, 'SIP-ETag')!, expires: 600 });
  t.equal(refreshed.last.status, 200);
  const removed = h.publish({ target: RESOURCE, event: 'dialog', ifMatch: header(refreshed, 'SIP-ETag')!, expires: 0 });
  t.equal(removed.last.status, 200);
});

t.test('once the store writes again, an initial PUBLISH is accepted', async (t) => {
  const store = new FaultyStore();
  const h = harness({ store });
  store.health = CORRUPT;
  t.equal(h.publish(dialogPublish(RINGING)).last.status, 503);
  store.health = WRITABLE;
  t.equal(h.publish(dialogPublish(RINGING)).last.status, 200);
});
