import t from 'tap';
import type { SipMessage, SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { requestOf } from '../../../src/sip/message/request-parse-error.js';
import { canRespond, createResponse } from '../../../src/sip/message/response-factory.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import { viaBranch } from '../../../src/sip/message/via.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import { validateRequest } from '../../../src/sip/parser/validate.js';
import { loadRfc4475, rfc4475Names } from '../../support/sip-fixtures.js';

// The subtest type (the last overload of t.test takes only the callback).
type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** Parses the datagram, checks it is a request that validateRequest accepts. */
function validRequest(tt: Test, name: string): SipRequest {
  const msg = parseMessage(loadRfc4475(name));
  tt.ok(msg.isRequest(), `${name} is a request`);
  const req = msg as SipRequest;
  tt.doesNotThrow(() => validateRequest(req), `${name} passes validateRequest`);
  // Whatever parses must also survive a round trip through the serializer.
  const again = parseMessage(serialize(req)) as SipRequest;
  tt.equal(again.method, req.method);
  tt.same(again.body, req.body);
  return req;
}

function response(tt: Test, name: string): SipResponse {
  const msg = parseMessage(loadRfc4475(name));
  tt.notOk(msg.isRequest(), `${name} is a response`);
  return msg as SipResponse;
}

function catchParse(tt: Test, fn: () => unknown, what: string): ParseError {
  try {
    fn();
  } catch (err) {
    tt.type(err, ParseError, `${what}: throws ParseError`);
    return err as ParseError;
  }
  tt.fail(`${what}: did not throw`);
  return new ParseError('did not throw');
}

/** RFC 4475 §3.1.2 messages caught by parseMessage: status, and the request when a response can be built. */
function rejectedByParser(tt: Test, name: string, status: number, withRequest: boolean): ParseError {
  const err = catchParse(tt, () => parseMessage(loadRfc4475(name)), `${name} parseMessage`);
  tt.equal(err.status, status, `${name}: status ${status} (${err.message})`);
  if (withRequest) {
    tt.ok(requestOf(err), `${name}: the partly parsed request is attached`);
    const req = requestOf(err) as SipRequest;
    tt.ok(canRespond(req), `${name}: a response can be built`);
    const res = createResponse(req, err.status);
    tt.equal(res.status, status);
    tt.equal(res.callId, req.callId, 'the response copies Call-ID');
  } else tt.equal(requestOf(err), undefined, `${name}: no request attached`);
  return err;
}

/** RFC 4475 messages that parse (lazily) but that validateRequest rejects with 400. */
function rejectedByValidation(tt: Test, name: string): ParseError {
  const msg = parseMessage(loadRfc4475(name));
  tt.ok(msg.isRequest(), `${name} parses as a request`);
  const req = msg as SipRequest;
  const err = catchParse(tt, () => validateRequest(req), `${name} validateRequest`);
  tt.equal(err.status, 400, `${name}: 400 (${err.message})`);
  tt.equal(requestOf(err), req, `${name}: the request is attached`);
  return err;
}

/** The bytes after the header section of a fixture. */
function bodyOf(name: string): Buffer {
  const raw = loadRfc4475(name);
  return raw.subarray(raw.indexOf('\r\n\r\n') + 4);
}

const covered = new Set<string>();
function torture(name: string, title: string, fn: (tt: Test) => void): void {
  covered.add(name);
  t.test(`${name}.dat: ${title}`, async (tt) => fn(tt));
}

// ---- RFC 4475 §3.1.1: valid messages ----

torture('wsinv', 'a short tortuous INVITE is accepted (RFC 4475 §3.1.1.1)', (tt) => {
  const req = validRequest(tt, 'wsinv');
  tt.equal(req.method, 'INVITE');
  tt.equal(req.requestUri.user, 'vivekg');
  tt.equal(req.requestUri.host, 'chair-dnrc.example.com');
  tt.same([...req.requestUri.params], [['unknownparam', null]]);
  tt.equal(req.to.uri.user, 'vivekg', 'folded To, addr-spec form');
  tt.equal(req.to.params.get('tag'), '1918181833n', 'LWS around ; and = in To');
  tt.equal(req.from.displayName, 'J Rosenberg \\"', 'escaped backslash and quote in the display name');
  tt.equal(req.from.uri.user, 'jdrosen');
  tt.equal(req.from.params.get('tag'), '98asjd8', 'tag on a continuation line');
  tt.equal(req.maxForwards, 68, 'MaX-fOrWaRdS 0068');
  tt.equal(req.callId, 'wsinv.ndaksdj@192.0.2.1');
  tt.equal(req.contentLength, 150, "'Content-Length   :'");
  tt.same(req.cseq, { seq: 9, method: 'INVITE' }, 'folded CSeq 0009');
  tt.equal(req.via.length, 3, 'one Via and a folded v: with two values');
  tt.same(
    req.via.map((v) => [v.protocol, v.transport, v.host, viaBranch(v)]),
    [
      ['SIP/2.0', 'UDP', '192.0.2.2', '390skdjuw'],
      ['SIP/2.0', 'TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['SIP/2.0', 'UDP', '192.168.255.111', 'z9hG4bK30239'],
    ],
  );
  tt.equal(req.headers.get('subject'), '', "empty 's :' Subject");
  tt.equal(req.headers.count('Subject'), 1);
  tt.equal(req.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value', 'folded header joined with one SP');
  tt.equal(req.headers.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
  tt.equal(req.contentType, 'application/sdp');
  const route = req.route[0];
  tt.ok(route);
  tt.same([...(route?.uri.params ?? [])], [['lr', null], ['unknownwith', 'value'], ['unknown-no-value', null]]);
  const contact = req.contact[0];
  tt.equal(contact?.displayName, 'Quoted string ""');
  tt.same([...(contact?.params ?? [])], [['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
  tt.equal(req.body.length, 150);
});

torture('intmeth', 'a wide range of valid characters is accepted (RFC 4475 §3.1.1.2)', (tt) => {
  const req = validRequest(tt, 'intmeth');
  tt.equal(req.method, "!interesting-Method0123456789_*+`.%indeed'~");
  tt.equal(req.cseq.method, req.method);
  tt.equal(req.cseq.seq, 139122385);
  tt.equal(req.requestUri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  tt.equal(req.requestUri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  tt.equal(req.requestUri.host, 'example.com');
  tt.equal(req.to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f', 'quoted-pairs of control characters');
  tt.equal(req.to.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  tt.equal(req.from.displayName, "token1~` token2'+_ token3*%!.-", 'unquoted display name of odd tokens');
  tt.equal(req.from.params.get('tag'), "_token~1'+`*%!-.");
  tt.match(req.from.params.get("fromparam''~+*_!.-%") ?? '', /^".+"$/u, 'quoted UTF-8 parameter value kept with its quotes');
  tt.equal(req.callId, 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
  tt.equal(req.maxForwards, 255);
  const raw = loadRfc4475('intmeth').toString('utf8');
  const ext = /extensionHeader-!\.%\*\+_`'~:(.*)\r\n/.exec(raw)?.[1];
  tt.ok(ext);
  tt.equal(req.headers.get("extensionHeader-!.%*+_`'~"), ext, 'UTF-8 header value decoded');
});

torture('esc01', '%-escapes in URIs are kept as sent (RFC 4475 §3.1.1.3)', (tt) => {
  const req = validRequest(tt, 'esc01');
  tt.equal(req.uri, 'sip:sips%3Auser%40example.com@example.net');
  tt.equal(req.requestUri.user, 'sips%3Auser%40example.com');
  tt.equal(req.requestUri.host, 'example.net');
  tt.equal(req.to.uri.user, '%75se%72');
  tt.equal(req.from.uri.user, 'I%20have%20spaces');
  tt.equal(req.callId, 'esc01.239409asdfakjkn23onasd0-3234', "compact 'i'");
  tt.equal(req.contentType, 'application/sdp', "upper-case compact 'C'");
  const c = req.contact[0];
  tt.equal(c?.uri.user, 'cal%6Cer');
  tt.same([...(c?.uri.params ?? [])], [['%6c%72', null], ['n%61me', 'v%61lue%25%34%31']]);
});

torture('escnull', 'escaped nulls in URIs are accepted (RFC 4475 §3.1.1.4)', (tt) => {
  const req = validRequest(tt, 'escnull');
  tt.equal(req.to.uri.user, 'null-%00-null');
  tt.equal(req.from.uri.user, 'null-%00-null');
  tt.same(req.contact.map((c) => c.uri.user), ['%00', '%00%00']);
  tt.equal(req.contentLength, 0, "upper-case compact 'L:0'");
});

torture('esc02', '% that is not an escape: RE%47IST%45R is not REGISTER (RFC 4475 §3.1.1.5)', (tt) => {
  const req = validRequest(tt, 'esc02');
  tt.equal(req.method, 'RE%47IST%45R');
  tt.not(req.method, 'REGISTER');
  tt.equal(req.cseq.method, 'RE%47IST%45R');
  tt.equal(req.to.displayName, '%Z%45');
  tt.equal(viaBranch(req.topVia), 'z9hG4bK209%fzsnel234');
  tt.same(req.contact.map((c) => c.uri.host), ['host1.example.com', 'host3.example.com'], 'C%6Fntact is not Contact');
  tt.equal(req.headers.get('C%6Fntact'), '<sip:alias2@host2.example.com>', 'kept as an unknown header');
  tt.equal(req.headers.count('contact'), 2);
});

torture('lwsdisp', 'no LWS between display name and < (RFC 4475 §3.1.1.6)', (tt) => {
  const req = validRequest(tt, 'lwsdisp');
  tt.equal(req.from.displayName, 'caller');
  tt.equal(req.from.uri.user, 'caller');
  tt.equal(req.from.params.get('tag'), '323');
});

torture('longreq', 'long values in header fields (RFC 4475 §3.1.1.7)', (tt) => {
  const req = validRequest(tt, 'longreq');
  tt.equal(req.to.displayName, `I have a user name of ${'extreme'.repeat(10)} proportion`);
  tt.equal(req.to.uri.port, 6000);
  tt.equal(req.to.uri.params.get('unknownparam1'), `very${'long'.repeat(20)}value`);
  tt.equal(req.to.uri.params.get(`longparam${'name'.repeat(25)}`), 'shortvalue');
  tt.equal(req.to.uri.params.get(`very${'long'.repeat(25)}parameternamewithnovalue`), null);
  tt.equal(req.from.uri.user, 'amazinglylongcallername'.repeat(5));
  tt.match(req.from.params.get('tag') ?? '', /^1(298)+2424$/);
  tt.ok(req.callId.startsWith('longreq.one') && req.callId.endsWith('longcallid'));
  tt.equal(req.via.length, 34, "Via, v:, V :, ViA... are all Via");
  tt.equal(req.via[0]?.host, 'sip33.example.com');
  tt.equal(req.via[33]?.host, 'host.example.com');
  tt.equal(req.via[33]?.params.get('received'), '192.0.2.5');
  tt.equal(viaBranch(req.via[33] as never), `very${'long'.repeat(50)}branchvalue`);
  tt.equal(req.contact[0]?.uri.user, 'amazinglylongcallername'.repeat(5));
  tt.equal(req.body.length, 150);
});

torture('dblreq', 'extra trailing octets in a datagram are ignored (RFC 4475 §3.1.1.8)', (tt) => {
  const req = validRequest(tt, 'dblreq');
  tt.equal(req.method, 'REGISTER');
  tt.equal(req.callId, 'dblreq.0ha0isndaksdj99sdfafnl3lk233412', "compact 'I'");
  tt.equal(req.body.length, 0, 'Content-Length 0: the second request is not the body');
  tt.equal(req.headers.get('content-type'), undefined);
  tt.equal(req.contact[0]?.uri.host, 'host.example.com');
});

torture('semiuri', 'semicolons in the user part of a URI (RFC 4475 §3.1.1.9)', (tt) => {
  const req = validRequest(tt, 'semiuri');
  tt.equal(req.requestUri.user, 'user;par=u%40example.net');
  tt.equal(req.requestUri.host, 'example.com');
  tt.equal(req.requestUri.params.size, 0);
  tt.same(req.accept, [
    'application/sdp',
    'application/pkcs7-mime',
    'multipart/mixed',
    'multipart/signed',
    'message/sip',
    'message/sipfrag',
  ], 'folded Accept list');
});

torture('transports', 'varied and unknown transports in Via (RFC 4475 §3.1.1.10)', (tt) => {
  const req = validRequest(tt, 'transports');
  tt.same(req.via.map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  tt.same(req.via.map((v) => v.host), ['t1', 't2', 't3', 't4', 't5'].map((h) => `${h}.example.com`));
  tt.equal(req.callId, 'transports.kijh4akdnaqjkwendsasfdj');
});

torture('mpart01', 'a multipart body stays byte-exact (RFC 4475 §3.1.1.11)', (tt) => {
  const req = validRequest(tt, 'mpart01');
  const expected = bodyOf('mpart01');
  tt.equal(expected.length, 553);
  tt.ok(req.body.equals(expected), 'body bytes equal the file bytes');
  tt.ok(req.body.includes(0), 'the binary part with NUL is there');
  tt.equal(req.contentType, 'multipart/mixed');
  tt.ok(serialize(req).subarray(-553).equals(expected), 'serializer writes the same bytes');
});

torture('unreason', 'a UTF-8 reason phrase (RFC 4475 §3.1.1.12)', (tt) => {
  const res = response(tt, 'unreason');
  tt.equal(res.status, 200);
  const raw = loadRfc4475('unreason');
  const line = raw.subarray(0, raw.indexOf('\r\n')).toString('utf8');
  tt.equal(res.reason, line.slice('SIP/2.0 200 '.length));
  tt.ok(res.reason.startsWith('= 2**3 * 5**2 '));
  tt.match(res.reason, /[\u0400-\u04ff]/u, 'Cyrillic decoded as UTF-8');
  tt.equal(res.body.length, 154);
  tt.equal(res.cseq.method, 'INVITE');
});

torture('noreason', 'an empty reason phrase (RFC 4475 §3.1.1.13)', (tt) => {
  const res = response(tt, 'noreason');
  tt.equal(res.status, 100);
  tt.equal(res.reason, '');
  tt.equal(serialize(res).toString('latin1').split('\r\n')[0], 'SIP/2.0 100 ');
});

// ---- RFC 4475 §3.1.2: invalid messages ----

torture('badinv01', 'extraneous header field separators give 400 (RFC 4475 §3.1.2.1)', (tt) => {
  const err = rejectedByValidation(tt, 'badinv01');
  tt.match(err.message, /Via/);
  const req = requestOf(err) as SipRequest;
  tt.throws(() => req.contact, ParseError, "Contact ';;;;' is malformed too");
});

torture('clerr', 'Content-Length larger than the datagram gives 400 (RFC 4475 §3.1.2.2)', (tt) => {
  const err = rejectedByParser(tt, 'clerr', 400, true);
  tt.match(err.message, /Content-Length 9999/);
});

torture('ncl', 'negative Content-Length gives 400 (RFC 4475 §3.1.2.3)', (tt) => {
  const err = rejectedByParser(tt, 'ncl', 400, true);
  tt.match(err.message, /-999/);
});

torture('scalar02', 'overlarge scalar fields in a request give 400 (RFC 4475 §3.1.2.4)', (tt) => {
  const err = rejectedByValidation(tt, 'scalar02');
  const req = requestOf(err) as SipRequest;
  tt.throws(() => req.cseq, ParseError, 'CSeq >= 2^31');
  tt.throws(() => req.maxForwards, ParseError, 'Max-Forwards 300');
  tt.throws(() => req.expires, ParseError, 'Expires of 100 digits');
  tt.equal(req.contact[0]?.params.get('expires'), '280297596632815', 'the Contact parameter itself is just a token');
});

torture('scalarlg', 'a response with overlarge scalar fields is rejected (RFC 4475 §3.1.2.5)', (tt) => {
  const err = rejectedByParser(tt, 'scalarlg', 400, false);
  tt.match(err.message, /CSeq/);
});

torture('quotbal', 'an unterminated quoted display name gives 400 (RFC 4475 §3.1.2.6)', (tt) => {
  const err = rejectedByValidation(tt, 'quotbal');
  tt.match(err.message, /quoted/);
});

torture('ltgtruri', 'a Request-URI in <> gives 400 (RFC 4475 §3.1.2.7)', (tt) => {
  const err = rejectedByParser(tt, 'ltgtruri', 400, true);
  tt.equal(requestOf(err)?.uri, '<sip:user@example.com>');
});

torture('lwsruri', 'LWS inside the Request-URI gives 400 (RFC 4475 §3.1.2.8)', (tt) => {
  const err = rejectedByParser(tt, 'lwsruri', 400, true);
  tt.equal(requestOf(err)?.method, 'INVITE');
});

torture('lwsstart', 'several SP between Request-Line elements give 400 (RFC 4475 §3.1.2.9)', (tt) => {
  const err = rejectedByParser(tt, 'lwsstart', 400, true);
  tt.equal(requestOf(err)?.uri, 'sip:user@example.com');
});

torture('trws', 'SP at the end of the Request-Line gives 400 (RFC 4475 §3.1.2.10)', (tt) => {
  const err = rejectedByParser(tt, 'trws', 400, true);
  tt.equal(requestOf(err)?.version, 'SIP/2.0');
});

torture('escruri', 'escaped headers in the Request-URI give 400 and never become headers (RFC 4475 §3.1.2.11)', (tt) => {
  const err = rejectedByValidation(tt, 'escruri');
  const req = requestOf(err) as SipRequest;
  tt.equal(req.headers.has('route'), false, 'no Route header appears');
  tt.equal(req.requestUri.headers.get('Route'), '%3Csip:example.com%3E');
});

torture('baddate', 'a Date with a non-GMT zone gives 400 (RFC 4475 §3.1.2.12)', (tt) => {
  const err = rejectedByValidation(tt, 'baddate');
  tt.match(err.message, /Date/);
});

torture('regbadct', 'a URI with ? outside <> gives 400 (RFC 4475 §3.1.2.13)', (tt) => {
  const err = rejectedByValidation(tt, 'regbadct');
  tt.match(err.message, /<>/);
});

torture('badaspec', 'spaces within an addr-spec give 400 (RFC 4475 §3.1.2.14)', (tt) => {
  const err = rejectedByValidation(tt, 'badaspec');
  tt.match(err.message, /URI/);
  tt.equal((requestOf(err) as SipRequest).from.displayName, 'Bell, Alexander', 'the quoted From is fine');
});

torture('baddn', 'a non-token display name gives 400; so does the missing empty line (RFC 4475 §3.1.2.15)', (tt) => {
  // The file ends after the last header's CRLF: the header section is never closed (RFC 3261 §7).
  const err = rejectedByParser(tt, 'baddn', 400, true);
  tt.match(err.message, /empty line/);
  // With the empty line added, the display name itself is what is rejected.
  const fixed = Buffer.concat([loadRfc4475('baddn'), Buffer.from('\r\n')]);
  const req = parseMessage(fixed) as SipRequest;
  const err2 = catchParse(tt, () => validateRequest(req), 'baddn with empty line');
  tt.equal(err2.status, 400);
  tt.throws(() => req.from, ParseError, 'From: Bell, Alexander <...>');
  tt.throws(() => req.to, ParseError, 'To: Watson, Thomas <...>');
});

torture('badvers', 'an unknown SIP version gives 505 (RFC 4475 §3.1.2.16)', (tt) => {
  const err = rejectedByParser(tt, 'badvers', 505, true);
  tt.equal(requestOf(err)?.version, 'SIP/7.0');
  tt.equal(createResponse(requestOf(err) as SipRequest, 505).version, 'SIP/2.0');
});

torture('mismatch01', 'CSeq method not matching the Request-Line gives 400 (RFC 4475 §3.1.2.17)', (tt) => {
  const err = rejectedByValidation(tt, 'mismatch01');
  tt.match(err.message, /CSeq method INVITE/);
});

torture('mismatch02', 'unknown method with CSeq mismatch parses cleanly, validation gives 400 (RFC 4475 §3.1.2.18)', (tt) => {
  const err = rejectedByValidation(tt, 'mismatch02');
  const req = requestOf(err) as SipRequest;
  tt.equal(req.method, 'NEWMETHOD', 'the UA can still see the unknown method and answer 501');
  tt.equal(req.cseq.method, 'INVITE');
  tt.equal(req.contentType, 'application/sdp');
  tt.equal(req.body.length, 138);
});

torture('bigcode', 'an overlarge response code is rejected (RFC 4475 §3.1.2.19)', (tt) => {
  rejectedByParser(tt, 'bigcode', 400, false);
});

// ---- RFC 4475 §3.2-3.4: transaction and application layer ----

torture('badbranch', 'a branch that is only the magic cookie parses (RFC 4475 §3.2.1)', (tt) => {
  const req = validRequest(tt, 'badbranch');
  tt.equal(viaBranch(req.topVia), 'z9hG4bK');
});

torture('insuf', 'missing To, From, Call-ID give 400 without breaking the parser (RFC 4475 §3.3.1)', (tt) => {
  const err = rejectedByValidation(tt, 'insuf');
  tt.match(err.message, /missing/);
  const req = requestOf(err) as SipRequest;
  tt.ok(canRespond(req), 'a 400 can still be built: it has a Via and goes back on the flow');
  tt.equal(req.body.length, 152);
});

torture('unkscm', 'an unknown Request-URI scheme parses (RFC 4475 §3.3.2)', (tt) => {
  const req = validRequest(tt, 'unkscm');
  tt.equal(req.requestUri.scheme, 'nobodyknowsthisscheme');
  tt.equal(req.requestUri.opaque, 'totallyopaquecontent');
});

torture('novelsc', 'a known but atypical Request-URI scheme parses (RFC 4475 §3.3.3)', (tt) => {
  const req = validRequest(tt, 'novelsc');
  tt.equal(req.requestUri.scheme, 'soap.beep');
  tt.equal(req.requestUri.opaque, '//192.0.2.103:3002');
});

torture('unksm2', 'unknown URI schemes in header fields parse (RFC 4475 §3.3.4)', (tt) => {
  const req = validRequest(tt, 'unksm2');
  tt.equal(req.to.uri.scheme, 'isbn');
  tt.equal(req.to.uri.opaque, '2983792873');
  tt.equal(req.from.uri.scheme, 'http');
  tt.equal(req.from.params.get('tag'), '3234233');
  tt.equal(req.contact[0]?.uri.scheme, 'name');
});

torture('bext01', 'Require and Proxy-Require are exposed for 420 (RFC 4475 §3.3.5)', (tt) => {
  const req = validRequest(tt, 'bext01');
  tt.same(req.require, ['nothingSupportsThis', 'nothingSupportsThisEither']);
  tt.same(req.proxyRequire, ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
  tt.equal(req.topVia.transport, 'TLS');
});

torture('invut', 'an unknown Content-Type parses for 415 (RFC 4475 §3.3.6)', (tt) => {
  const req = validRequest(tt, 'invut');
  tt.equal(req.contentType, 'application/unknownformat');
  tt.equal(req.body.length, 40);
});

torture('regaut01', 'an unknown authorization scheme parses for 401 (RFC 4475 §3.3.7)', (tt) => {
  const req = validRequest(tt, 'regaut01');
  tt.equal(req.authorization?.scheme, 'NoOneKnowsThisScheme');
  tt.equal(req.authorization?.params.get('opaque-data'), 'here');
  tt.equal(req.contentLength, 0, "'Content-Length:0' without space");
});

torture('multi01', 'several values in single-value fields give 400 (RFC 4475 §3.3.8)', (tt) => {
  const err = rejectedByValidation(tt, 'multi01');
  tt.match(err.message, /more than one/);
});

torture('mcl01', 'several Content-Length values give 400 (RFC 4475 §3.3.9)', (tt) => {
  const err = rejectedByValidation(tt, 'mcl01');
  tt.match(err.message, /Content-Length/);
});

torture('bcast', 'a 200 with a broadcast Via parses (RFC 4475 §3.3.10)', (tt) => {
  const res = response(tt, 'bcast');
  tt.equal(res.status, 200);
  tt.equal(res.via[1]?.host, '255.255.255.255');
});

torture('zeromf', 'Max-Forwards 0 parses (RFC 4475 §3.3.11)', (tt) => {
  const req = validRequest(tt, 'zeromf');
  tt.equal(req.maxForwards, 0);
});

torture('cparam01', 'a parameter after an addr-spec belongs to the header (RFC 4475 §3.3.12)', (tt) => {
  const req = validRequest(tt, 'cparam01');
  const c = req.contact[0];
  tt.equal(c?.uri.user, '+19725552222');
  tt.equal(c?.uri.params.size, 0);
  tt.same([...(c?.params ?? [])], [['unknownparam', null]]);
});

torture('cparam02', 'a parameter inside <> belongs to the URI (RFC 4475 §3.3.13)', (tt) => {
  const req = validRequest(tt, 'cparam02');
  const c = req.contact[0];
  tt.same([...(c?.uri.params ?? [])], [['unknownparam', null]]);
  tt.equal(c?.params.size, 0);
});

torture('regescrt', 'an escaped header in a Contact URI is kept (RFC 4475 §3.3.14)', (tt) => {
  const req = validRequest(tt, 'regescrt');
  tt.equal(req.contact[0]?.uri.headers.get('Route'), '%3Csip:sip.example.com%3E', "compact 'M'");
  tt.equal(req.headers.has('route'), false);
});

torture('sdp01', 'an unacceptable Accept is exposed for 406 (RFC 4475 §3.3.15)', (tt) => {
  const req = validRequest(tt, 'sdp01');
  tt.same(req.accept, ['text/nobodyknowsthis']);
  tt.equal(req.contentType, 'application/sdp');
});

torture('inv2543', 'an RFC 2543 INVITE parses (RFC 4475 §3.4.1)', (tt) => {
  const req = validRequest(tt, 'inv2543');
  tt.equal(viaBranch(req.topVia), undefined, 'no branch');
  tt.equal(req.maxForwards, undefined, 'no Max-Forwards');
  tt.equal(req.contentLength, undefined, 'no Content-Length: the body is the rest of the datagram');
  tt.ok(req.body.equals(bodyOf('inv2543')));
  tt.equal(req.recordRoute[0]?.uri.params.get('maddr'), 'ss1.example.com');
  tt.equal(req.from.uri.params.get('user'), 'phone', 'inside <> it is a URI parameter');
  tt.equal(req.to.params.get('user'), 'phone', 'after an addr-spec it is a header parameter (RFC 3261 §20.10)');
});

t.test('every RFC 4475 file has its own test', async (tt) => {
  const names = rfc4475Names();
  tt.equal(names.length, 49);
  tt.same(names.filter((n) => !covered.has(n)), []);
});

export type { SipMessage };
