import t from 'tap';
import { Headers } from '../../src/sip/message/headers.js';
import { SipResponse } from '../../src/sip/message/message.js';
import type { ClientResult } from '../../src/sip/transaction/non-invite-client-transaction.js';
import { TCP, UDP, type TransportDescriptor } from '../../src/sip/transport/transport-descriptor.js';
import { TransportError } from '../../src/sip/transport/transport-error.js';
import { judgeNotifyResult, type NotifyAttempt } from '../../src/subscriptions/notify-verdict.js';

const answered = (status: number): ClientResult => ({
  kind: 'response',
  response: new SipResponse(status, 'x', new Headers()),
  flow: { protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '10.0.0.2', remotePort: 5060 },
});

/** A NOTIFY to a watcher that has answered before, with a fallback (a trusted peer's), unless told otherwise. */
const on = (transport: TransportDescriptor, over: Partial<NotifyAttempt> = {}): NotifyAttempt => ({
  transport, flowOnly: false, answeredBefore: true, ...over,
});

t.test('every 2xx to a NOTIFY is success (RFC 6665 §4.2.2)', async (t) => {
  for (const s of [200, 202, 299]) t.same(judgeNotifyResult(answered(s), on(UDP)), { kind: 'ok', status: s });
});

t.test('481 to a NOTIFY removes the subscription on any transport (RFC 6665 §4.2.2)', async (t) => {
  t.same(judgeNotifyResult(answered(481), on(UDP)), { kind: 'remove', reason: 'gone', failure: 481 });
  t.same(judgeNotifyResult(answered(481), on(TCP)), { kind: 'remove', reason: 'gone', failure: 481 });
});

t.test('408, timeout and transport errors are strikes over UDP and removals over TCP (sip-behaviour.md)', async (t) => {
  t.same(judgeNotifyResult(answered(408), on(UDP)), { kind: 'strike', failure: 408, reason: 'unreachable' });
  t.same(judgeNotifyResult({ kind: 'timeout' }, on(UDP)), { kind: 'strike', failure: 'timeout', reason: 'unreachable' });
  t.same(judgeNotifyResult({ kind: 'transport-error', error: new Error('x') }, on(UDP)), { kind: 'strike', failure: 'transport-error', reason: 'unreachable' });
  t.same(judgeNotifyResult(answered(408), on(TCP)), { kind: 'remove', reason: 'unreachable', failure: 408 });
  t.same(judgeNotifyResult({ kind: 'timeout' }, on(TCP)), { kind: 'remove', reason: 'unreachable', failure: 'timeout' });
});

t.test('401 and 407 to a NOTIFY are strikes on any transport, not removals (security.md §2.7, Cisco phones)', async (t) => {
  for (const transport of [UDP, TCP]) {
    for (const s of [401, 407]) {
      t.same(judgeNotifyResult(answered(s), on(transport)), { kind: 'strike', failure: s, reason: 'rejected' }, `${transport.name} ${s}`);
      t.same(judgeNotifyResult(answered(s), on(transport, { answeredBefore: false })), { kind: 'strike', failure: s, reason: 'rejected' }, 'to the first NOTIFY too');
    }
  }
});

t.test('a UDP timeout of a watcher that never answered removes it at once: retransmissions to it are bounded (RFC 6665 §4.2.2, issue 19)', async (t) => {
  const first = on(UDP, { answeredBefore: false });
  t.same(judgeNotifyResult({ kind: 'timeout' }, first), { kind: 'remove', reason: 'unreachable', failure: 'timeout' });
  t.same(judgeNotifyResult({ kind: 'transport-error', error: new Error('x') }, first), { kind: 'remove', reason: 'unreachable', failure: 'transport-error' });
  t.same(judgeNotifyResult(answered(408), first), { kind: 'strike', failure: 408, reason: 'unreachable' }, 'a 408 is an answer: a strike as before');
});

t.test('an untrusted watcher whose connection is gone waits for its refresh: no strike, no removal (RFC 5626 §4.2, issue 19)', async (t) => {
  const closed: ClientResult = { kind: 'transport-error', error: new TransportError('flow-closed', 'gone') };
  t.same(judgeNotifyResult(closed, on(TCP, { flowOnly: true })), { kind: 'wait', failure: 'transport-error' });
  t.same(judgeNotifyResult(closed, on(TCP, { flowOnly: true, answeredBefore: false })), { kind: 'wait', failure: 'transport-error' });
  t.same(judgeNotifyResult(closed, on(TCP)), { kind: 'remove', reason: 'unreachable', failure: 'transport-error' },
    'with a fallback (a trusted peer) the error means the fallback failed too: removed as before');
  const other: ClientResult = { kind: 'transport-error', error: new TransportError('send-failed', 'x') };
  t.same(judgeNotifyResult(other, on(TCP, { flowOnly: true })), { kind: 'remove', reason: 'unreachable', failure: 'transport-error' }, 'another error: as before');
});

t.test('any other final failure removes the subscription (sip-behaviour.md)', async (t) => {
  for (const s of [302, 400, 404, 415, 480, 500, 503, 603]) {
    t.same(judgeNotifyResult(answered(s), on(UDP)), { kind: 'remove', reason: 'rejected', failure: s }, String(s));
  }
});
