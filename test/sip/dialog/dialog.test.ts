import t from 'tap';
import { createUasDialog, remoteTargetOf } from '../../../src/sip/dialog/create-uas-dialog.js';
import { dialogId, idOfDialog, type DialogState } from '../../../src/sip/dialog/dialog-state.js';
import { createInDialogRequest, dialogNextHop, routeRequest } from '../../../src/sip/dialog/in-dialog-request.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';

function subscribe(extra: string[], contact: string | null = '<sip:2001@192.0.2.7:5062;ob>'): SipRequest {
  const lines = [
    'SUBSCRIBE sip:1001@example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKx1',
    'Max-Forwards: 70',
    'From: "Desk" <sip:2001@example.com>;tag=ph1',
    'To: <sip:1001@example.com>',
    'Call-ID: c1@192.0.2.7',
    'CSeq: 17 SUBSCRIBE',
    ...(contact === null ? [] : [`Contact: ${contact}`]),
    'Event: dialog',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}

const base: DialogState = {
  callId: 'c1@192.0.2.7',
  localTag: 'ours',
  remoteTag: 'ph1',
  localUri: 'sip:1001@example.com',
  remoteUri: 'sip:2001@example.com',
  remoteTarget: 'sip:2001@192.0.2.7:5062;ob',
  routeSet: [],
  localCseq: 4,
  remoteCseq: 17,
};

t.test('a UAS dialog takes Call-ID, both tags, URIs, CSeq and the Contact as remote target (RFC 3261 §12.1.1)', async (t) => {
  const d = createUasDialog(subscribe([]), 'ours');
  t.same(d, {
    callId: 'c1@192.0.2.7',
    localTag: 'ours',
    remoteTag: 'ph1',
    localUri: 'sip:1001@example.com',
    remoteUri: 'sip:2001@example.com',
    remoteTarget: 'sip:2001@192.0.2.7:5062;ob',
    routeSet: [],
    localCseq: 0,
    remoteCseq: 17,
  });
  t.same(JSON.parse(JSON.stringify(d)), d, 'plain and serialisable');
});

t.test('a UAS route set is the Record-Route URIs in the order received, parameters kept (RFC 3261 §12.1.1)', async (t) => {
  const d = createUasDialog(subscribe(['Record-Route: <sip:p1.example.com;lr;ftag=a>, <sip:p2.example.com;lr>', 'Record-Route: <sip:p3.example.com:5070;lr;transport=tcp>']), 'x');
  t.same(d.routeSet, ['sip:p1.example.com;lr;ftag=a', 'sip:p2.example.com;lr', 'sip:p3.example.com:5070;lr;transport=tcp']);
});

t.test('a dialog-creating request without Contact, or with Contact *, cannot make a dialog (RFC 3261 §8.1.1.8)', async (t) => {
  t.throws(() => createUasDialog(subscribe([], null), 'x'), ParseError);
  t.throws(() => remoteTargetOf(subscribe([], '*')), ParseError);
});

t.test('a missing From tag gives an empty remote tag (RFC 3261 §12.1.1, RFC 2543 compatibility)', async (t) => {
  const req = subscribe([]);
  req.headers.set('From', '<sip:2001@example.com>');
  t.equal(createUasDialog(req, 'x').remoteTag, '');
});

t.test('the dialog id joins Call-ID and both tags (RFC 3261 §12)', async (t) => {
  t.equal(dialogId('c@h', 'a', 'b'), 'c@h;a;b');
  t.equal(idOfDialog(base), 'c1@192.0.2.7;ours;ph1');
});

t.test('an in-dialog request without route set goes to the remote target with our tag in From and theirs in To (RFC 3261 §12.2.1.1)', async (t) => {
  const req = createInDialogRequest(base, 'NOTIFY', {
    contact: 'sip:10.0.0.1:5060',
    headers: [['Event', 'dialog']],
    contentType: 'application/dialog-info+xml',
    body: Buffer.from('<x/>'),
  });
  const wire = parseMessage(serialize(req)) as SipRequest;
  t.equal(wire.method, 'NOTIFY');
  t.equal(wire.uri, 'sip:2001@192.0.2.7:5062;ob');
  t.equal(wire.headers.has('route'), false);
  t.equal(wire.from.uri.user, '1001');
  t.equal(wire.from.params.get('tag'), 'ours');
  t.equal(wire.to.uri.user, '2001');
  t.equal(wire.to.params.get('tag'), 'ph1');
  t.equal(wire.callId, 'c1@192.0.2.7');
  t.same(wire.cseq, { seq: 4, method: 'NOTIFY' });
  t.equal(wire.headers.get('contact'), '<sip:10.0.0.1:5060>');
  t.equal(wire.headers.get('content-type'), 'application/dialog-info+xml');
  t.equal(wire.headers.get('max-forwards'), '70');
  t.equal(wire.body.toString(), '<x/>');
});

t.test('with a loose-routing route set the Request-URI is the remote target and Route is the route set (RFC 3261 §12.2.1.1)', async (t) => {
  const d = { ...base, routeSet: ['sip:p1.example.com;lr', 'sip:p2.example.com;lr'] };
  const req = createInDialogRequest(d, 'NOTIFY');
  t.equal(req.uri, base.remoteTarget);
  t.same(req.headers.getAll('route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  t.equal(dialogNextHop(d)!.host, 'p1.example.com', 'the first Route is the next hop');
  t.equal(dialogNextHop(base)!.host, '192.0.2.7', 'without route set, the remote target');
});

t.test('with a strict router first, it goes in the Request-URI and the remote target ends the Route (RFC 3261 §12.2.1.1)', async (t) => {
  const r = routeRequest({ routeSet: ['sip:old.example.com', 'sip:p2.example.com;lr'], remoteTarget: base.remoteTarget });
  t.equal(r.requestUri, 'sip:old.example.com');
  t.same(r.routes, ['sip:p2.example.com;lr', base.remoteTarget]);
});

t.test('URI headers and the method parameter are removed from the Request-URI (RFC 3261 §19.1.1 Table 1)', async (t) => {
  const r = routeRequest({ routeSet: [], remoteTarget: 'sip:2001@192.0.2.7;method=INVITE;ob?Subject=x' });
  t.equal(r.requestUri, 'sip:2001@192.0.2.7;ob');
});

t.test('an empty remote tag leaves the To tag out (RFC 3261 §12.2.1.1)', async (t) => {
  const req = createInDialogRequest({ ...base, remoteTag: '' }, 'NOTIFY');
  t.equal(req.to.params.has('tag'), false);
});

t.test('a remote target read twice in a row is parsed once; another target, or one that does not parse, is read afresh (RFC 3261 §12.2.1.1)', async (t) => {
  const first = dialogNextHop(base);
  t.equal(dialogNextHop(base), first, 'the same parsed URI serves the next hop and the Request-URI of one NOTIFY');
  const other = dialogNextHop({ routeSet: [], remoteTarget: 'sip:2002@192.0.2.8:5070' });
  t.equal(other!.host, '192.0.2.8');
  t.equal(other!.port, 5070);
  t.equal(dialogNextHop({ routeSet: [], remoteTarget: 'not a uri' }), undefined, 'a target that does not parse has no next hop');
  t.equal(dialogNextHop({ routeSet: [], remoteTarget: 'not a uri' }), undefined, 'also when asked again');
  const again = dialogNextHop(base);
  t.not(again, first, 'after another target, the first is parsed again');
  t.equal(again!.host, first!.host);
});
