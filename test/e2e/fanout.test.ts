import t from 'tap';
import { startServerForFile } from '../support/server-process.js';
import { SipEndpoint, mapLimit } from '../support/sip-watcher.js';

/**
 * Fan-out: 10,000 dialog subscriptions over 1,000 resources (10 watchers each, one UDP socket per watcher "phone"),
 * then 1,000 PUBLISHes sent within about one second. Every watcher must get the new state, every NOTIFY is answered
 * 200, and per subscription CSeq and version only rise (sip-behaviour.md: one NOTIFY in flight, order never
 * inverted, the last state never dropped). Bounded in count and time; the figures printed are not asserted.
 */

const RESOURCES = 1000;
const PHONES = 10;
const FIRST_EXT = 6000;
/** Per phase; generous because the watchers, the server and other test files share two cores. */
const LIMIT_MS = 90_000;

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

const server = await startServerForFile(t);

t.test('10,000 watchers of 1,000 resources all get the state of 1,000 PUBLISHes, in order (RFC 6665 §4.2.2, RFC 4235 §4.1)', async (t) => {
  const phones = await Promise.all(Array.from({ length: PHONES }, () => SipEndpoint.udp(server.sipPort)));
  const publisher = await SipEndpoint.udp(server.sipPort);
  const resources = Array.from({ length: RESOURCES }, (_, i) => String(FIRST_EXT + i));

  const started = Date.now();
  const subs = (
    await Promise.all(
      phones.map((phone, p) =>
        // Five in flight per phone (50 in all): a bigger burst only overflows socket buffers and measures retransmission.
        mapLimit(resources, 5, async (resource) => {
          const callId = `fan${p}-${resource}@piston-e2e`;
          const status = await phone.subscribe({ resource, user: `fan${p}`, event: 'dialog', expires: 3600, callId }, 30_000).then(
            (r) => r.response.status ?? 0,
            () => 0,
          );
          return { phone, resource, callId, status };
        }),
      ),
    )
  ).flat();
  t.equal(subs.filter((s) => s.status === 200).length, RESOURCES * PHONES, '10,000 subscriptions accepted');
  const initial = (): number => subs.filter((s) => s.phone.transactions(s.callId).length >= 1).length;
  const allInitial = await waitAll(() => initial() === subs.length, LIMIT_MS);
  t.ok(allInitial, `every watcher got its first NOTIFY (${initial()})`);
  t.comment(`10,000 subscriptions and first NOTIFYs in ${Date.now() - started} ms`);

  const retransmissions = (): number => subs.reduce((n, s) => n + (s.phone.notifies.get(s.callId) ?? []).filter((x) => x.retransmission).length, 0);
  const setupRetransmissions = retransmissions();

  // 1,000 PUBLISHes in ten bursts of 100, 100 ms apart: about one second for all.
  const publishStart = Date.now();
  const pending: Promise<number>[] = [];
  for (let burst = 0; burst < 10; burst++) {
    for (const resource of resources.slice(burst * 100, burst * 100 + 100)) {
      pending.push(
        publisher
          .publishDialog({ resource, expires: 3600, dialog: { id: `fan-${resource}`, callId: `fan-call-${resource}`, localTag: 'fl', remoteTag: 'fr', state: 'confirmed', direction: 'initiator' } }, 30_000)
          .then((r) => r.response.status ?? 0, () => 0),
      );
    }
    await sleep(100);
  }
  const statuses = await Promise.all(pending);
  t.equal(statuses.filter((s) => s === 200).length, RESOURCES, 'all 1,000 PUBLISHes accepted');

  const told = (s: (typeof subs)[number]): boolean => s.phone.transactions(s.callId).some((n) => n.msg.body.includes(`call-id="fan-call-${s.resource}"`));
  const delivered = (): number => subs.filter(told).length;
  const all = await waitAll(() => delivered() === subs.length, LIMIT_MS);
  t.ok(all, `all 10,000 watchers got the published call (${delivered()})`);
  t.comment(`fan-out: 1,000 PUBLISHes to 10,000 NOTIFYs delivered in ${Date.now() - publishStart} ms`);

  let unanswered = 0;
  let outOfOrder = 0;
  for (const s of subs) {
    const all = s.phone.notifies.get(s.callId) ?? [];
    if (all.some((n) => n.answeredWith !== 200)) unanswered++;
    const got = s.phone.transactions(s.callId);
    if (got.some((n, i) => i > 0 && (n.cseq <= got[i - 1]!.cseq || (n.version ?? -1) <= (got[i - 1]!.version ?? -1)))) outOfOrder++;
  }
  t.equal(unanswered, 0, 'every NOTIFY was answered 200');
  t.equal(outOfOrder, 0, 'per subscription, CSeq and version rise strictly');
  t.comment(`NOTIFY retransmissions seen by the watchers: ${setupRetransmissions} while subscribing, ${retransmissions() - setupRetransmissions} during the fan-out`);
  t.equal(phones.reduce((n, p) => n + p.otherRequests.length, 0), 0, 'nothing but NOTIFY reached the watchers');
  await Promise.all([...phones, publisher].map((p) => p.close()));
});

async function waitAll(predicate: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}
