import t from 'tap';
import { Headers } from '../../../src/sip/message/headers.js';
import { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';

const SUB = [
  'SUBSCRIBE sip:1002@pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport',
  'From: "Desk" <sip:1001@pbx.example.com>;tag=f1',
  'To: <sip:1002@pbx.example.com>',
  'Call-ID: c1@10.0.0.1',
  'CSeq: 7 SUBSCRIBE',
  'Contact: <sip:1001@10.0.0.1:5060>',
  'Event: dialog;id=42',
  'Expires: 600',
  'Max-Forwards: 70',
  'Accept: application/dialog-info+xml',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

t.test('typed getters parse on first access and cache until headers change', async (t) => {
  const req = parseMessage(Buffer.from(SUB)) as SipRequest;
  const from1 = req.from;
  t.equal(req.from, from1, 'same object on the second access: cached');
  t.equal(req.expires, 600);
  req.headers.set('Expires', '30');
  t.equal(req.expires, 30, 'cache invalidated by set');
  t.not(req.from, from1, 'every cached value is recomputed after a mutation');
  t.same(req.from, from1);
  req.headers.delete('expires');
  t.equal(req.expires, undefined);
  req.headers = new Headers();
  t.throws(() => req.from, { message: /missing From/ }, 'replacing the Headers object invalidates too');
});

t.test('a malformed header only fails its own getter, with ParseError (lazy parsing)', async (t) => {
  const req = parseMessage(Buffer.from(SUB.replace('Expires: 600', 'Expires: soon'))) as SipRequest;
  t.equal(req.method, 'SUBSCRIBE');
  t.equal(req.event?.id, '42');
  t.throws(() => req.expires, ParseError);
  t.throws(() => req.expires, ParseError, 'errors are not cached as values');
});

t.test('mandatory getters throw ParseError when the header is missing (RFC 3261 §8.1.1)', async (t) => {
  const req = new SipRequest('OPTIONS', 'sip:a@b');
  for (const g of ['from', 'to', 'callId', 'cseq', 'topVia'] as const) t.throws(() => req[g], ParseError, g);
  t.same(req.via, []);
  t.same(req.contact, []);
  t.same(req.accept, []);
  t.equal(req.event, undefined);
  t.equal(req.authorization, undefined);
});

t.test("Contact '*' gives an empty list and contactStar (RFC 3261 §10.2.2)", async (t) => {
  const h = new Headers();
  h.append('Contact', '*');
  const req = new SipRequest('REGISTER', 'sip:example.com', h);
  t.same(req.contact, []);
  t.equal(req.contactStar, true);
  h.append('Contact', '<sip:a@b>');
  t.throws(() => req.contact, ParseError, "'*' must stand alone");
  const plain = parseMessage(Buffer.from(SUB)) as SipRequest;
  t.equal(plain.contactStar, false);
  t.equal(plain.contact[0]?.uri.port, 5060);
});

t.test('requests and responses: type guards, Request-URI cache follows uri', async (t) => {
  const req = parseMessage(Buffer.from(SUB)) as SipRequest;
  t.ok(req.isRequest());
  t.notOk(req.isResponse());
  t.equal(req.requestUri.user, '1002');
  req.uri = 'sip:1003@pbx.example.com';
  t.equal(req.requestUri.user, '1003');
  const res = new SipResponse(200, 'OK');
  t.notOk(res.isRequest());
  t.ok(res.isResponse());
  t.equal(res.version, 'SIP/2.0');
  t.equal(res.body.length, 0);
});

t.test('getters for the presence headers (RFC 6665, RFC 3903)', async (t) => {
  const h = new Headers();
  h.append('Subscription-State', 'active;expires=120');
  h.append('SIP-ETag', 'e1');
  h.append('SIP-If-Match', 'e0');
  h.append('Min-Expires', '60');
  h.append('Allow-Events', 'dialog, presence');
  h.append('Require', 'eventlist');
  h.append('Proxy-Require', 'foo');
  h.append('Route', '<sip:p1;lr>, <sip:p2;lr>');
  h.append('Record-Route', '<sip:rr;lr>');
  h.append('Content-Type', 'application/dialog-info+xml');
  const m = new SipRequest('NOTIFY', 'sip:a@b', h);
  t.equal(m.subscriptionState?.expires, 120);
  t.equal(m.sipETag, 'e1');
  t.equal(m.sipIfMatch, 'e0');
  t.equal(m.minExpires, 60);
  t.same(m.allowEvents, ['dialog', 'presence']);
  t.same(m.require, ['eventlist']);
  t.same(m.proxyRequire, ['foo']);
  t.same(m.route.map((r) => r.uri.host), ['p1', 'p2']);
  t.equal(m.recordRoute[0]?.uri.host, 'rr');
  t.equal(m.contentType, 'application/dialog-info+xml');
});
