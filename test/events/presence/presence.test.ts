import t from 'tap';
import { XMLParser } from 'fast-xml-parser';
import { createDefaultRegistry } from '../../../src/events/default-registry.js';
import { createPresencePackage, parsePidf, renderPidf, RPID_ACTIVITIES, type PidfDocument, type PresenceResourceState } from '../../../src/events/presence/index.js';
import type { ManualState, Publication } from '../../../src/events/event-package.js';
import { ENTITY, dialog, doc, input, pub } from '../helpers/dialog-docs.js';
import { bodyError } from '../helpers/body-error.js';
import { readCapturedMessages } from '../helpers/real-client-messages.js';

const TYPE = 'application/pidf+xml';
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false });
const registry = createDefaultRegistry();
const presence = registry.get('presence')!;

function stateOf(publications: Record<string, Publication[]>, manualState?: ManualState): PresenceResourceState {
  return registry.aggregate('presence', input(publications, manualState ? { manualState } : {})) as PresenceResourceState;
}
function xmlOf(state: PresenceResourceState, entity = ENTITY): string {
  return renderPidf(state, { entity, version: 0 }).toString('utf8');
}
function pidf(basic: string, extra = ''): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${ENTITY}">\n` +
      `<tuple id="t1"><status><basic>${basic}</basic></status></tuple>${extra}</presence>`,
  );
}

t.test('an idle resource is open, noted Available, with no RPID activity (RFC 3863 §4.1.4, RFC 4480 §3.2)', async (t) => {
  const xml = xmlOf(stateOf({}));
  t.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${ENTITY}">\n` +
      `  <tuple id="${(parser.parse(xml).presence.tuple as Record<string, string>)['@_id']}">\n` +
      '    <status>\n' +
      '      <basic>open</basic>\n' +
      '    </status>\n' +
      '    <note>Available</note>\n' +
      '  </tuple>\n' +
      '</presence>\n',
  );
  t.notMatch(xml, 'activities');
});

t.test('a ringing (early) resource shows rpid:busy, a confirmed one rpid:on-the-phone (RFC 4480 §3.2)', async (t) => {
  const early = parser.parse(xmlOf(stateOf({ dialog: [pub('e', 1, doc(dialog('d1', 'early')))] }))).presence;
  t.equal(early.tuple.status.basic, 'open');
  t.equal(early.tuple.note, 'Ringing');
  t.same(Object.keys(early['dm:person']['rpid:activities']), ['rpid:busy']);

  const confirmed = parser.parse(xmlOf(stateOf({ dialog: [pub('e', 1, doc(dialog('d1', 'confirmed')))] }))).presence;
  t.equal(confirmed.tuple.status.basic, 'open');
  t.equal(confirmed.tuple.note, 'On the phone');
  t.same(Object.keys(confirmed['dm:person']['rpid:activities']), ['rpid:on-the-phone']);
});

t.test('exact PIDF for a confirmed call: tuple, note and dm:person activities (RFC 3863 §4, RFC 4479, RFC 4480)', async (t) => {
  const xml = xmlOf({ format: 'pidf', basic: 'open', note: 'On the phone', activities: ['on-the-phone'] }, 'sip:a@b');
  const ids = parser.parse(xml).presence;
  t.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:a@b">\n' +
      `  <tuple id="${ids.tuple['@_id']}">\n` +
      '    <status>\n' +
      '      <basic>open</basic>\n' +
      '    </status>\n' +
      '    <note>On the phone</note>\n' +
      '  </tuple>\n' +
      `  <dm:person id="${ids['dm:person']['@_id']}">\n` +
      '    <rpid:activities>\n' +
      '      <rpid:on-the-phone/>\n' +
      '    </rpid:activities>\n' +
      '  </dm:person>\n' +
      '</presence>\n',
  );
  t.match(ids.tuple['@_id'], /^t[0-9a-f]{16}$/, 'the tuple id is an XML ID (RFC 3863 §4.1.2)');
  t.equal(xmlOf({ format: 'pidf', basic: 'open', note: 'x', activities: [] }, 'sip:a@b').includes(`id="${ids.tuple['@_id']}"`), true, 'stable');
});

t.test('manual state drives presence like dialogs: ringing busy, busy on-the-phone, idle none (RFC 4480 §3.2, api-contract.md)', async (t) => {
  t.same(stateOf({}, 'early'), { format: 'pidf', basic: 'open', note: 'Ringing', activities: ['busy'] });
  t.same(stateOf({}, 'confirmed'), { format: 'pidf', basic: 'open', note: 'On the phone', activities: ['on-the-phone'] });
  t.same(stateOf({}, 'terminated'), { format: 'pidf', basic: 'open', note: 'Available', activities: [] });
});

t.test('without a dialog package presence falls back to the manual state alone (RFC 4480 §3.2)', async (t) => {
  const alone = createPresencePackage({ dialogPackage: 'none-here' });
  t.same(alone.aggregate(input({}, { manualState: 'confirmed' })).activities, ['on-the-phone']);
  t.same(alone.aggregate(input({}, { manualState: 'early' })).activities, ['busy']);
  t.same(alone.aggregate(input({})).activities, []);
});

t.test('a confirmed call outranks a second ringing call for presence (RFC 4480 §3.2)', async (t) => {
  const s = stateOf({ dialog: [pub('e', 1, doc(dialog('a', 'early'), dialog('b', 'confirmed')))] });
  t.same(s.activities, ['on-the-phone']);
});

t.test('calls being set up (trying, proceeding) count as busy; terminated ones as idle (RFC 4235 §3.7.1, RFC 4480 §3.2)', async (t) => {
  t.same(stateOf({ dialog: [pub('e', 1, doc(dialog('a', 'trying')))] }).activities, ['busy']);
  t.same(stateOf({ dialog: [pub('e', 1, doc(dialog('a', 'proceeding')))] }).activities, ['busy']);
  t.same(stateOf({ dialog: [pub('e', 1, doc(dialog('a', 'terminated')))] }).activities, []);
});

t.test('baresip\'s PIDF PUBLISH parses: open, no activities, entity (RFC 3863 §4)', async (t) => {
  const captured = readCapturedMessages('baresip-publish.txt').filter((m) => m.body !== '');
  t.equal(captured.length, 2);
  for (const m of captured) {
    t.same(parsePidf(Buffer.from(m.body), m.headers.get('content-type')!), {
      format: 'pidf',
      activities: [],
      entity: 'sip:1001@127.0.0.1:5062',
      basic: 'open',
    });
  }
});

t.test('published basic, note and activities are read from tuples and dm:person (RFC 3863 §4.1, RFC 4480 §3.2)', async (t) => {
  const body = pidf(
    'closed',
    '<tuple id="t2"><status><basic>closed</basic></status><note xml:lang="en">Gone &amp; away</note></tuple>' +
      '<dm:person id="p1"><rpid:activities><rpid:meeting/><rpid:away/><rpid:not-an-activity/></rpid:activities></dm:person>',
  );
  t.same(parsePidf(body, TYPE), { format: 'pidf', activities: ['meeting', 'away'], entity: ENTITY, basic: 'closed', note: 'Gone & away' });
  const mixed = parsePidf(pidf('closed', '<tuple id="t2"><status><basic> OPEN </basic></status></tuple>'), TYPE);
  t.equal(mixed.basic, 'open', 'one open tuple makes the presentity open');
});

t.test('a PIDF without basic status leaves basic unset (RFC 3863 §4.1.4 makes it optional)', async (t) => {
  const d = parsePidf(Buffer.from('<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"><tuple id="t"><status/></tuple></presence>'), TYPE);
  t.equal(d.basic, undefined);
});

t.test('PIDF PUBLISH bodies: wrong type 415, no <presence> root or bad basic 400 (RFC 3903 §6, RFC 3863 §4.1.4)', async (t) => {
  const baresip = Buffer.from(readCapturedMessages('baresip-publish.txt')[0]!.body);
  t.throws(() => presence.parsePublication(baresip, 'application/dialog-info+xml'), bodyError(415, /application\/pidf\+xml/));
  t.throws(() => presence.parsePublication(baresip, 'application/xpidf+xml'), bodyError(415, /xpidf/));
  const kamailio = Buffer.from(readCapturedMessages('kamailio-pua-publish.txt')[0]!.body);
  t.throws(() => presence.parsePublication(kamailio, TYPE), bodyError(400, /<presence> root.*found <dialog-info>/));
  t.throws(() => presence.parsePublication(pidf('maybe'), TYPE), bodyError(400, /basic status "maybe"/));
  t.throws(() => presence.parsePublication(Buffer.from('<presence><tuple>'), TYPE), bodyError(400, /well-formed/));
  // A fault the validator lets through and only the parser finds: still the body's fault, a 400, not a server error.
  t.throws(() => presence.parsePublication(Buffer.from('<?xml version==1.0"?><presence/>'), TYPE), bodyError(400, /well-formed XML: Pi Tag/));
});

function published(basic: 'open' | 'closed' | undefined, note?: string, activities: string[] = []): PidfDocument {
  const d: PidfDocument = { format: 'pidf', activities };
  if (basic) d.basic = basic;
  if (note) d.note = note;
  return d;
}

t.test('published PIDF wins for basic status and note while no call is going on (RFC 3903 §4)', async (t) => {
  const s = stateOf({ presence: [pub('p', 1, published('closed', 'In a meeting', ['meeting']))] });
  t.same(s, { format: 'pidf', basic: 'closed', note: 'In a meeting', activities: ['meeting'] });
  const noNote = stateOf({ presence: [pub('p', 1, published('closed'))] });
  t.equal(noNote.note, 'Offline');
});

t.test('during a call the call activity comes first and its note wins; published activities are kept (RFC 3863 §4.1.6, RFC 4480 §3.2)', async (t) => {
  const s = stateOf({
    presence: [pub('p', 1, published('open', 'At my desk', ['working']))],
    dialog: [pub('d', 2, doc(dialog('d1', 'confirmed')))],
  });
  t.same(s, { format: 'pidf', basic: 'open', note: 'On the phone', activities: ['on-the-phone', 'working'] });
});

t.test('several published PIDF documents: open if any is open, newest note, activities merged (RFC 3903 §4)', async (t) => {
  const s = stateOf({
    presence: [pub('b', 2, published('closed', 'newer', ['away'])), pub('a', 1, published('open', 'older', ['working', 'away']))],
  });
  t.same(s, { format: 'pidf', basic: 'open', note: 'newer', activities: ['working', 'away'] });
});

t.test('notes and entities are escaped in the rendered PIDF (XML 1.0 §2.4)', async (t) => {
  const xml = xmlOf({ format: 'pidf', basic: 'open', note: 'A&B <x> "q"', activities: [] }, 'sip:a"b@c');
  t.match(xml, '<note>A&amp;B &lt;x&gt; &quot;q&quot;</note>');
  const root = parser.parse(xml).presence;
  t.equal(root.tuple.note, 'A&B <x> "q"');
  t.equal(root['@_entity'], 'sip:a"b@c');
});

t.test('a published activity without a note is noted by that activity, never "Available" (RFC 3863 §4.1.5, RFC 4480 §3.2)', async (t) => {
  // As pjsua and other RPID publishers send it: the activity in <dm:person>, no <note> anywhere.
  const person = (activity: string): string =>
    `<dm:person id="p1"><rpid:activities><rpid:${activity}/></rpid:activities></dm:person>`;
  for (const [activity, note] of [
    ['on-the-phone', 'On the phone'],
    ['away', 'Away'],
    ['busy', 'Busy'],
    ['meeting', 'In a meeting'],
  ] as const) {
    const body = parsePidf(pidf('open', person(activity)), TYPE);
    t.equal(body.note, undefined, `${activity}: the publication has no note`);
    const state = stateOf({ presence: [pub('p', 1, body)] });
    t.same(state, { format: 'pidf', basic: 'open', note, activities: [activity] }, `${activity}: noted "${note}"`);
    const xml = xmlOf(state);
    t.match(xml, `<note>${note}</note>`, `${activity}: the NOTIFY body carries it`);
    t.notMatch(xml, 'Available', `${activity}: nothing says Available`);
  }
});

t.test('the publisher\'s own note wins over the one its activity would give (RFC 3863 §4.1.5)', async (t) => {
  t.equal(stateOf({ presence: [pub('p', 1, published('open', 'Back at 3', ['away']))] }).note, 'Back at 3');
});

t.test('the newest publication that says something gives the note: a fresh activity outranks an older typed note (RFC 3903 §4)', async (t) => {
  const s = stateOf({ presence: [pub('a', 1, published('open', 'At my desk', ['working'])), pub('b', 2, published('open', undefined, ['away']))] });
  t.equal(s.note, 'Away');
  const bare = stateOf({ presence: [pub('a', 1, published('open', 'At my desk')), pub('b', 2, published('open'))] });
  t.equal(bare.note, 'At my desk', 'a newer publication with neither note nor activity does not erase it');
});

t.test('every RPID activity but unknown has a note of its own; unknown alone falls back to the basic status (RFC 4480 §3.2)', async (t) => {
  for (const activity of RPID_ACTIVITIES) {
    const note = stateOf({ presence: [pub('p', 1, published('open', undefined, [activity]))] }).note;
    if (activity === 'unknown') t.equal(note, 'Available', 'unknown says nothing a note could repeat');
    else t.ok(note !== 'Available' && note !== 'Offline' && note.length > 0, `${activity}: "${note}"`);
  }
  t.equal(stateOf({ presence: [pub('p', 1, published('closed', undefined, ['unknown']))] }).note, 'Offline');
});
