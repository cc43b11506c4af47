import t from 'tap';
import { Headers } from '../../src/sip/message/headers.js';
import { SipResponse } from '../../src/sip/message/message.js';
import type { ClientResult } from '../../src/sip/transaction/non-invite-client-transaction.js';
import { TCP, UDP } from '../../src/sip/transport/transport-descriptor.js';
import { judgeNotifyResult } from '../../src/subscriptions/notify-verdict.js';

const answered = (status: number): ClientResult => ({
  kind: 'response',
  response: new SipResponse(status, 'x', new Headers()),
  flow: { protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '10.0.0.2', remotePort: 5060 },
});

t.test('every 2xx to a NOTIFY is success (RFC 6665 §4.2.2)', async (t) => {
  for (const s of [200, 202, 299]) t.same(judgeNotifyResult(answered(s), UDP), { kind: 'ok', status: s });
});

t.test('481 to a NOTIFY removes the subscription on any transport (RFC 6665 §4.2.2)', async (t) => {
  t.same(judgeNotifyResult(answered(481), UDP), { kind: 'remove', reason: 'gone', failure: 481 });
  t.same(judgeNotifyResult(answered(481), TCP), { kind: 'remove', reason: 'gone', failure: 481 });
});

t.test('408, timeout and transport errors are strikes over UDP and removals over TCP (sip-behaviour.md)', async (t) => {
  t.same(judgeNotifyResult(answered(408), UDP), { kind: 'strike', failure: 408 });
  t.same(judgeNotifyResult({ kind: 'timeout' }, UDP), { kind: 'strike', failure: 'timeout' });
  t.same(judgeNotifyResult({ kind: 'transport-error', error: new Error('x') }, UDP), { kind: 'strike', failure: 'transport-error' });
  t.same(judgeNotifyResult(answered(408), TCP), { kind: 'remove', reason: 'unreachable', failure: 408 });
  t.same(judgeNotifyResult({ kind: 'timeout' }, TCP), { kind: 'remove', reason: 'unreachable', failure: 'timeout' });
});

t.test('any other final failure removes the subscription (sip-behaviour.md)', async (t) => {
  for (const s of [302, 400, 404, 415, 480, 500, 503, 603]) {
    t.same(judgeNotifyResult(answered(s), UDP), { kind: 'remove', reason: 'rejected', failure: s }, String(s));
  }
});
