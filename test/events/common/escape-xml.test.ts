import t from 'tap';
import { XMLParser } from 'fast-xml-parser';
import { escapeXml } from '../../../src/events/common/index.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, trimValues: false, htmlEntities: true });

t.test('markup characters become entity references in text and attributes (XML 1.0 §2.4, §3.1)', async (t) => {
  t.equal(escapeXml('A&B <x>'), 'A&amp;B &lt;x&gt;');
  t.equal(escapeXml(`say "hi" it's`), 'say &quot;hi&quot; it&apos;s');
  t.equal(escapeXml('&amp;'), '&amp;amp;', 'already-escaped text is escaped again, not trusted');
});

t.test('plain values come back unchanged: URIs and tags need no escaping (XML 1.0 §2.4)', async (t) => {
  const uri = 'sip:1001@example.com;transport=tcp';
  t.equal(escapeXml(uri), uri);
  t.equal(escapeXml(''), '');
  t.equal(escapeXml('Zoë 日本'), 'Zoë 日本');
});

t.test('tabs and line breaks survive attribute-value normalisation as character references (XML 1.0 §3.3.3)', async (t) => {
  const v = 'a\tb\nc\rd';
  t.equal(escapeXml(v), 'a&#9;b&#10;c&#13;d');
  t.equal(parser.parse(`<x a="${escapeXml(v)}"/>`).x['@_a'], v);
});

t.test('characters XML cannot carry are replaced so the document stays well-formed (XML 1.0 §2.2)', async (t) => {
  t.equal(escapeXml('a\u0000b\u001fc\uffff'), 'a\ufffdb\ufffdc\ufffd');
  t.equal(escapeXml('x\ud800y'), 'x\ufffdy', 'lone high surrogate');
  t.equal(escapeXml('x\udc00y'), 'x\ufffdy', 'lone low surrogate');
  t.equal(escapeXml('\ud83d\ude00'), '\ud83d\ude00', 'a real surrogate pair is kept');
});

t.test('an escaped value parses back to the original in text and attribute position (XML 1.0 §2.4, §3.3.3)', async (t) => {
  const v = `A&B <x> "q" 'a' ]]> end`;
  const doc = parser.parse(`<r a="${escapeXml(v)}">${escapeXml(v)}</r>`);
  t.equal(doc.r['@_a'], v);
  t.equal(doc.r['#text'], v);
});
