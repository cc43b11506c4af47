import t from 'tap';
import { header, dialogPublish, DOMAIN, harness } from './helpers/harness.js';

/** The presentity service's cluster seam (presentity-replica.ts): export a resource whole, install one from a peer. */

const R = `1001@${DOMAIN}`;

t.test('export then install on another service gives the same state and entity-tags, announced once', async (t) => {
  const a = harness();
  const b = harness({ clock: a.clock });
  const etag = header(a.publish(dialogPublish([{ id: 'd1', state: 'confirmed' }])), 'SIP-ETag');
  const doc = a.service.exportResource(R);
  t.ok(doc);
  b.service.installResource(R, doc);
  t.same(b.dialogStates(R), a.dialogStates(R));
  t.same(b.service.describe(R).publications.map((p) => p.etag), [etag]);
  t.equal(b.changes.length, 1, 'announced once');
  b.service.installResource(R, doc);
  t.equal(b.changes.length, 1, 'the same document again changes nothing watchers see: no announcement');
  b.service.installResource(R, null);
  t.same(b.dialogStates(R), [], 'null clears it');
  t.equal(b.changes.length, 2);
});

t.test('an install writes only what differs: one changed publication, one store write (not one per publication)', async (t) => {
  const a = harness();
  const b = harness({ clock: a.clock });
  for (let i = 0; i < 5; i++) a.publish(dialogPublish([{ id: `d${i}`, state: 'confirmed' }]));
  b.service.installResource(R, a.service.exportResource(R));
  let puts = 0;
  let deletes = 0;
  const pubs = b.store.publications;
  const put = pubs.put.bind(pubs);
  const del = pubs.delete.bind(pubs);
  pubs.put = (rec) => {
    puts++;
    put(rec);
  };
  pubs.delete = (k) => {
    deletes++;
    del(k);
  };
  a.publish(dialogPublish([{ id: 'd9', state: 'early' }]));
  b.service.installResource(R, a.service.exportResource(R));
  t.same([puts, deletes], [1, 0], 'one new publication written, nothing else');
  t.equal(b.service.stats().publications, 6);
});

t.test('publications already expired are not installed (they would flash on and off)', async (t) => {
  const a = harness();
  const b = harness({ clock: a.clock });
  a.publish(dialogPublish([{ id: 'd1', state: 'confirmed' }], { expires: 60 }));
  const doc = a.service.exportResource(R);
  a.clock.advance(61_000);
  b.service.installResource(R, doc);
  t.same(b.dialogStates(R), []);
  t.equal(b.changes.length, 0);
});

t.test('events emitted inside held() wait for release; dropped ones never reach listeners', async (t) => {
  const h = harness();
  const { events } = h.service.held(() => h.publish(dialogPublish([{ id: 'd1', state: 'confirmed' }])));
  t.equal(h.changes.length, 0, 'held back');
  h.service.release(events);
  t.equal(h.changes.length, 1, 'released');
  h.service.held(() => h.publish(dialogPublish([{ id: 'd2', state: 'early' }])));
  t.equal(h.changes.length, 1, 'dropped');
});
