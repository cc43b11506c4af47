import t from 'tap';
import { refreshTroubles } from '../../bench/load/held-stats.js';
import type { SippStats } from '../../bench/load/sipp-stats.js';

const base = (messages: SippStats['messages'], extra: Partial<SippStats> = {}): SippStats => ({
  found: true, created: 0, success: 0, failed: 0, retransStat: 0, outOfCall: 0, deadCall: 0, autoAnswered: 0,
  durationS: 0, retransSent: 0, retransRecv: 0, timeouts: 0, unexpected: 0, messages, ...extra,
});

// Indices of an earlier layout of hold-refresh.xml (only their order matters): 1 the first SUBSCRIBE, 10 its NOTIFY, 11 our 200, 13 the pause,
// 14 the refresh SUBSCRIBE, 17 its 200, 18 the pause after it; a test further down adds a NOTIFY recv behind it
// (were the scenario to await the refresh's NOTIFY itself).
const fill = [
  { idx: 1, name: 'SUBSCRIBE', kind: 'Sent', value: 2000 },
  { idx: 1, name: 'SUBSCRIBE', kind: 'Retrans', value: 3030 },
  { idx: 10, name: 'NOTIFY', kind: 'Recv', value: 2000 },
  { idx: 10, name: 'NOTIFY', kind: 'Retrans', value: 2778 },
  { idx: 11, name: '200', kind: 'Sent', value: 2000 },
  { idx: 11, name: '200', kind: 'Retrans', value: 2778 },
  { idx: 13, name: 'Pause', kind: 'Unexp', value: 2540 },
];

t.test('retransmissions of the fill and late answers during the pause do not count against the refreshes', async (t) => {
  t.equal(refreshTroubles(base(fill)), 0, 'no refresh sent yet');
  const refreshing = [...fill, { idx: 14, name: 'SUBSCRIBE', kind: 'Sent', value: 400 }, { idx: 17, name: '200', kind: 'Recv', value: 400 },
    { idx: 18, name: 'Pause', kind: 'Unexp', value: 38 }];
  t.equal(refreshTroubles(base(refreshing)), 0);
});

t.test('a re-sent refresh, a 2xx or NOTIFY the server had to re-send, a failed call or a timeout each count', async (t) => {
  const m = [...fill, { idx: 14, name: 'SUBSCRIBE', kind: 'Sent', value: 447 }, { idx: 14, name: 'SUBSCRIBE', kind: 'Retrans', value: 174 },
    { idx: 17, name: '200', kind: 'Recv', value: 447 }, { idx: 17, name: '200', kind: 'Retrans', value: 3 },
    { idx: 23, name: 'NOTIFY', kind: 'Recv', value: 425 }, { idx: 23, name: 'NOTIFY', kind: 'Retrans', value: 4 },
    { idx: 24, name: '200', kind: 'Sent', value: 425 }, { idx: 24, name: '200', kind: 'Retrans', value: 4 }];
  t.equal(refreshTroubles(base(m)), 181, 'refresh re-sent 174 times, its 200 3 times, NOTIFY 4 times; our 200 echoes are not counted again');
  t.equal(refreshTroubles(base(fill, { failed: 2, timeouts: 1, deadCall: 3, outOfCall: 4 })), 10);
});
