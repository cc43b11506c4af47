import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNotifies, readPublishTimes } from '../../bench/load/fanout-analysis.js';
import { notifyLedger, unexplainedMissing } from '../../bench/load/notify-ledger.js';
import { metricBy, metricSum, parseMetrics } from '../../bench/load/node-metrics.js';
import { describeBreakdown, nodeBreakdown } from '../../bench/load/steps/cluster.js';

// The cluster step's NOTIFY accounting (issue 22 item 6): per watcher of watch-two.xml, two NOTIFYs, or one for two
// changes that came faster than the server notified (RFC 6665 §4.2.2 lets a notifier coalesce them; the lamp ends
// right), or a wrong lamp (a real loss); and the node's own counters beside it.

const log = [
  'SUB 1000 10 000000 n=1', 'SUB 1000 10 000000 n=2', 'SUB 1001 10 000000 n=3', 'SUB 1001 10 000000 n=4', 'SUB 1002 10 000000 n=5', 'SUB 1002 10 000000 n=6',
  // 1: both changes; 2: coalesced into one NOTIFY showing the end; 3: the first NOTIFY late (already terminated) and
  // the second repeating it; 4: the end never came (stale lamp); 5: nothing at all; 6: both, with an empty state
  // (no dialog = idle), as the scenario logs an idle body.
  'NOT 1000 st=confirmed 11 000000 n=1', 'NOT 1000 st=terminated 14 000000 n=1',
  'NOT 1000 st=terminated 15 000000 n=2',
  'NOT 1001 st=terminated 15 000000 n=3', 'NOT 1001 st=terminated 15 100000 n=3',
  'NOT 1001 st=confirmed 11 000000 n=4',
  'NOT 1002 st=confirmed 11 000000 n=6', 'NOT 1002 st= 14 000000 n=6',
].join('\n');

t.test('each watcher is counted once: both changes seen, coalesced into one NOTIFY, or a wrong lamp', async (t) => {
  const l = notifyLedger(log);
  t.strictSame(l, { watchers: 6, received: 8, both: 3, twiceTerminated: 1, coalesced: 1, stale: 1, none: 1 });
  // 12 expected, 8 arrived, the coalesced watcher needed one fewer: 12 - 8 - 1 = 3 missing, the stale watcher's end
  // and the silent watcher's two.
  t.equal(unexplainedMissing(l), 3, 'a coalesced watcher does not count as a lost NOTIFY; the stale and silent ones do');
});

t.test('a coalesced run with every lamp right has nothing lost', async (t) => {
  const l = notifyLedger(['SUB 1 1 0 n=1', 'SUB 1 1 0 n=2', 'NOT 1 st=terminated 2 0 n=1', 'NOT 1 st=confirmed 2 0 n=2', 'NOT 1 st=terminated 3 0 n=2'].join('\n'));
  t.equal(l.coalesced, 1);
  t.equal(l.both, 1);
  t.equal(unexplainedMissing(l), 0);
});

t.test('lines of the older format (no call number) are not mistaken for watchers', async (t) => {
  const l = notifyLedger('NOT 1000 st=confirmed 100 010000\nSUB 1000 1 0\n');
  t.equal(l.watchers, 0);
  t.equal(l.received, 0);
});

t.test('a line whose microseconds SIPp wrote as nothing (zero) still counts, and its time is whole seconds', async (t) => {
  // Seen in a run: `NOT 1031 st=terminated 1796687218.000000  n=1032` (two spaces, no µs).
  const text = 'SUB 1031 1796687151.000000 449665.000000 n=1032\nNOT 1031 st=terminated 1796687218.000000  n=1032\n';
  const l = notifyLedger(text);
  t.equal(l.received, 1);
  t.equal(l.coalesced, 1, 'the watcher saw its one NOTIFY, not none');
  const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
  const file = join(dir, 'w.log');
  writeFileSync(file, text);
  t.strictSame(readNotifies(file).terminated, [{ ext: '1031', t: 1796687218 }]);
  writeFileSync(file, 'PUB 1031 terminated 1796687217.000000 \n');
  t.equal(readPublishTimes(file).get('1031 terminated'), 1796687217, 'a PUBLISH line with no µs keeps its time');
});

const before = parseMetrics([
  '# HELP piston_notify_sent_total NOTIFY requests sent, by event package',
  '# TYPE piston_notify_sent_total counter',
  'piston_notify_sent_total{event="dialog"} 10000',
  'piston_notify_failed_total{event="dialog",failure="timeout"} 2',
  'piston_subscriptions{event="dialog"} 10000',
  'piston_cluster_changes_total{outcome="applied"} 0',
  'piston_cluster_changes_total{outcome="own"} 5',
].join('\n'));
const after = parseMetrics([
  'piston_notify_sent_total{event="dialog"} 25000',
  'piston_notify_sent_total{event="presence"} 10',
  'piston_notify_failed_total{event="dialog",failure="timeout"} 5',
  'piston_notify_failed_total{event="dialog",failure="481"} 1',
  'piston_subscriptions{event="dialog"} 9999',
  'piston_cluster_changes_total{outcome="applied"} 1333',
  'piston_cluster_changes_total{outcome="own"} 672',
  'piston_publish_total{event="dialog",status="200"} 667',
].join('\n'));

t.test('Prometheus text: samples summed over labels or split by one', async (t) => {
  t.equal(metricSum(after, 'piston_notify_sent_total'), 25010);
  t.equal(metricSum(after, 'piston_notify_sent_total', { event: 'dialog' }), 25000);
  t.strictSame(metricBy(after, 'piston_notify_failed_total', 'failure'), { timeout: 5, '481': 1 });
  t.equal(metricSum(after, 'piston_absent'), 0);
});

t.test('a node\'s breakdown: sent and failed over the publish phase, answered = sent - failed', async (t) => {
  const b = nodeBreakdown(before, after, notifyLedger(log), 3, 0);
  t.equal(b.sent, 15010);
  t.strictSame(b.failed, { timeout: 3, '481': 1 });
  t.equal(b.answered, 15006);
  t.strictSame(b.changes, { applied: 1333, own: 667 });
  t.strictSame(b.publishes, { '200': 667 });
  t.equal(b.subscriptionsAfter, 9999);
  t.equal(b.wrongLamps, 2);
  t.match(describeBreakdown(b), /sent=15010 answered=15006 .*coalesced=1; stale=1; none=1\) lost=3 wrong-lamps=2; udp drops node\/watchers=3\/0/);
  const none = nodeBreakdown([], after, notifyLedger(log), 0, 0);
  t.equal(none.sent, null, 'a node whose /metrics did not answer has no figures, not zeros');
  t.equal(none.answered, null);
});
