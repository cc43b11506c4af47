import t from 'tap';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import { validateRequest } from '../../../src/sip/parser/validate.js';

const BASE = [
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1',
  'From: <sip:a@example.com>;tag=1',
  'To: <sip:b@example.com>',
  'Call-ID: c1',
  'CSeq: 1 SUBSCRIBE',
  'Event: dialog',
  'Expires: 60',
];

function req(lines: string[]): SipRequest {
  return parseMessage(Buffer.from(['SUBSCRIBE sip:b@example.com SIP/2.0', ...lines, '', ''].join('\r\n'))) as SipRequest;
}

t.test('a request with one of each mandatory header passes (RFC 3261 §8.1.1)', async (t) => {
  t.doesNotThrow(() => validateRequest(req(BASE)));
});

t.test('each missing mandatory header is named, the first missing in Via/From/To/Call-ID/CSeq order (RFC 3261 §8.1.1)', async (t) => {
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    const lines = BASE.filter((l) => !l.startsWith(`${name}:`));
    t.throws(() => validateRequest(req(lines)), { status: 400, message: `missing ${name} header` }, name);
  }
  const neither = BASE.filter((l) => !l.startsWith('To:') && !l.startsWith('CSeq:'));
  t.throws(() => validateRequest(req(neither)), { message: 'missing To header' });
});

t.test('a missing mandatory header is reported before a repeated one (RFC 3261 §7.3.1, RFC 4475 §3.3.8)', async (t) => {
  const lines = [...BASE.filter((l) => !l.startsWith('Call-ID:')), 'Expires: 61'];
  t.throws(() => validateRequest(req(lines)), { message: 'missing Call-ID header' });
});

t.test('headers allowed once are rejected when repeated, compact forms included (RFC 3261 §7.3.1, §7.3.3)', async (t) => {
  for (const [extra, name] of [
    ['f: <sip:x@example.com>;tag=2', 'From'],
    ['Max-Forwards: 70\r\nMax-Forwards: 69', 'Max-Forwards'],
    ['o: presence', 'Event'],
    ['Expires: 30', 'Expires'],
  ] as const) {
    const err = t.throws(() => validateRequest(req([...BASE, extra])), { status: 400, message: `more than one ${name} header` }, name);
    t.ok(err instanceof ParseError);
  }
  // Several repeated: the first in the list order (From before Expires) is named.
  t.throws(() => validateRequest(req([...BASE, 'Expires: 1', 'From: <sip:y@example.com>;tag=3'])), { message: 'more than one From header' });
});

t.test('list headers may repeat (RFC 3261 §7.3.1)', async (t) => {
  t.doesNotThrow(() => validateRequest(req([...BASE, 'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2', 'Accept: a/b', 'Accept: c/d'])));
});
