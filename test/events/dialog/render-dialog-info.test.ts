import t from 'tap';
import { XMLParser } from 'fast-xml-parser';
import fc from 'fast-check';
import { renderDialogInfo, syntheticDialogId, type DialogResourceState } from '../../../src/events/dialog/index.js';
import { ENTITY, dialog } from '../helpers/dialog-docs.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, isArray: (n) => n === 'dialog' });
const render = (dialogs: DialogResourceState['dialogs'], version = 0, more: { allDialogs?: boolean; entity?: string } = {}): string =>
  renderDialogInfo({ format: 'dialog-info', dialogs }, { entity: more.entity ?? ENTITY, version, ...more }).toString('utf8');
const parsed = (xml: string) => parser.parse(xml)['dialog-info'];

t.test('an idle resource gets one terminated dialog with a stable id and the entity as both parties, never an empty document (RFC 4235 §4.1, §4.1.6)', async (t) => {
  const id = syntheticDialogId(ENTITY);
  t.equal(
    render([], 0),
    '<?xml version="1.0"?>\n' +
      `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="${ENTITY}">\n` +
      `  <dialog id="${id}">\n` +
      '    <state>terminated</state>\n' +
      '    <local>\n' +
      `      <identity>${ENTITY}</identity>\n` +
      '    </local>\n' +
      '    <remote>\n' +
      `      <identity>${ENTITY}</identity>\n` +
      '    </remote>\n' +
      '  </dialog>\n' +
      '</dialog-info>\n',
  );
  t.equal(parsed(render([], 7)).dialog[0]['@_id'], id, 'same id on a later document');
  t.equal(syntheticDialogId(ENTITY), id, 'derived from the entity alone');
  t.not(syntheticDialogId('sip:1002@example.com'), id, 'another entity gets another id');
});

t.test('a dialog renders call-id, tags, direction, state and both participants (RFC 4235 §4.1.1-§4.1.6)', async (t) => {
  const d = dialog('d1', 'early', {
    callId: 'c1@h',
    localTag: 'lt',
    remoteTag: 'rt',
    direction: 'recipient',
    local: { identity: 'sip:1001@example.com', display: 'Alice', target: 'sip:1001@10.0.0.1:5060' },
    remote: { identity: 'sip:1002@example.com', display: 'Bob', target: 'sip:1002@10.0.0.2' },
  });
  t.equal(
    render([d], 3),
    '<?xml version="1.0"?>\n' +
      `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="3" state="full" entity="${ENTITY}">\n` +
      '  <dialog id="d1" call-id="c1@h" local-tag="lt" remote-tag="rt" direction="recipient">\n' +
      '    <state>early</state>\n' +
      '    <local>\n' +
      '      <identity display="Alice">sip:1001@example.com</identity>\n' +
      '      <target uri="sip:1001@10.0.0.1:5060"/>\n' +
      '    </local>\n' +
      '    <remote>\n' +
      '      <identity display="Bob">sip:1002@example.com</identity>\n' +
      '      <target uri="sip:1002@10.0.0.2"/>\n' +
      '    </remote>\n' +
      '  </dialog>\n' +
      '</dialog-info>\n',
  );
});

t.test('parts that are not known are left out rather than written empty (RFC 4235 §4.1)', async (t) => {
  const xml = render([dialog('d1', 'confirmed', { remote: { identity: 'sip:b@x' } })]);
  t.notMatch(xml, /call-id|local-tag|remote-tag|direction|<local>|<target|display=/);
  t.match(xml, '<remote>\n      <identity>sip:b@x</identity>\n    </remote>');
});

t.test('state event and code are written on <state> (RFC 4235 §4.1.2)', async (t) => {
  t.match(render([dialog('d1', 'terminated', { stateEvent: 'rejected', stateCode: 486 })]), '<state event="rejected" code="486">terminated</state>');
});

t.test('display names, URIs and ids are escaped: A&B <x> and quotes survive a round trip (XML 1.0 §2.4)', async (t) => {
  const d = dialog('id"&<1>', 'early', {
    callId: "c'1",
    remote: { identity: 'sip:a&b@x', display: 'A&B <x>', target: 'sip:b@x;p="q"' },
  });
  const xml = render([d], 1, { entity: 'sip:x"y@z' });
  t.match(xml, '<identity display="A&amp;B &lt;x&gt;">sip:a&amp;b@x</identity>');
  t.match(xml, '<target uri="sip:b@x;p=&quot;q&quot;"/>');
  t.match(xml, 'entity="sip:x&quot;y@z"');
  const root = parsed(xml);
  t.equal(root['@_entity'], 'sip:x"y@z');
  const out = root.dialog[0];
  t.equal(out['@_id'], 'id"&<1>');
  t.equal(out['@_call-id'], "c'1");
  t.equal(out.remote.identity['@_display'], 'A&B <x>');
  t.equal(out.remote.identity['#text'], 'sip:a&b@x');
  t.equal(out.remote.target['@_uri'], 'sip:b@x;p="q"');
});

t.test('any display name round-trips through the escaping (property, XML 1.0 §2.4)', async (t) => {
  // Characters XML cannot hold are replaced, so compare against the representable subset.
  const representable = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\u0000-\u001f\ufffe\uffff]/g, 'x').trim());
  fc.assert(
    fc.property(representable, (name) => {
      const xml = render([dialog('d', 'early', { remote: { identity: 'sip:b@x', display: name || 'n' } })]);
      const got = parsed(xml).dialog[0].remote.identity['@_display'];
      return got === (name || 'n');
    }),
    { numRuns: 300 },
  );
  t.pass('round-trips');
});

t.test('version is the watcher counter given, up to 2^32-1; anything else is refused (RFC 4235 §4.1)', async (t) => {
  t.equal(parsed(render([], 0))['@_version'], '0');
  t.equal(parsed(render([], 42))['@_version'], '42');
  t.equal(parsed(render([], 4294967295))['@_version'], '4294967295');
  t.throws(() => render([], 4294967296), RangeError);
  t.throws(() => render([], -1), RangeError);
  t.throws(() => render([], 1.5), RangeError);
  t.throws(() => render([], Number.NaN), RangeError);
});

t.test('by default only the first (most interesting) dialog is rendered; allDialogs lists them all (RFC 4235 §4.1)', async (t) => {
  const dialogs = [dialog('a', 'early'), dialog('b', 'confirmed'), dialog('c', 'terminated')];
  t.same(parsed(render(dialogs)).dialog.map((d: Record<string, string>) => d['@_id']), ['a']);
  t.same(parsed(render(dialogs, 0, { allDialogs: true })).dialog.map((d: Record<string, string>) => d['@_id']), ['a', 'b', 'c']);
  t.same(parsed(render([], 0, { allDialogs: true })).dialog.length, 1, 'idle still has the placeholder');
});

t.test('the same state rendered for another entity or option is not served from the wrong cache entry (RFC 4235 §4.1)', async (t) => {
  const state: DialogResourceState = { format: 'dialog-info', dialogs: [] };
  const a = renderDialogInfo(state, { entity: 'sip:a@x', version: 0 }).toString();
  const b = renderDialogInfo(state, { entity: 'sip:b@x', version: 0 }).toString();
  t.match(a, `id="${syntheticDialogId('sip:a@x')}"`);
  t.match(b, `id="${syntheticDialogId('sip:b@x')}"`);
  const two: DialogResourceState = { format: 'dialog-info', dialogs: [dialog('a', 'early'), dialog('b', 'early')] };
  t.equal(parsed(renderDialogInfo(two, { entity: ENTITY, version: 0 }).toString()).dialog.length, 1);
  t.equal(parsed(renderDialogInfo(two, { entity: ENTITY, version: 0, allDialogs: true }).toString()).dialog.length, 2);
});

t.test('a fan-out renders the dialogs part once for all its watchers; a state met again later renders the same text (RFC 4235 §4.1)', async (t) => {
  let reads = 0;
  const list = [dialog('a', 'confirmed')];
  const counted: DialogResourceState = {
    format: 'dialog-info',
    get dialogs() {
      reads++;
      return list;
    },
  };
  const first = renderDialogInfo(counted, { entity: ENTITY, version: 0 }).toString();
  const afterFirst = reads;
  t.ok(afterFirst > 0, 'the first watcher renders the dialogs');
  for (let v = 1; v <= 20; v++) renderDialogInfo(counted, { entity: ENTITY, version: v });
  t.equal(reads, afterFirst, 'the other watchers reuse the part');
  // Other resources' fan-outs push it out of the recent parts; rendering it again gives the same document.
  for (let i = 0; i < 20; i++) renderDialogInfo({ format: 'dialog-info', dialogs: [dialog(`x${i}`, 'early')] }, { entity: ENTITY, version: 0 });
  t.equal(renderDialogInfo(counted, { entity: ENTITY, version: 0 }).toString(), first);
  t.ok(reads > afterFirst, 'rendered anew once forgotten');
});

t.test('the rendered document declares the dialog-info namespace and full state (RFC 4235 §4.1)', async (t) => {
  const root = parsed(render([dialog('a', 'confirmed')]));
  t.equal(root['@_xmlns'], 'urn:ietf:params:xml:ns:dialog-info');
  t.equal(root['@_state'], 'full');
  t.equal(root['@_entity'], ENTITY);
  t.equal(root.dialog[0].state, 'confirmed');
});
