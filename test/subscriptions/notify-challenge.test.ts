/**
 * A NOTIFY answered 401 or 407 (security.md §2.7, issue 19 item 1): Cisco SPA and 8800 phones challenge NOTIFYs that
 * carry no credentials. The subscription is kept and the answer recorded (admin list `notify.reply`), counted in the
 * NOTIFY failure metric, logged once per subscription; three failures in a row remove it; a 2xx resets the count.
 */
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { createApiMetrics } from '../../src/api/metrics.js';
import { recordingLogger } from '../../src/lib/logger.js';
import { subscriptionView } from '../../src/api/presence-view.js';
import { DOMAIN, NotifierHarness, type HarnessOptions } from './helpers/notifier-harness.js';

const RESOURCE = `1001@${DOMAIN}`;

function setup(t: Test, opts: HarnessOptions = {}): NotifierHarness {
  const h = new NotifierHarness(opts);
  t.teardown(() => h.dispose());
  return h;
}

let flip = false;
async function change(h: NotifierHarness): Promise<void> {
  flip = !flip;
  h.presentity.setManualState(RESOURCE, flip ? 'early' : 'confirmed');
  await h.tick();
}

for (const protocol of ['udp', 'tcp'] as const) {
  for (const status of [401, 407]) {
    t.test(`over ${protocol.toUpperCase()} a NOTIFY answered ${status} keeps the subscription and records the answer (security.md §2.7, RFC 6665 §4.2.2)`, async (t) => {
      const h = setup(t, { protocol });
      await h.subscribe();
      h.answer = () => status;
      await change(h);
      t.equal(h.notifier.count(), 1, 'kept');
      const rec = h.record()!;
      t.equal(rec.lastNotify!.reply, status, 'the answer is the last reply');
      t.equal((subscriptionView(rec).notify as { reply: number }).reply, status, 'as the admin list shows it (notify.reply)');
      t.equal(rec.strikes, 1, 'one failure counted');
      await change(h);
      t.equal(h.notifies.length, 3, 'the next change still NOTIFYs');
      t.equal(h.notifier.count(), 1, 'two in a row are survived');
      await change(h);
      t.equal(h.notifier.count(), 0, 'the third in a row removes it');
      t.same(h.removed.map((r) => r.reason), ['rejected']);
      await change(h);
      t.equal(h.notifies.length, 4, 'nothing after it, no final NOTIFY');
    });
  }
}

t.test('a 2xx between challenges resets the count; a timeout after two challenges is the third failure in a row (security.md §2.7)', async (t) => {
  const h = setup(t);
  await h.subscribe();
  h.answer = () => 401;
  await change(h);
  await change(h);
  t.equal(h.record()!.strikes, 2);
  h.answer = () => 200;
  await change(h);
  t.equal(h.record()!.strikes, 0, 'reset by the 200');
  t.equal(h.record()!.lastNotify!.reply, 200);
  h.answer = () => 401;
  await change(h);
  await change(h);
  h.answer = () => 'ignore';
  await change(h);
  await h.tick(32_000);
  t.equal(h.notifier.count(), 0, 'two challenges and a timeout: three failures in a row');
  t.same(h.removed.map((r) => r.reason), ['unreachable'], 'named after the last one');
});

t.test('a challenge to the very first NOTIFY keeps the new subscription (Cisco phones challenge every NOTIFY)', async (t) => {
  const h = setup(t);
  h.answer = () => 401;
  await h.subscribe();
  t.equal(h.notifier.count(), 1);
  t.equal(h.record()!.lastNotify!.reply, 401);
  t.equal(h.record()!.strikes, 1);
});

t.test('a challenged NOTIFY is logged once per subscription, at info, and counted in piston_notify_failed_total (security.md §2.7)', async (t) => {
  const logger = recordingLogger();
  const h = setup(t, { logger });
  const registry = new Registry();
  const metrics = createApiMetrics({ registry, subscriptionsByEvent: () => h.notifier.countByEvent() });
  t.teardown(metrics.watch(h.feed));
  const a = await h.subscribe({ fromUser: '2001' });
  await h.subscribe({ fromUser: '2002' });
  h.answer = () => 401;
  await change(h);
  h.answer = (n) => (n.callId === a.callId ? 200 : 407);
  await change(h);
  h.answer = () => 401;
  await change(h);
  await h.tick();
  const challenged = logger.records.filter((r) => r.msg !== undefined && /challenged our NOTIFY/.test(r.msg));
  t.equal(challenged.length, 2, 'one line per subscription, however many challenges');
  t.ok(challenged.every((r) => r.level === 'info'));
  t.same(challenged.map((r) => (r.obj as { watcher: string }).watcher).sort(), ['2001@example.com', '2002@example.com']);
  const failed = (await registry.getSingleMetric('piston_notify_failed_total')!.get()).values;
  const of = (failure: string): number => failed.find((v) => v.labels.failure === failure && v.labels.event === 'dialog')?.value ?? 0;
  t.equal(of('401'), 4, 'every 401 counted');
  t.equal(of('407'), 1, 'and the 407');
});
