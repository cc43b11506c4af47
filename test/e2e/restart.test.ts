import t from 'tap';
import { removeDir, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { SipEndpoint, mapLimit, type NotifyRecord } from '../support/sip-watcher.js';

/**
 * Subscriptions survive a crash (kill -9) and go on where they were: after the restart a state change reaches all
 * 1,000 watchers with a NOTIFY whose CSeq and dialog-info version are above the last ones sent before the crash.
 * Polycom and baresip reject a NOTIFY whose CSeq goes back (RFC 3261 §12.2.2), and RFC 4235 §4.1 has the watcher
 * discard a document whose version is not newer.
 */

const RESOURCES = 100;
const PER_RESOURCE = 10;
const FIRST_EXT = 5000;

let server: ServerProcess | undefined;
let dataDir: string | undefined;
t.teardown(async () => {
  await server?.stop();
  if (dataDir) removeDir(dataDir);
});

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

t.test('1,000 subscriptions go on after kill -9 with CSeq and version above the last ones sent (RFC 3261 §12.2.1.1, RFC 4235 §4.1)', async (t) => {
  server = await startServerProcess();
  dataDir = server.dataDir;
  const { sipPort, apiPort } = server;
  // One socket holds all 1,000 watchers and keeps its port across the restart: the stored flow stays valid.
  const watchers = await SipEndpoint.udp(sipPort);
  const publisher = await SipEndpoint.udp(sipPort);
  const resources = Array.from({ length: RESOURCES }, (_, i) => String(FIRST_EXT + i));
  const plan = resources.flatMap((resource) => Array.from({ length: PER_RESOURCE }, (_, w) => ({ resource, user: `rw${w}x${resource}` })));

  const subs = await mapLimit(plan, 50, async (p) => {
    const r = await watchers.subscribe({ ...p, event: 'dialog', expires: 3600 });
    return { ...p, callId: r.callId, status: r.response.status };
  });
  t.equal(subs.filter((s) => s.status === 200).length, 1000, '1,000 subscriptions accepted');
  const count = (min: number): number => subs.filter((s) => watchers.transactions(s.callId).length >= min).length;
  t.ok(await watchers.waitUntil(() => count(1) === 1000, 30_000), `every watcher got its first NOTIFY (${count(1)})`);

  // One change before the crash, so versions and CSeqs are past their first values.
  const publish = (round: string, state: string) =>
    mapLimit(resources, 20, async (resource) => {
      const r = await publisher.publishDialog({ resource, expires: 3600, dialog: { id: `${round}-${resource}`, callId: `${round}-c-${resource}`, localTag: 'l', remoteTag: 'r', state, direction: 'recipient' } });
      return r.response.status;
    });
  const before = await publish('before', 'confirmed');
  t.equal(before.filter((s) => s === 200).length, RESOURCES, 'every PUBLISH before the crash accepted');
  t.ok(await watchers.waitUntil(() => count(2) === 1000, 30_000), `every watcher was told (${count(2)})`);

  // The store flushes every 50 ms; leave it a few rounds, then crash.
  await sleep(400);
  const last = new Map<string, NotifyRecord>();
  for (const s of subs) last.set(s.callId, watchers.transactions(s.callId).at(-1)!);
  await server.kill9();
  const crashedAt = Date.now();
  server = await startServerProcess({ dataDir, sipPort, apiPort });
  for (const line of server.lines.filter((l) => /restored/.test(l))) t.comment(`after the restart: ${line}`);

  // An early dialog is the most interesting state (RFC 4235 §4.1, sip-behaviour.md), so every document changes.
  const after = await publish('after', 'early');
  t.equal(after.filter((s) => s === 200).length, RESOURCES, 'every PUBLISH after the restart accepted');
  const postCrash = (callId: string): NotifyRecord[] => watchers.transactions(callId).filter((n) => n.at > crashedAt);
  const told = (): number => subs.filter((s) => postCrash(s.callId).some((n) => /<state[^>]*>early<\/state>/.test(n.msg.body))).length;
  t.ok(await watchers.waitUntil(() => told() === 1000, 60_000), `all 1,000 watchers got the new state after the restart (${told()})`);

  let cseqBack = 0;
  let versionBack = 0;
  let unordered = 0;
  for (const s of subs) {
    const prev = last.get(s.callId)!;
    const got = postCrash(s.callId);
    if (got.some((n) => n.cseq <= prev.cseq)) cseqBack++;
    if (got.some((n) => n.version === undefined || prev.version === undefined || n.version <= prev.version)) versionBack++;
    if (got.some((n, i) => i > 0 && (n.cseq <= got[i - 1]!.cseq || (n.version ?? -1) <= (got[i - 1]!.version ?? -1)))) unordered++;
  }
  t.equal(cseqBack, 0, 'no NOTIFY after the restart reuses or lowers a CSeq');
  t.equal(versionBack, 0, 'no document after the restart reuses or lowers a version');
  t.equal(unordered, 0, 'NOTIFYs after the restart keep rising');
  t.equal(watchers.otherRequests.length, 0, 'nothing but NOTIFY reached the watchers');
  await watchers.close();
  await publisher.close();
});
