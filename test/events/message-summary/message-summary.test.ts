import t from 'tap';
import { createDefaultRegistry } from '../../../src/events/default-registry.js';
import { parseMessageSummary, type MessageSummaryState } from '../../../src/events/message-summary/index.js';
import type { MailboxCounts, Publication } from '../../../src/events/event-package.js';
import { ENTITY, input, pub } from '../helpers/dialog-docs.js';
import { bodyError } from '../helpers/body-error.js';

const TYPE = 'application/simple-message-summary';
const pkg = createDefaultRegistry().get('message-summary')!;

function state(publications: Publication[] = [], mailbox?: MailboxCounts): MessageSummaryState {
  return pkg.aggregate({ ...input({ 'message-summary': publications }), mailbox }) as MessageSummaryState;
}
function body(s: MessageSummaryState, messageAccount?: string): string {
  return pkg.render(s, { entity: ENTITY, version: 0, ...(messageAccount ? { messageAccount } : {}) }).toString('utf8');
}

t.test('mailbox counts render as RFC 3842 §5.2 lines with CRLF line ends', async (t) => {
  const s = state([], { newMessages: 2, oldMessages: 8, urgentNew: 1, urgentOld: 0 });
  t.equal(body(s, 'sip:*97@example.com'), 'Messages-Waiting: yes\r\nMessage-Account: sip:*97@example.com\r\nVoice-Message: 2/8 (1/0)\r\n');
});

t.test('no new messages means Messages-Waiting: no, and the Voice-Message line stays (RFC 3842 §5.2)', async (t) => {
  t.equal(body(state([], { newMessages: 0, oldMessages: 3, urgentNew: 0, urgentOld: 1 })), `Messages-Waiting: no\r\nMessage-Account: ${ENTITY}\r\nVoice-Message: 0/3 (0/1)\r\n`);
  t.equal(body(state()), `Messages-Waiting: no\r\nMessage-Account: ${ENTITY}\r\nVoice-Message: 0/0 (0/0)\r\n`, 'nothing known');
});

t.test('an urgent new message alone lights the lamp (RFC 3842 §5.2)', async (t) => {
  t.match(body(state([], { newMessages: 0, oldMessages: 0, urgentNew: 1, urgentOld: 0 })), /^Messages-Waiting: yes\r\n/);
});

t.test('every line ends in CRLF and no bare LF appears (RFC 3842 §5.2)', async (t) => {
  const text = body(state([], { newMessages: 1, oldMessages: 0, urgentNew: 0, urgentOld: 0 }));
  t.ok(text.endsWith('\r\n'));
  t.equal(text.split('\r\n').length - 1, text.split('\n').length - 1);
});

t.test('a published summary is parsed with account, classes and optional urgent counts (RFC 3842 §5.2)', async (t) => {
  const doc = parseMessageSummary(
    Buffer.from('Messages-Waiting: YES\r\nMessage-Account: sip:alice@vm.example.com\r\nVoice-Message: 4/8 (1/2)\r\nFax-Message : 2 / 0\r\n\r\nTo: <alice@example.com>\r\n'),
    TYPE,
  );
  t.same(doc, {
    format: 'simple-message-summary',
    waiting: true,
    account: 'sip:alice@vm.example.com',
    summaries: [
      { context: 'voice-message', newMessages: 4, oldMessages: 8, urgentNew: 1, urgentOld: 2 },
      { context: 'fax-message', newMessages: 2, oldMessages: 0, urgentNew: 0, urgentOld: 0 },
    ],
  });
  t.same(parseMessageSummary(Buffer.from('Messages-Waiting: no\n'), TYPE), { format: 'simple-message-summary', waiting: false, summaries: [] }, 'LF-only accepted');
});

t.test('without mailbox counts the newest publication is used; mailbox counts win over it (RFC 3903 §4, RFC 3842 §5.2)', async (t) => {
  const older = parseMessageSummary(Buffer.from('Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n'), TYPE);
  const newer = parseMessageSummary(Buffer.from('Messages-Waiting: no\r\nMessage-Account: sip:vm@x\r\nVoice-Message: 0/5\r\nFax-Message: 0/1\r\n'), TYPE);
  const pubs = [pub('b', 2, newer), pub('a', 1, older)];
  t.equal(body(state(pubs)), 'Messages-Waiting: no\r\nMessage-Account: sip:vm@x\r\nVoice-Message: 0/5 (0/0)\r\nFax-Message: 0/1 (0/0)\r\n');
  t.equal(body(state(pubs), 'sip:*98@x'), 'Messages-Waiting: no\r\nMessage-Account: sip:*98@x\r\nVoice-Message: 0/5 (0/0)\r\nFax-Message: 0/1 (0/0)\r\n', 'configured account wins');
  t.equal(body(state(pubs, { newMessages: 3, oldMessages: 0, urgentNew: 0, urgentOld: 0 })), `Messages-Waiting: yes\r\nMessage-Account: ${ENTITY}\r\nVoice-Message: 3/0 (0/0)\r\n`);
});

t.test('message-summary PUBLISH: wrong type 415; missing or malformed Messages-Waiting 400 (RFC 3903 §6, RFC 3842 §5.2)', async (t) => {
  const ok = Buffer.from('Messages-Waiting: yes\r\n');
  t.throws(() => pkg.parsePublication(ok, 'text/plain'), bodyError(415, /simple-message-summary/));
  t.throws(() => pkg.parsePublication(Buffer.from('Voice-Message: 1/0\r\n'), TYPE), bodyError(400, /no Messages-Waiting/));
  t.throws(() => pkg.parsePublication(Buffer.from(''), TYPE), bodyError(400, /no Messages-Waiting/));
  t.throws(() => pkg.parsePublication(Buffer.from('Messages-Waiting: maybe\r\n'), TYPE), bodyError(400, /yes or no/));
  t.throws(() => pkg.parsePublication(Buffer.from('Messages-Waiting yes\r\n'), TYPE), bodyError(400, /without a colon/));
  t.throws(() => pkg.parsePublication(Buffer.from('Messages-Waiting: yes\r\nVoice-Message: 1-0\r\n'), TYPE), bodyError(400, /new\/old/));
  t.throws(() => pkg.parsePublication(Buffer.from('<presence/>'), TYPE), bodyError(400, /colon/));
  t.equal(pkg.parsePublication(Buffer.from('Messages-Waiting: yes\r\nX-Extension: whatever\r\n'), 'Application/Simple-Message-Summary').format, 'simple-message-summary');
});

t.test('an account with CR or LF cannot break the body into extra lines (RFC 3842 §5.2)', async (t) => {
  t.equal(body(state(), 'sip:vm@x\r\nMessages-Waiting: yes'), `Messages-Waiting: no\r\nMessage-Account: sip:vm@xMessages-Waiting: yes\r\nVoice-Message: 0/0 (0/0)\r\n`);
});
