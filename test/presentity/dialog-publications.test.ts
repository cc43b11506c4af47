import t from 'tap';
import type { DialogResourceState } from '../../src/events/dialog/index.js';
import { loadCapture } from '../support/sip-fixtures.js';
import { FakeIncoming, parseRequest } from '../support/sip-builders.js';
import { dialogPublish, DOMAIN, harness, header, type Harness } from './helpers/harness.js';

const R = `1001@${DOMAIN}`;

t.test('a terminated dialog clears the early record of the same dialog under another entity-tag (RFC 4235 §3.7.1, RFC 3903 §4)', async (t) => {
  const h = harness();
  h.publish(dialogPublish([{ id: 'call-1', state: 'early' }]));
  t.same(h.dialogStates(R), ['call-1:early']);
  h.publish(dialogPublish([{ id: 'call-1', state: 'terminated' }]));
  t.same(h.dialogStates(R), ['call-1:terminated'], 'the lamp goes out although the early publication is still live');
  t.equal(await h.store.publications.count(), 2);
});

t.test('a late early does not revive a terminated call (RFC 4235 §3.7.1)', async (t) => {
  const h = harness();
  h.publish(dialogPublish([{ id: 'call-1', state: 'terminated' }], { expires: 60 }));
  h.publish(dialogPublish([{ id: 'call-1', state: 'early' }]));
  t.same(h.dialogStates(R), ['call-1:terminated'], 'under a new entity-tag');
  h.clock.advance(60_000);
  t.same(h.dialogStates(R), [], 'still not ringing after the terminated publication expired: the history remembers the end');
  t.ok((await h.store.resources.get(R))?.history, 'the history is stored with the resource');
  h.publish(dialogPublish([{ id: 'call-2', state: 'early' }]));
  t.same(h.dialogStates(R), ['call-2:early'], 'a new call rings');
});

t.test('dialog state names are read case-insensitively (Kamailio sends Trying; RFC 4235 §4.1.2)', async (t) => {
  const h = harness();
  const a = h.publish(dialogPublish([{ id: 'd1', state: 'Trying' }]));
  t.equal(a.last.status, 200);
  t.same(h.dialogStates(R), ['d1:trying']);
  const b = h.publish(dialogPublish([{ id: 'd1', state: 'Confirmed' }], { ifMatch: header(a, 'SIP-ETag')! }));
  t.equal(b.last.status, 200);
  t.same(h.dialogStates(R), ['d1:confirmed']);
  h.publish(dialogPublish([{ id: 'd1', state: 'TERMINATED' }], { ifMatch: header(b, 'SIP-ETag')! }));
  t.same(h.dialogStates(R), ['d1:terminated']);
});

/** Replays Kamailio's captured PUBLISHes, putting the entity-tags we handed out into SIP-If-Match. */
function replayKamailio(h: Harness): { status: number; resource: string; states: string[] }[] {
  const etags = new Map<string, string>();
  const out: { status: number; resource: string; states: string[] }[] = [];
  for (const msg of loadCapture('kamailio-pua-publish.txt').messages) {
    let text = msg.bytes.toString('utf8');
    const resource = /^PUBLISH sip:([^ ]+) /.exec(text)![1]!;
    text = text.replace(/^SIP-If-Match:[^\r\n]*/im, `SIP-If-Match: ${etags.get(resource) ?? 'none'}`);
    const incoming = new FakeIncoming(parseRequest(Buffer.from(text, 'utf8')));
    h.service.handlePublish(incoming);
    const etag = incoming.last.headers.get('SIP-ETag');
    if (etag) etags.set(resource, etag);
    out.push({ status: incoming.last.status, resource, states: h.dialogStates(resource) });
  }
  return out;
}

t.test('the Kamailio call (Trying, early, confirmed, terminated) is announced in order for both parties (RFC 3903 §4, RFC 4235)', async (t) => {
  // Kamailio's pua_dialoginfo publishes terminated with Expires 11: the PUBLISH minimum has to allow it.
  const h = harness({ minPublishExpires: 10 });
  const steps = replayKamailio(h);
  t.same(
    steps.map((s) => s.status),
    [200, 200, 200, 200, 200, 200, 200, 200],
  );
  const id = 'padi-6b0a47fc-5acd-1';
  t.same(
    steps.filter((s) => s.resource === '1001@127.0.0.1').map((s) => s.states),
    [[`${id}:trying`], [`${id}:early`], [`${id}:confirmed`], [`${id}:terminated`]],
  );
  t.same(
    steps.filter((s) => s.resource === '1002@127.0.0.1').map((s) => s.states),
    [[`${id}:trying`], [`${id}:early`], [`${id}:confirmed`], [`${id}:terminated`]],
  );
  t.same(
    h.changes.filter((c) => c.resource === '1001@127.0.0.1').map((c) => c.events),
    [
      ['dialog', 'presence'], // trying: presence becomes busy
      ['dialog'], // early: still busy for presence
      ['dialog', 'presence'], // confirmed: on the phone
      ['dialog', 'presence'], // terminated: available again
    ],
  );
  const d = (h.service.state('1002@127.0.0.1', 'dialog') as DialogResourceState).dialogs[0]!;
  t.equal(d.direction, 'recipient');
  t.equal(await h.store.publications.count(), 2, 'each party has one publication: every modification replaced the last');

  h.changes.length = 0;
  h.clock.advance(11_000);
  t.same(h.dialogStates('1001@127.0.0.1'), [], 'the terminated publication expires after its 11 s');
  t.same(
    h.changes.map((c) => [c.resource, c.events]),
    [
      ['1001@127.0.0.1', ['dialog']],
      ['1002@127.0.0.1', ['dialog']],
    ],
  );
});

t.test('with the default minimum, Kamailio\'s terminated PUBLISH (Expires 11) is refused with 423 (RFC 3903 §6 step 4)', async (t) => {
  const h = harness();
  const steps = replayKamailio(h);
  t.same(
    steps.map((s) => s.status),
    [200, 200, 200, 200, 200, 200, 423, 423],
  );
});
