import type { SippStats } from './sipp-stats.js';

/**
 * What counts against the held subscriptions while a measurement runs, from the held sipp's statistics
 * (hold-refresh.xml): failed calls, receive timeouts, dead-call and out-of-call messages, and retransmissions in the
 * refresh part of the scenario (the refresh SUBSCRIBE re-sent by sipp, its 2xx re-sent by the server; the scenario leaves the refresh's NOTIFY
 * to sipp -aa, so that one is not counted here).
 * The fill's own retransmissions are left out, and so are "unexpected" messages: on a busy machine the fill's late
 * answers keep arriving while the calls pause, which says nothing about the refreshes. A refresh that comes too late
 * still shows: the server has ended the subscription, answers 481 and the call fails.
 */
export function refreshTroubles(s: SippStats): number {
  const subscribeSends = s.messages.filter((m) => m.name === 'SUBSCRIBE' && m.kind === 'Sent').map((m) => m.idx);
  // The refresh is the scenario's second SUBSCRIBE; before any refresh was sent there is no refresh part yet.
  const refreshIdx = subscribeSends.length > 1 ? Math.max(...subscribeSends) : Infinity;
  let n = s.failed + s.timeouts + s.deadCall + s.outOfCall;
  for (const m of s.messages) {
    if (m.kind !== 'Retrans' || m.idx < refreshIdx) continue;
    // A retransmitted 200 we send only echoes the server's retransmitted NOTIFY, counted on that NOTIFY's recv.
    const weSendIt = s.messages.some((x) => x.idx === m.idx && x.kind === 'Sent') && /^\d+$/.test(m.name);
    if (!weSendIt) n += m.value;
  }
  return n;
}
