import t from 'tap';
import { parseDialogInfo } from '../../../src/events/dialog/index.js';
import { readCapturedMessages } from '../helpers/real-client-messages.js';
import { dialogInfoXml } from '../helpers/dialog-docs.js';
import { bodyError } from '../helpers/body-error.js';

const TYPE = 'application/dialog-info+xml';

t.test('every Kamailio pua_dialoginfo PUBLISH body parses, capitalised Trying included (RFC 4235 §4, §3.7.1)', async (t) => {
  const messages = readCapturedMessages('kamailio-pua-publish.txt');
  t.equal(messages.length, 8);
  const states = messages.map((m) => {
    const doc = parseDialogInfo(Buffer.from(m.body), m.headers.get('content-type')!);
    t.equal(doc.dialogs.length, 1);
    return doc.dialogs[0]!.state;
  });
  t.same(states, ['trying', 'trying', 'early', 'early', 'confirmed', 'confirmed', 'terminated', 'terminated']);
});

t.test('a Kamailio early dialog yields id, call-id, tags, direction and both participants (RFC 4235 §4.1)', async (t) => {
  const early = readCapturedMessages('kamailio-pua-publish.txt')[2]!;
  const doc = parseDialogInfo(Buffer.from(early.body), TYPE);
  t.equal(doc.entity, 'sip:1001@127.0.0.1');
  t.equal(doc.state, 'full');
  t.same(doc.dialogs[0], {
    id: 'padi-6b0a47fc-5acd-1',
    state: 'early',
    callId: '1-23315@127.0.0.1',
    localTag: '23315SIPpTag1',
    remoteTag: '23312SIPpTag011',
    direction: 'initiator',
    local: { identity: 'sip:1001@127.0.0.1', target: 'sip:1001@127.0.0.1:5077;transport=UDP' },
    remote: { identity: 'sip:1002@127.0.0.1', target: 'sip:service@127.0.0.1:5078;transport=UDP' },
  });
});

t.test('state names and direction are read case-insensitively (RFC 4235 §3.7.1; Kamailio sends Trying)', async (t) => {
  for (const [text, want] of [
    ['Trying', 'trying'],
    ['PROCEEDING', 'proceeding'],
    [' Early ', 'early'],
    ['Confirmed', 'confirmed'],
    ['TERMINATED', 'terminated'],
  ] as const) {
    const doc = parseDialogInfo(dialogInfoXml([{ id: 'a', state: text, extra: ' direction="Recipient"' }]), TYPE);
    t.equal(doc.dialogs[0]!.state, want, text);
    t.equal(doc.dialogs[0]!.direction, 'recipient');
  }
});

t.test('a dialog-info document with no dialog is a valid "nothing going on" (RFC 4235 §4.1)', async (t) => {
  const empty = parseDialogInfo(dialogInfoXml([]), TYPE);
  t.same(empty.dialogs, []);
  const selfClosed = parseDialogInfo(Buffer.from('<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:a@b"/>'), TYPE);
  t.same(selfClosed.dialogs, []);
  t.equal(selfClosed.entity, 'sip:a@b');
});

t.test('several dialogs are all read, in document order (RFC 4235 §4.1)', async (t) => {
  const doc = parseDialogInfo(dialogInfoXml([{ id: 'a', state: 'confirmed' }, { id: 'b', state: 'early' }, { id: 'c', state: 'terminated' }]), TYPE);
  t.same(doc.dialogs.map((d) => `${d.id}:${d.state}`), ['a:confirmed', 'b:early', 'c:terminated']);
});

t.test('display names, state event and code, and escaped characters are read (RFC 4235 §4.1.2, §4.1.6)', async (t) => {
  const inner =
    '    <remote>\n      <identity display="A&amp;B &lt;x&gt;">sip:bob@example.com</identity>\n      <target uri="sip:bob@10.0.0.2;a=&quot;q&quot;"/>\n    </remote>\n';
  const xml = dialogInfoXml([{ id: 'a', state: 'terminated', inner }]).toString().replace('<state>', '<state event="rejected" code="486">');
  const d = parseDialogInfo(Buffer.from(xml), TYPE).dialogs[0]!;
  t.equal(d.remote?.display, 'A&B <x>');
  t.equal(d.remote?.target, 'sip:bob@10.0.0.2;a="q"');
  t.equal(d.stateEvent, 'rejected');
  t.equal(d.stateCode, 486);
});

t.test('numeric character references are decoded, and a body without any reference reads the same values (XML 1.0 §4.1)', async (t) => {
  const inner = (display: string): string => `    <remote>\n      <identity display="${display}">sip:bob@example.com</identity>\n    </remote>\n`;
  const withRef = parseDialogInfo(dialogInfoXml([{ id: 'a', state: 'early', inner: inner('Zo&#235; &#x41;') }]), TYPE).dialogs[0]!;
  t.equal(withRef.remote?.display, 'Zoë A');
  const plain = parseDialogInfo(dialogInfoXml([{ id: 'a', state: 'early', inner: inner('Zoë A') }]), TYPE).dialogs[0]!;
  t.same(plain, withRef);
});

t.test('namespace prefixes chosen by the publisher are accepted (RFC 4235 §4.1)', async (t) => {
  const xml = '<di:dialog-info xmlns:di="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:a@b"><di:dialog id="x"><di:state>early</di:state></di:dialog></di:dialog-info>';
  t.same(parseDialogInfo(Buffer.from(xml), TYPE).dialogs, [{ id: 'x', state: 'early' }]);
});

t.test('a PUBLISH body of another Content-Type is refused with 415 (RFC 3903 §6)', async (t) => {
  const body = Buffer.from(readCapturedMessages('kamailio-pua-publish.txt')[0]!.body);
  t.throws(() => parseDialogInfo(body, 'application/pidf+xml'), bodyError(415, /application\/dialog-info\+xml/));
  t.throws(() => parseDialogInfo(body, ''), bodyError(415, /untyped/));
  // Parameters and case of the media type do not matter (RFC 3261 §7.3.1).
  t.equal(parseDialogInfo(body, 'Application/Dialog-Info+XML; charset=UTF-8').dialogs.length, 1);
});

t.test('a PUBLISH body without a dialog-info root is refused with 400 (RFC 3903 §6)', async (t) => {
  const baresip = Buffer.from(readCapturedMessages('baresip-publish.txt')[0]!.body);
  t.throws(() => parseDialogInfo(baresip, TYPE), bodyError(400, /<dialog-info>.*found <presence>/));
  t.throws(() => parseDialogInfo(Buffer.from(''), TYPE), bodyError(400, /empty body/));
  t.throws(() => parseDialogInfo(Buffer.from('not xml at all'), TYPE), bodyError(400, /well-formed/));
  t.throws(() => parseDialogInfo(Buffer.from('<dialog-info><dialog id="a"><state>early</state></dialog>'), TYPE), bodyError(400, /well-formed/));
});

t.test('a fault only the XML parser sees (an open quote in the XML declaration) is a 400, not a server error (RFC 3903 §6)', async (t) => {
  const xml = '<?xml version==1.0"?>\n<dialog-info><dialog id="a"><state>early</state></dialog></dialog-info>';
  t.throws(() => parseDialogInfo(Buffer.from(xml), TYPE), bodyError(400, /well-formed XML: Pi Tag is not closed/));
});

t.test('a dialog without id or with an unknown state is refused with 400 (RFC 4235 §4.1.1, §4.1.2)', async (t) => {
  t.throws(() => parseDialogInfo(Buffer.from('<dialog-info><dialog><state>early</state></dialog></dialog-info>'), TYPE), bodyError(400, /no id/));
  t.throws(() => parseDialogInfo(Buffer.from('<dialog-info><dialog id="a"/></dialog-info>'), TYPE), bodyError(400, /no <state>/));
  t.throws(() => parseDialogInfo(dialogInfoXml([{ id: 'a', state: 'ringing' }]), TYPE), bodyError(400, /unknown state "ringing"/));
});

t.test('DOCTYPE declarations are refused with 400 so entity expansion cannot be abused (RFC 3903 §6)', async (t) => {
  const xml = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaa">]><dialog-info><dialog id="&a;"><state>early</state></dialog></dialog-info>';
  t.throws(() => parseDialogInfo(Buffer.from(xml), TYPE), bodyError(400, /DOCTYPE/));
});

t.test('a body that is not UTF-8 is refused with 400 (RFC 4235 §4, RFC 3903 §6)', async (t) => {
  t.throws(() => parseDialogInfo(Buffer.from([0x3c, 0x64, 0xff, 0xfe, 0x3e]), TYPE), bodyError(400, /UTF-8/));
});
