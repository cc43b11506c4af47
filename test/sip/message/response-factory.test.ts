import t from 'tap';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { canRespond, createResponse } from '../../../src/sip/message/response-factory.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';

function req(lines: string[], method = 'SUBSCRIBE'): SipRequest {
  return parseMessage(Buffer.from([`${method} sip:1002@example.com SIP/2.0`, ...lines, '', ''].join('\r\n'))) as SipRequest;
}

const BASE = [
  'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKu1;received=192.0.2.1',
  'Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKu0',
  'Max-Forwards: 69',
  'From: "A" <sip:1001@example.com>;tag=ft',
  'To: <sip:1002@example.com>',
  'Call-ID: cid-1',
  'CSeq: 5 SUBSCRIBE',
  'Event: dialog',
  'Timestamp: 54',
];

t.test('a response copies Via, From, To, Call-ID, CSeq and adds the To tag (RFC 3261 §8.2.6.2)', async (t) => {
  const r = req(BASE);
  const res = createResponse(r, 200, undefined, { toTag: 'tt9', headers: [['Expires', '600'], ['Contact', '<sip:pres@10.0.0.9>']] });
  t.equal(res.status, 200);
  t.equal(res.reason, 'OK', 'default reason phrase');
  t.same(res.headers.lines('via'), r.headers.lines('via'), 'every Via line, in order, unchanged');
  t.equal(res.via.length, 3);
  t.equal(res.headers.get('from'), r.headers.get('from'));
  t.equal(res.to.params.get('tag'), 'tt9');
  t.equal(res.callId, 'cid-1');
  t.same(res.cseq, { seq: 5, method: 'SUBSCRIBE' });
  t.equal(res.expires, 600);
  t.equal(res.headers.has('event'), false, 'other request headers are not copied');
  t.equal(res.headers.has('max-forwards'), false);
  t.equal(res.headers.has('timestamp'), false, 'Timestamp only in 100 (RFC 3261 §8.2.6.1)');
  t.equal(createResponse(r, 100).headers.get('timestamp'), '54');
});

t.test('an existing To tag is kept, not doubled (RFC 3261 §8.2.6.2)', async (t) => {
  const r = req(BASE.map((l) => (l.startsWith('To:') ? 'To: <sip:1002@example.com>;tag=existing' : l)));
  const res = createResponse(r, 481, undefined, { toTag: 'new' });
  t.equal(res.headers.get('to'), '<sip:1002@example.com>;tag=existing');
  t.equal(res.reason, 'Call/Transaction Does Not Exist');
});

t.test('responses can be built for requests whose other headers do not parse (RFC 3261 §8.2.6)', async (t) => {
  const r = req(BASE.map((l) => (l.startsWith('To:') ? 'To: "broken <sip:1002@example.com>' : l.startsWith('CSeq') ? 'CSeq: many SUBSCRIBE' : l)));
  t.ok(canRespond(r));
  const res = createResponse(r, 400, 'Bad To', { toTag: 'x' });
  t.equal(res.headers.get('to'), '"broken <sip:1002@example.com>;tag=x');
  t.equal(res.headers.get('cseq'), 'many SUBSCRIBE', 'copied raw');
  t.equal(res.reason, 'Bad To');
  t.match(serialize(res).toString(), /^SIP\/2\.0 400 Bad To\r\n/);
});

t.test('a response can be built whenever the request has a Via line, even a malformed one (RFC 3261 §18.2.2, RFC 4475 §3.1.2.1)', async (t) => {
  t.ok(canRespond(req(BASE)));
  for (const missing of ['From', 'To', 'Call-ID', 'CSeq']) {
    t.ok(canRespond(req(BASE.filter((l) => !l.startsWith(missing + ':')))), `without ${missing}`);
  }
  t.notOk(canRespond(req(BASE.filter((l) => !l.startsWith('Via:')))), 'not without any Via');
  t.ok(canRespond(req(['Via: garbage', ...BASE.slice(2)])), 'top Via unparseable: still answered on the flow');
});

t.test('body and Content-Type options; unknown codes get a class reason', async (t) => {
  const r = req(BASE);
  const res = createResponse(r, 200, undefined, { body: Buffer.from('x=1'), contentType: 'text/plain' });
  t.equal(res.contentType, 'text/plain');
  t.equal(res.body.toString(), 'x=1');
  t.match(serialize(res).toString(), /Content-Length: 3\r\n/);
  t.equal(createResponse(r, 499).reason, 'Client Error');
  t.equal(createResponse(r, 423).reason, 'Interval Too Brief');
  t.equal(createResponse(r, 412).reason, 'Conditional Request Failed');
});

t.test('compact request headers are copied under their long names, first From/To/Call-ID/CSeq only (RFC 3261 §7.3.3, §8.2.6.2)', async (t) => {
  const r = req([
    'v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKc1',
    'f: <sip:1001@example.com>;tag=a',
    't: <sip:1002@example.com>',
    'i: cid-c',
    'CSeq: 7 SUBSCRIBE',
    'Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKc0',
    'From: <sip:other@example.com>;tag=b',
  ]);
  const text = serialize(createResponse(r, 200, undefined, { toTag: 'z' })).toString();
  t.equal(
    text,
    [
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKc1',
      'Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKc0',
      'From: <sip:1001@example.com>;tag=a',
      'To: <sip:1002@example.com>;tag=z',
      'Call-ID: cid-c',
      'CSeq: 7 SUBSCRIBE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
});

t.test('a To tag that would inject a header line is refused (RFC 3261 §7.3.1)', async (t) => {
  t.throws(() => createResponse(req(BASE), 200, undefined, { toTag: 'x\r\nEvil: 1' }));
});
