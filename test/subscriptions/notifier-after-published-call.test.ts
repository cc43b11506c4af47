/**
 * What a BLF watcher is sent once a call that Kamailio's pua_dialoginfo published is over, through the real notifier,
 * PresentityService and SIP stack: the captured PUBLISHes of a real call, then each of the three ways the published
 * call leaves the lamp (its Expires 11 lapses, a PUBLISH with Expires 0 removes it, the API sets a state). pjsua 2.17
 * crashed on the document after each of them, whose dialog had no `<local>`/`<remote>` while the call's had them.
 */
import t, { type Test } from 'tap';
import { XMLParser } from 'fast-xml-parser';
import { ListAccountResolver } from '../../src/accounts/account-resolver.js';
import type { ManualState } from '../../src/events/event-package.js';
import type { SipRequest } from '../../src/sip/message/message.js';
import { loadCapture } from '../support/sip-fixtures.js';
import { parseRequest } from '../support/sip-builders.js';
import { bodyText, NotifierHarness } from './helpers/notifier-harness.js';

const HOST = '127.0.0.1';
const ENTITY = `sip:1001@${HOST}`;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, isArray: (n) => n === 'dialog' });

interface Party {
  identity?: string | { '#text': string };
}
interface RenderedDialog {
  '@_id': string;
  state: string | { '#text': string };
  local?: Party;
  remote?: Party;
}

function dialogsOf(notify: SipRequest): RenderedDialog[] {
  return (parser.parse(bodyText(notify))['dialog-info'].dialog ?? []) as RenderedDialog[];
}
const text = (v: string | { '#text': string } | undefined): string | undefined => (typeof v === 'object' ? v['#text'] : v);

/** A watcher of 1001@127.0.0.1 and the call Kamailio published for it, replayed with the entity-tags we handed out. */
async function afterPublishedCall(): Promise<{ h: NotifierHarness; etag: string }> {
  const h = new NotifierHarness({
    accounts: new ListAccountResolver(() => [{ id: 'a'.repeat(32), realm: HOST }], false),
    // Kamailio publishes the terminated call with Expires 11 (test/presentity/dialog-publications.test.ts).
    minPublishExpires: 10,
  });
  await h.subscribe({ user: '1001', domain: HOST, fromUser: '2001' });
  let etag = 'none';
  for (const msg of loadCapture('kamailio-pua-publish.txt').messages) {
    const raw = msg.bytes.toString('utf8');
    if (!raw.startsWith(`PUBLISH ${ENTITY} `)) continue;
    const res = await h.publish(parseRequest(raw.replace(/^SIP-If-Match:[^\r\n]*/im, `SIP-If-Match: ${etag}`)));
    if (res.last.status !== 200) throw new Error(`the captured PUBLISH was answered ${res.last.status}`);
    etag = res.last.headers.get('SIP-ETag') ?? etag;
  }
  return { h, etag };
}

/** Every dialog of every NOTIFY given names both parties (RFC 4235 §4.1.6); returns the dialogs seen. */
function assertPartiesNamed(t: Test, notifies: readonly SipRequest[]): RenderedDialog[] {
  const seen: RenderedDialog[] = [];
  for (const n of notifies) {
    for (const d of dialogsOf(n)) {
      t.ok(text(d.local?.identity), `dialog ${d['@_id']} (${text(d.state)}) has <local><identity>`);
      t.ok(text(d.remote?.identity), `dialog ${d['@_id']} (${text(d.state)}) has <remote><identity>`);
      seen.push(d);
    }
  }
  return seen;
}

t.test('the published call itself names both parties, as Kamailio published them (RFC 4235 §4.1.6)', async (t) => {
  const { h } = await afterPublishedCall();
  t.teardown(() => h.dispose());
  const states = h.notifies.map((n) => text(dialogsOf(n)[0]!.state));
  t.same(states, ['terminated', 'trying', 'early', 'confirmed', 'terminated'], 'idle, then the call');
  const last = dialogsOf(h.notifies.at(-1)!)[0]!;
  t.equal(text(last.remote?.identity), 'sip:1002@127.0.0.1', 'the caller as published');
});

t.test('when the published call lapses (Kamailio\'s Expires 11), the idle dialog names the entity as both parties (RFC 4235 §4.1.6, RFC 3903 §4)', async (t) => {
  const { h } = await afterPublishedCall();
  t.teardown(() => h.dispose());
  const before = h.notifies.length;
  await h.tick(11_000);
  const after = h.notifies.slice(before);
  t.equal(after.length, 1, 'one NOTIFY when the publication expires');
  const [idle] = assertPartiesNamed(t, after);
  t.equal(text(idle!.state), 'terminated');
  t.equal(text(idle!.local?.identity), ENTITY);
  t.equal(text(idle!.remote?.identity), ENTITY);
});

t.test('when the published call is removed with Expires 0, the idle dialog names both parties (RFC 4235 §4.1.6, RFC 3903 §4.5)', async (t) => {
  const { h, etag } = await afterPublishedCall();
  t.teardown(() => h.dispose());
  const before = h.notifies.length;
  const removal = [
    `PUBLISH ${ENTITY} SIP/2.0`,
    `Via: SIP/2.0/UDP ${HOST}:5070;branch=z9hG4bKremove1`,
    'Max-Forwards: 70',
    `From: <${ENTITY}>;tag=rm1`,
    `To: <${ENTITY}>`,
    'Call-ID: remove-1@127.0.0.1',
    'CSeq: 10 PUBLISH',
    'Event: dialog',
    `SIP-If-Match: ${etag}`,
    'Expires: 0',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const res = await h.publish(parseRequest(removal));
  t.equal(res.last.status, 200, 'the removal is accepted');
  const after = h.notifies.slice(before);
  t.equal(after.length, 1, 'one NOTIFY for the removal');
  const [idle] = assertPartiesNamed(t, after);
  t.equal(text(idle!.state), 'terminated');
  t.equal(text(idle!.local?.identity), ENTITY);
});

for (const state of ['terminated', 'early', 'confirmed'] as const satisfies readonly ManualState[]) {
  t.test(`an API set to ${state} after a published call: the manual dialog names the entity as both parties (RFC 4235 §4.1.6, api-contract.md)`, async (t) => {
    const { h } = await afterPublishedCall();
    t.teardown(() => h.dispose());
    const before = h.notifies.length;
    h.presentity.setManualState(`1001@${HOST}`, state);
    await h.tick();
    const after = h.notifies.slice(before);
    t.equal(after.length, 1, 'one NOTIFY for the set');
    const [manual] = assertPartiesNamed(t, after);
    t.equal(text(manual!.state), state, 'the manual state is what the lamp shows');
    t.equal(text(manual!.local?.identity), ENTITY);
    t.equal(text(manual!.remote?.identity), ENTITY);
    // And when the published terminated call lapses afterwards, the document still names both parties.
    await h.tick(11_000);
    assertPartiesNamed(t, h.notifies.slice(before));
  });
}
