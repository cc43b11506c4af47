import t from 'tap';
import { Headers } from '../../../src/sip/message/headers.js';
import { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import { loadRfc4475 } from '../../support/sip-fixtures.js';

t.test('serialize writes start line, canonical names, Content-Length = body length, body bytes (RFC 3261 §7, §20.14)', async (t) => {
  const h = new Headers();
  h.append('v', 'SIP/2.0/UDP h;branch=z9hG4bK1');
  h.append('i', 'cid');
  h.append('l', '999');
  h.append('X-Thing', 'a, b');
  const body = Buffer.from([0, 1, 2, 13, 10, 255]);
  const wire = serialize(new SipRequest('NOTIFY', 'sip:a@b', h, body));
  t.equal(
    wire.subarray(0, wire.length - body.length).toString('latin1'),
    'NOTIFY sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: cid\r\nContent-Length: 6\r\nX-Thing: a, b\r\n\r\n',
  );
  t.ok(wire.subarray(-6).equals(body), 'binary body unchanged');
  const res = serialize(new SipResponse(489, 'Bad Event'));
  t.equal(res.toString(), 'SIP/2.0 489 Bad Event\r\nContent-Length: 0\r\n\r\n', 'Content-Length added when missing');
});

t.test('serialize then parse round-trips a tortuous message (RFC 4475 §3.1.1.1)', async (t) => {
  const orig = parseMessage(loadRfc4475('wsinv')) as SipRequest;
  const again = parseMessage(serialize(orig), { datagram: false }) as SipRequest;
  t.equal(again.method, orig.method);
  t.equal(again.uri, orig.uri);
  t.same(again.via, orig.via);
  t.same(again.from, orig.from);
  t.same(again.to, orig.to);
  t.same(again.contact, orig.contact);
  t.same(again.cseq, orig.cseq);
  t.equal(again.headers.get('NewFangledHeader'), orig.headers.get('NewFangledHeader'));
  t.ok(again.body.equals(orig.body));
  t.same([...again.headers], [...orig.headers], 'same header lines in the same order');
});

t.test('UTF-8 in headers survives the round trip byte for byte (RFC 3261 §7.3.1, RFC 4475 §3.1.1.2)', async (t) => {
  const raw = loadRfc4475('intmeth');
  const orig = parseMessage(raw);
  const wire = serialize(orig);
  const value = raw.subarray(raw.indexOf("~:") + 2, raw.indexOf('\r\nContent-Length'));
  t.ok(value.length > 0 && wire.includes(Buffer.concat([Buffer.from("~: "), value, Buffer.from('\r\n')])), 'the UTF-8 value bytes are written unchanged');
  t.ok(wire.includes(raw.subarray(raw.indexOf('To: '), raw.indexOf('\r\nCall-ID'))), 'To with NUL, BEL, DEL quoted-pairs unchanged');
  t.same([...parseMessage(wire).headers], [...orig.headers], 'the same header lines after re-parsing');
});
