import t from 'tap';
import {
  parseAuthorization,
  parseCSeq,
  parseCallId,
  parseDeltaSeconds,
  parseEntityTag,
  parseEvent,
  parseMaxForwards,
  parseMediaType,
  parseSubscriptionState,
} from '../../../src/sip/message/header-values.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';

t.test('CSeq: sequence number below 2^31 and a method token (RFC 3261 §8.1.1.5, §20.16)', async (t) => {
  t.same(parseCSeq('4711 SUBSCRIBE'), { seq: 4711, method: 'SUBSCRIBE' });
  t.same(parseCSeq('  0009   INVITE '), { seq: 9, method: 'INVITE' });
  t.same(parseCSeq('2147483647 NOTIFY'), { seq: 2147483647, method: 'NOTIFY' });
  for (const bad of ['2147483648 NOTIFY', '1', 'SUBSCRIBE', '1SUBSCRIBE', '-1 NOTIFY', '1 NOT IFY', '36893488147419103232 REGISTER']) {
    t.throws(() => parseCSeq(bad), ParseError, bad);
  }
});

t.test('Event with id and other parameters (RFC 6665 §8.2.1, §7.2.1)', async (t) => {
  const e = parseEvent('dialog;id=blf-7;call-id=abc@h;include-session-description');
  t.equal(e.package, 'dialog');
  t.equal(e.id, 'blf-7');
  t.equal(e.params.get('call-id'), 'abc@h', "unquoted '@' in a call-id parameter is tolerated (RFC 4235 §4.1 quotes it)");
  t.equal(e.params.get('include-session-description'), null);
  const plain = parseEvent('presence');
  t.equal(plain.package, 'presence');
  t.equal(plain.id, undefined);
  t.equal(parseEvent('presence.winfo').package, 'presence.winfo', 'template-package');
  for (const bad of ['', ';id=1', 'dialog;id', 'dialog id=1', 'dialog;;id=1']) t.throws(() => parseEvent(bad), ParseError, bad);
});

t.test('Subscription-State: state, expires, reason (RFC 6665 §8.2.3)', async (t) => {
  t.same(parseSubscriptionState('active;expires=3600'), { state: 'active', expires: 3600, params: new Map([['expires', '3600']]) });
  const term = parseSubscriptionState('Terminated;reason=Timeout;retry-after=30');
  t.equal(term.state, 'terminated');
  t.equal(term.reason, 'timeout');
  t.equal(term.params.get('retry-after'), '30');
  t.equal(parseSubscriptionState('pending').expires, undefined);
  for (const bad of ['', 'active;expires=soon', 'active;expires', 'terminated;reason', 'active;expires=99999999999']) {
    t.throws(() => parseSubscriptionState(bad), ParseError, bad);
  }
});

t.test('SIP-ETag and SIP-If-Match are tokens (RFC 3903 §11.3)', async (t) => {
  t.equal(parseEntityTag(' etag-f8rvupja ', 'SIP-If-Match'), 'etag-f8rvupja');
  t.equal(parseEntityTag('dx200xyz', 'SIP-ETag'), 'dx200xyz');
  for (const bad of ['', 'a b', '"quoted"', 'a,b']) t.throws(() => parseEntityTag(bad, 'SIP-ETag'), ParseError, bad);
});

t.test('Authorization: Digest with quoted commas, unknown schemes (RFC 3261 §20.7, §22.4, RFC 4475 §3.3.7)', async (t) => {
  const a = parseAuthorization(
    'Digest username="bob, jr", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  t.equal(a.scheme, 'Digest');
  t.equal(a.params.get('username'), 'bob, jr', 'the comma inside quotes is not a separator');
  t.equal(a.params.get('uri'), 'sip:bob@biloxi.com');
  t.equal(a.params.get('qop'), 'auth');
  t.equal(a.params.get('nc'), '00000001');
  t.equal(a.params.size, 9);
  const escaped = parseAuthorization('Digest username="a\\"b",realm="r"');
  t.equal(escaped.params.get('username'), 'a"b');
  const other = parseAuthorization('NoOneKnowsThisScheme opaque-data=here');
  t.equal(other.scheme, 'NoOneKnowsThisScheme');
  t.same([...other.params], [['opaque-data', 'here']]);
  for (const bad of ['', '=x', 'Digest username="open', 'Digest a b=c', 'Digest@ x=1']) t.throws(() => parseAuthorization(bad), ParseError, bad);
});

t.test('Expires and Max-Forwards bounds (RFC 3261 §20.19, §20.22, RFC 4475 §3.1.2.4)', async (t) => {
  t.equal(parseDeltaSeconds('3600', 'Expires'), 3600);
  t.equal(parseDeltaSeconds('4294967295', 'Expires'), 4294967295);
  t.equal(parseDeltaSeconds('0000000060', 'Expires'), 60, 'leading zeros');
  t.throws(() => parseDeltaSeconds('4294967296', 'Expires'), ParseError);
  t.throws(() => parseDeltaSeconds('1'.repeat(100), 'Expires'), ParseError);
  t.throws(() => parseDeltaSeconds('-1', 'Expires'), ParseError);
  t.throws(() => parseDeltaSeconds('', 'Expires'), ParseError);
  t.equal(parseMaxForwards('0068'), 68);
  t.equal(parseMaxForwards('255'), 255);
  t.throws(() => parseMaxForwards('256'), ParseError);
  t.throws(() => parseMaxForwards('300'), ParseError);
});

t.test('media types are lower-cased without parameters (RFC 3261 §20.15)', async (t) => {
  t.equal(parseMediaType('Application/PIDF+XML;charset=UTF-8', 'Content-Type'), 'application/pidf+xml');
  t.equal(parseMediaType('multipart/mixed;boundary=7a9cbec02ceef655', 'Content-Type'), 'multipart/mixed');
  t.equal(parseMediaType('*/*', 'Accept', true), '*/*');
  t.throws(() => parseMediaType('*/*', 'Content-Type'), ParseError);
  for (const bad of ['text', 'text/', '/plain', 'text/plain;', 'te xt/plain']) t.throws(() => parseMediaType(bad, 'Content-Type'), ParseError, bad);
});

t.test('Call-ID is word [@ word] (RFC 3261 §20.8)', async (t) => {
  t.equal(parseCallId('f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com'), 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com');
  t.equal(parseCallId('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{'), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
  for (const bad of ['', 'a b', 'a@b@c', '@b', 'a@']) t.throws(() => parseCallId(bad), ParseError, bad);
});
