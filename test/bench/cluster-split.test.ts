import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseFanout, readNotifies, readPublishTimes } from '../../bench/load/fanout-analysis.js';
import { extensionsCsvPart, splitByNode } from '../../bench/load/steps/cluster.js';

// The cluster step's bookkeeping (issue 22 item 6): which node each extension is published on, and the split of
// NOTIFY latencies into same-node and cross-node by that.

t.test('the extensions are split over the nodes without overlap, every one published on exactly one node', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-split-'));
  const parts = [0, 1, 2].map((i) => extensionsCsvPart(dir, 10, i, 3));
  t.strictSame(parts.map((p) => p.extensions), [['1000', '1003', '1006', '1009'], ['1001', '1004', '1007'], ['1002', '1005', '1008']]);
  t.equal(readFileSync(parts[1]!.file, 'utf8'), 'SEQUENTIAL\n1001;\n1004;\n1007;\n', 'a SIPp injection file of its share');
});

t.test('NOTIFY latencies split by the node the extension was published on; the sequence of one log is unchanged by the split', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-split-'));
  const pub = join(dir, 'pub.log');
  writeFileSync(pub, ['PUB 1000 confirmed 100 000000', 'PUB 1001 confirmed 100 500000', 'PUB 1000 terminated 103 000000', 'PUB 1001 terminated 103 500000'].join('\n'));
  // Node 0 holds watchers of both; node 1 too. 1000 is published on node 0, 1001 on node 1.
  const n0 = join(dir, 'n0.log');
  const n1 = join(dir, 'n1.log');
  writeFileSync(n0, ['NOT 1000 st=confirmed 100 010000', 'NOT 1001 st=confirmed 100 530000', 'NOT 1000 st= 103 020000', 'NOT 1001 st= 103 540000'].join('\n'));
  writeFileSync(n1, ['NOT 1000 st=confirmed 100 050000', 'NOT 1001 st=confirmed 100 505000', 'NOT 1000 st= 103 060000', 'NOT 1001 st= 103 506000'].join('\n'));
  const pubs = readPublishTimes(pub);
  const on = new Map([['1000', 0], ['1001', 1]]);
  const { same, cross } = splitByNode(pubs, on, [readNotifies(n0), readNotifies(n1)], 1);
  // same-node: node 0's NOTIFY for 1000 (10 ms, 20 ms) and node 1's for 1001 (5 ms, 6 ms)
  t.equal(same.confirmed.notifies, 2);
  t.equal(same.confirmed.maxMs, 10);
  t.equal(same.terminated.maxMs, 20);
  // cross-node: node 0's for 1001 (30 ms, 40 ms) and node 1's for 1000 (50 ms, 60 ms)
  t.equal(cross.confirmed.notifies, 2);
  t.equal(cross.confirmed.expected, 2, 'a change reaches its watchers on every other node: 2 PUBLISHes x 1 watcher x 1 other node');
  t.equal(cross.confirmed.maxMs, 50);
  t.equal(cross.terminated.maxMs, 60);
  const whole = analyseFanout(pub, n0, 1);
  t.equal(whole.confirmed.notifies, 2, 'one log analysed whole still sees both NOTIFYs of a wave');
  t.equal(whole.terminated.maxMs, 40);
});
