import t from 'tap';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { formatNameAddr } from '../../../src/sip/message/name-addr.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import { formatUri } from '../../../src/sip/message/uri.js';
import { viaBranch } from '../../../src/sip/message/via.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import { validateRequest } from '../../../src/sip/parser/validate.js';
import { loadAllCaptures, loadCapture, realClientFiles, splitCapture } from '../../support/sip-fixtures.js';

/** A typed getter's value, or the ParseError message: both sides of a round trip must agree either way. */
function field<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ParseError) return `ParseError: ${err.message}`;
    throw err;
  }
}

/** The fields the presence server reads, in comparable form. */
function fields(req: SipRequest): Record<string, unknown> {
  return {
    method: req.method,
    uri: req.uri,
    requestUri: field(() => formatUri(req.requestUri)),
    from: field(() => formatNameAddr(req.from)),
    fromTag: field(() => req.from.params.get('tag')),
    to: field(() => formatNameAddr(req.to)),
    toTag: field(() => req.to.params.get('tag')),
    callId: field(() => req.callId),
    cseq: field(() => req.cseq),
    event: field(() => (req.event ? { package: req.event.package, id: req.event.id, params: [...req.event.params] } : undefined)),
    expires: field(() => req.expires),
    contact: field(() => req.contact.map(formatNameAddr)),
    viaBranch: field(() => viaBranch(req.topVia)),
    vias: field(() => req.via.length),
    accept: field(() => req.accept),
    contentType: field(() => req.contentType),
    sipIfMatch: field(() => req.sipIfMatch),
    authorization: field(() => (req.authorization ? [req.authorization.scheme, ...req.authorization.params] : undefined)),
    body: req.body.toString('base64'),
  };
}

const captures = loadAllCaptures();
const TRUNCATED = ['baresip-subscribe.txt:66', 'sipp-subscribe.txt:144'];

t.test('the captures split into 52 messages and 3 skipped fragments', async (t) => {
  t.equal(realClientFiles().length, 12);
  t.equal(captures.messages.length, 52);
  // baresip: a Via... block after '# --- at shutdown:'; kamailio: the 'NOTIFY-IN event=...' log lines;
  // linphonec: a stray '--' line.
  t.equal(captures.skipped, 3);
  t.equal(loadCapture('baresip-subscribe.txt').skipped, 1);
  t.equal(loadCapture('kamailio-pua-subscribe.txt').skipped, 1);
  t.equal(loadCapture('linphonec-subscribe.txt').skipped, 1);
  const split = splitCapture('# c\nVia: SIP/2.0/UDP h\n\nOPTIONS sip:a@b SIP/2.0\nCall-ID: x\n', 'inline');
  t.equal(split.skipped, 1, 'a block starting with a header is not a message');
  t.equal(split.messages.length, 1);
  t.equal(split.messages[0]?.bytes.toString(), 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n', 'LF becomes CRLF');
});

for (const cap of captures.messages) {
  const where = `${cap.file}:${cap.line}`;
  t.test(`${where} parses and round-trips through the serializer (RFC 3261 §7)`, async (t) => {
    const msg = parseMessage(cap.bytes);
    t.ok(msg.isRequest(), 'a request');
    const req = msg as SipRequest;
    if (TRUNCATED.includes(where)) {
      // The capture kept only the start line and Via of these: they parse, and validation refuses them.
      t.throws(() => validateRequest(req), { status: 400, message: /missing From/ });
    } else {
      t.doesNotThrow(() => validateRequest(req), 'passes validateRequest');
      t.type(req.callId, 'string');
      t.ok(req.from.params.get('tag'), 'From has a tag');
      if (req.method !== 'REGISTER') t.ok(req.event, 'SUBSCRIBE and PUBLISH carry an Event');
    }
    const wire = serialize(req);
    const again = parseMessage(wire, { datagram: false });
    t.ok(again.isRequest());
    t.same(fields(again as SipRequest), fields(req), 'same fields after serialize + parse');
    t.ok(again.body.equals(req.body), 'body bytes unchanged');
    t.ok(serialize(again).equals(wire), 'serialising again gives the same bytes');
  });
}

t.test('client quirks seen in the captures are understood', async (t) => {
  const all = captures.messages.map((c) => ({ where: `${c.file}:${c.line}`, req: parseMessage(c.bytes) as SipRequest }));
  const find = (where: string): SipRequest => {
    const hit = all.find((m) => m.where === where);
    if (hit === undefined) throw new Error(`no message at ${where}`);
    return hit.req;
  };
  const pjsua = find('pjsua-subscribe.txt:4');
  t.equal(pjsua.from.uri.user, '1001', 'From without angle brackets');
  t.equal(pjsua.from.params.get('tag'), '9c4ea8a6-8bc8-45eb-b902-9befb0b9e9c5');
  t.equal(pjsua.contentLength, 0, "padded 'Content-Length:  0'");
  t.equal(pjsua.route[0]?.uri.params.has('lr'), true);
  t.same(pjsua.allowEvents, ['presence', 'dialog', 'message-summary', 'refer']);
  const npm = find('npm-sip-subscribe.txt:4');
  t.equal(npm.to.uri.user, '1002', "padded 'To:  <sip:...>'");
  t.equal(npm.topVia.params.get('rport'), null, 'empty rport (RFC 3581)');
  const linphone = find('linphonec-subscribe.txt:4');
  t.equal(linphone.contentLength, undefined, 'UDP request without Content-Length');
  t.equal(linphone.contact[0]?.displayName, 'Linphone 1001');
  t.equal(linphone.contact[0]?.params.get('+sip.instance'), '"<urn:uuid:b1a7dc09-0235-0087-a19f-acf1691b868f>"', '<> inside a quoted parameter');
  t.equal(linphone.contact[0]?.params.get('expires'), '3600');
  t.same(linphone.supported, ['replaces', 'outbound', 'gruu']);
  const sippAuth = find('sipp-subscribe.txt:125');
  t.equal(sippAuth.authorization?.scheme, 'Digest');
  t.equal(sippAuth.authorization?.params.get('uri'), 'sip:sip:1002@127.0.0.1:5062', 'digest uri that is not the Request-URI');
  t.equal(sippAuth.authorization?.params.get('nc'), '00000001');
  const sippPublish = find('sipp-subscribe.txt:148');
  t.equal(sippPublish.body.length, 435, "'Content-Length:   435'");
  t.equal(sippPublish.contentType, 'application/dialog-info+xml');
  const kam = find('kamailio-pua-publish.txt:62');
  t.equal(kam.sipIfMatch, 'etag-f8rvupja');
  t.equal(kam.body.length, 593);
  t.equal(kam.expires, 301);
  const baresip = find('baresip-publish.txt:30');
  t.equal(baresip.authorization?.params.get('response'), 'cd476c9d11d0deb90030909f0c1267eb');
  t.equal(baresip.authorization?.params.get('qop'), 'auth');
  const jssip = find('jssip-subscribe.txt:4');
  t.equal(jssip.topVia.host, 'pgk5ggtv8tod.invalid', '.invalid sent-by host');
  t.equal(jssip.contact[0]?.uri.params.get('transport'), 'ws');
  t.same(jssip.accept, ['application/dialog-info+xml']);
});
