import t, { type Test } from 'tap';
import { freePort, startServerForFile } from '../support/server-process.js';
import { runSipp, startSipp, type SippResult } from '../support/sipp.js';
import { distinctNotifies, parseSippTrace, type TracedMessage } from '../support/sipp-trace.js';
import { dialogInfoVersion } from '../support/sip-wire.js';

/**
 * The notifier (issue 3) as `npm start` runs it, driven by SIPp over UDP and over TCP: the scenarios in
 * fixtures/sipp/ check bodies and headers with regular expressions, and the tests read SIPp's message trace for
 * what needs exact values (tags, CSeq order, versions, content types).
 */

const server = await startServerForFile(t);

type Transport = 'udp' | 'tcp';

async function sippArgs(transport: Transport, resource: string, keys: Record<string, string>, extra: string[] = []): Promise<string[]> {
  const args = [`127.0.0.1:${server.sipPort}`, '-t', transport === 'udp' ? 'u1' : 't1', '-i', '127.0.0.1', '-p', String(await freePort())];
  args.push('-m', '1', '-s', resource, '-nd', '-timeout', '40s', '-timeout_error');
  for (const [k, v] of Object.entries(keys)) args.push('-key', k, v);
  return [...args, ...extra];
}

const TRACE = ['-trace_msg', '-message_file', 'messages.log', '-trace_logs', '-log_file', 'logs.log', '-trace_err', '-error_file', 'errors.log'];

function explain(r: SippResult): string {
  return `exit ${r.code}; errors: ${(r.files['errors.log'] ?? r.stderr).slice(-1500)}`;
}

function trace(r: SippResult): TracedMessage[] {
  return parseSippTrace(r.files['messages.log'] ?? '');
}

/** Checks that rise by exactly one per NOTIFY in a dialog (RFC 6665 §4.1.2.3 with RFC 3261 §12.2.1.1). */
function checkNotifyOrder(t: Test, notifies: TracedMessage[]): void {
  const cseqs = notifies.map((n) => n.cseq.seq);
  t.ok(
    cseqs.every((c, i) => i === 0 || c === cseqs[i - 1]! + 1),
    `NOTIFY CSeqs rise by one: ${cseqs.join(', ')}`,
  );
  t.equal(new Set(notifies.map((n) => n.callId)).size, 1, 'every NOTIFY is in the one dialog (same Call-ID)');
  t.equal(new Set(notifies.map((n) => n.fromTag)).size, 1, 'every NOTIFY carries the same notifier tag');
}

/** Both orders of 200 and NOTIFY are allowed, so look the 200 up by CSeq. */
function finalResponse(msgs: TracedMessage[], method: string, seq: number): TracedMessage | undefined {
  return msgs.find((m) => m.direction === 'received' && m.status !== undefined && m.status >= 200 && m.cseq.method === method && m.cseq.seq === seq);
}

const EXPECTED_TYPE: Record<string, string> = {
  dialog: 'application/dialog-info+xml',
  presence: 'application/pidf+xml',
  'message-summary': 'application/simple-message-summary',
};

for (const transport of ['udp', 'tcp'] as const) {
  const base = transport === 'udp' ? 2000 : 2100;

  t.test(`${transport}: a BLF watcher sees idle, then a published confirmed call, then refreshes and unsubscribes (RFC 6665 §4, RFC 4235 §4.1, RFC 3903 §4)`, async (t) => {
    const resource = String(base + 1);
    const keys = { dcall: `${transport}-${Date.now()}`, ltag: 'lt-e2e-1', rtag: 'rt-e2e-1', caller: '3001', direction: 'recipient' };
    const watcher = startSipp('blf-watcher.xml', await sippArgs(transport, resource, { user: '1001', expires: '120' }), 60_000);
    const ready = await watcher.waitForText('logs.log', /NOTIFY#0 ok/, 15_000);
    t.ok(ready, 'the watcher got the 200 and the first NOTIFY');
    let publisher: SippResult | undefined;
    if (ready) {
      // Hold the state 4 s: the watcher refreshes and unsubscribes in well under that, so it sees no further change.
      publisher = await runSipp('publish-dialog.xml', await sippArgs(transport, resource, { ...keys, state: 'confirmed', expires: '120' }, ['-d', '4000', ...TRACE]), 60_000);
    }
    const w = await watcher.result;
    t.equal(w.code, 0, `watcher scenario passed (${explain(w)})`);
    t.match(w.files['logs.log'] ?? '', /watcher done/, 'the watcher reached its end');

    const msgs = trace(w);
    const sub200 = finalResponse(msgs, 'SUBSCRIBE', 1);
    t.equal(sub200?.status, 200, 'a new subscription gets 200, not 202 (RFC 6665 §8.3.1)');
    t.ok(sub200?.toTag, '200 carries a To-tag');
    t.ok(sub200?.header('contact'), '200 carries the notifier Contact');
    const granted = Number(sub200?.header('expires'));
    t.ok(granted > 0 && granted <= 120, `granted Expires ${granted} is not above the 120 asked (RFC 6665 §3.1.1)`);
    t.equal(finalResponse(msgs, 'SUBSCRIBE', 2)?.status, 200, 'the refresh gets 200');
    t.equal(finalResponse(msgs, 'SUBSCRIBE', 3)?.status, 200, 'the unsubscribe gets 200');

    const notifies = distinctNotifies(msgs);
    t.equal(notifies.length, 4, 'four NOTIFYs: initial, publication, refresh, final');
    t.same(notifies.map((n) => dialogInfoVersion(n.body)), [0, 1, 2, 3], 'dialog-info versions 0, 1, 2, 3 (RFC 4235 §4.1)');
    checkNotifyOrder(t, notifies);
    const subscribe = msgs.find((m) => m.direction === 'sent' && m.method === 'SUBSCRIBE')!;
    const each = (f: (n: TracedMessage) => unknown): unknown[] => notifies.map(f);
    const four = <V>(v: V): V[] => notifies.map(() => v);
    t.same(each((n) => n.callId), four(subscribe.callId), 'every NOTIFY uses the SUBSCRIBE Call-ID');
    t.same(each((n) => n.toTag), four(subscribe.fromTag), 'every NOTIFY To-tag is the watcher tag');
    t.same(each((n) => n.fromTag), four(sub200?.toTag), 'every NOTIFY From-tag is the tag of the 200');
    t.same(each((n) => /^dialog\b/.test(n.header('event') ?? '')), four(true), 'Event: dialog');
    t.same(each((n) => n.header('content-type')), four('application/dialog-info+xml'), 'exact Content-Type, no parameters');
    t.same(each((n) => /^NOTIFY sip:1001@127\.0\.0\.1:\d+/.test(n.startLine)), four(true), 'Request-URI is the watcher Contact');
    t.same(each((n) => n.body.includes(`entity="sip:${resource}@127.0.0.1"`)), four(true), 'entity is the watched resource');
    for (const n of notifies.slice(0, 3)) {
      const m = /^active;\s*expires=(\d+)/.exec(n.header('subscription-state') ?? '');
      t.ok(m && Number(m[1]) <= granted, `Subscription-State active with at most the granted time: ${n.header('subscription-state')}`);
    }
    t.match(notifies[3]?.header('subscription-state') ?? '', /^terminated/, 'the last NOTIFY terminates the subscription');

    const busy = notifies[1]?.body ?? '';
    t.match(busy, new RegExp(`call-id="ppcall-${keys.dcall}"`), 'published call-id is passed on');
    t.match(busy, /local-tag="lt-e2e-1"/, 'local-tag is passed on');
    t.match(busy, /remote-tag="rt-e2e-1"/, 'remote-tag is passed on');
    t.match(busy, /direction="recipient"/, 'direction is passed on');
    t.match(busy, /<state[^>]*>confirmed<\/state>/, 'state confirmed');
    t.match(busy, new RegExp(`<local>\\s*<identity[^>]*>sip:${resource}@127\\.0\\.0\\.1</identity>`), 'local identity');
    t.match(busy, /<remote>\s*<identity[^>]*>sip:3001@127\.0\.0\.1<\/identity>/, 'remote identity (who is calling)');
    t.match(notifies[0]?.body ?? '', /<dialog [^>]*id="[^"]+"[^>]*>\s*<state[^>]*>terminated<\/state>/, 'idle is one terminated dialog');

    t.ok(publisher, 'the publisher ran');
    if (publisher) {
      t.equal(publisher.code, 0, `publisher scenario passed (${explain(publisher)})`);
      const p = trace(publisher);
      const etag = finalResponse(p, 'PUBLISH', 1)?.header('sip-etag');
      t.ok(etag, 'the PUBLISH 200 carries SIP-ETag (RFC 3903 §11.3.1)');
      const removal = p.find((m) => m.direction === 'sent' && m.method === 'PUBLISH' && m.cseq.seq === 2);
      t.equal(removal?.header('sip-if-match'), etag, 'the removal names that entity-tag');
      t.equal(finalResponse(p, 'PUBLISH', 2)?.status, 200, 'removal with Expires 0 gets 200 (RFC 3903 §4.5)');
    }
  });

  t.test(`${transport}: a presence watcher gets PIDF with basic status and RPID on-the-phone during a call (RFC 3863 §4.1, RFC 4480)`, async (t) => {
    const resource = String(base + 2);
    const watcher = startSipp('subscribe-cycle.xml', await sippArgs(transport, resource, { event: 'presence', accept: 'application/pidf+xml', user: '1002', expires: '300' }), 60_000);
    const ready = await watcher.waitForText('logs.log', /NOTIFY#0 ok/, 15_000);
    t.ok(ready, 'the watcher got the 200 and the first NOTIFY');
    let publisher: SippResult | undefined;
    if (ready) {
      const keys = { dcall: `p-${transport}-${Date.now()}`, ltag: 'lt2', rtag: 'rt2', caller: '3002', direction: 'initiator', state: 'confirmed', expires: '120' };
      publisher = await runSipp('publish-dialog.xml', await sippArgs(transport, resource, keys, ['-d', '1000']), 60_000);
      t.equal(publisher.code, 0, `publisher passed (${explain(publisher)})`);
    }
    const w = await watcher.result;
    t.equal(w.code, 0, `watcher scenario passed (${explain(w)})`);
    const notifies = distinctNotifies(trace(w));
    t.ok(notifies.length >= 3, `initial, call and final NOTIFYs (${notifies.length})`);
    checkNotifyOrder(t, notifies);
    for (const n of notifies) t.equal(n.header('content-type'), 'application/pidf+xml', 'exact PIDF Content-Type, no charset');
    const first = notifies[0]?.body ?? '';
    t.match(first, new RegExp(`<presence [^>]*entity="sip:${resource}@127\\.0\\.0\\.1"`), 'presence entity is the resource');
    t.match(first, /<basic>(open|closed)<\/basic>/, 'a basic status');
    t.notMatch(first, /on-the-phone/, 'no call activity while idle');
    const during = notifies.slice(1, -1).find((n) => /on-the-phone/.test(n.body));
    t.ok(during, 'a NOTIFY during the call carries the RPID on-the-phone activity');
    t.match(during?.body ?? '', /<basic>open<\/basic>/, 'and basic open');
    t.match(notifies.at(-1)?.header('subscription-state') ?? '', /^terminated/, 'the unsubscribe ends with a terminated NOTIFY');
  });

  t.test(`${transport}: a message-summary watcher gets an RFC 3842 body with CRLF lines`, async (t) => {
    const resource = String(base + 3);
    const r = await runSipp('subscribe-cycle.xml', await sippArgs(transport, resource, { event: 'message-summary', accept: 'application/simple-message-summary', user: '1003', expires: '300' }, TRACE), 60_000);
    t.equal(r.code, 0, `scenario passed (${explain(r)})`);
    const notifies = distinctNotifies(trace(r));
    t.equal(notifies.length, 2, 'initial and final NOTIFY');
    checkNotifyOrder(t, notifies);
    for (const n of notifies) {
      t.equal(n.header('content-type'), 'application/simple-message-summary', 'exact Content-Type');
      t.match(n.header('event') ?? '', /^message-summary\b/, 'Event: message-summary');
    }
    const body = notifies[0]?.body ?? '';
    t.match(body, /^Messages-Waiting: no\r\n/, 'Messages-Waiting: no first, CRLF ended (RFC 3842 §5.2)');
    t.match(body, /\r\nVoice-Message: 0\/0 \(0\/0\)\r\n/, 'Voice-Message: 0/0 (0/0)');
    t.match(body, /Message-Account: sip:[^\r\n]+\r\n/, 'a Message-Account line');
    t.notMatch(body.replace(/\r\n/g, ''), /[\r\n]/, 'no bare CR or LF');
  });

  t.test(`${transport}: an unknown event package gets 489 with Allow-Events (RFC 6665 §4.2.1)`, async (t) => {
    const r = await runSipp('subscribe-bad-event.xml', await sippArgs(transport, String(base + 4), { user: '1004' }, TRACE), 30_000);
    t.equal(r.code, 0, `scenario passed (${explain(r)})`);
    const res = finalResponse(trace(r), 'SUBSCRIBE', 1);
    t.equal(res?.status, 489, '489 Bad Event');
    t.same(
      (res?.headers('allow-events') ?? []).join(',').split(',').map((s) => s.trim()).sort(),
      ['dialog', 'message-summary', 'presence'],
      'Allow-Events lists the three packages',
    );
  });

  for (const event of ['dialog', 'presence', 'message-summary']) {
    t.test(`${transport}: ${event}: Expires below the minimum gets 423 with Min-Expires: 60 (RFC 6665 §4.2.1.1)`, async (t) => {
      const r = await runSipp('subscribe-too-brief.xml', await sippArgs(transport, String(base + 5), { event, accept: EXPECTED_TYPE[event]!, user: '1005' }, TRACE), 30_000);
      t.equal(r.code, 0, `scenario passed (${explain(r)})`);
      const res = finalResponse(trace(r), 'SUBSCRIBE', 1);
      t.equal(res?.status, 423);
      t.equal(res?.header('min-expires'), '60');
    });

    t.test(`${transport}: ${event}: a fetch (Expires 0, no To-tag) gets 200 and one terminated NOTIFY with the state (RFC 6665 §4.4.3)`, async (t) => {
      const r = await runSipp('subscribe-fetch.xml', await sippArgs(transport, String(base + 6), { event, accept: EXPECTED_TYPE[event]!, user: '1006' }, TRACE), 30_000);
      t.equal(r.code, 0, `scenario passed (${explain(r)})`);
      const msgs = trace(r);
      t.equal(finalResponse(msgs, 'SUBSCRIBE', 1)?.status, 200, '200');
      const notifies = distinctNotifies(msgs);
      t.equal(notifies.length, 1, 'exactly one NOTIFY');
      t.match(notifies[0]?.header('subscription-state') ?? '', /^terminated/, 'Subscription-State terminated');
      t.equal(notifies[0]?.header('content-type'), EXPECTED_TYPE[event], 'the package type');
      t.ok((notifies[0]?.body.length ?? 0) > 0, 'with the current state as body');
    });
  }

  t.test(`${transport}: a SUBSCRIBE for a dialog the server never created gets 481 (RFC 6665 §4.1.2.1)`, async (t) => {
    const r = await runSipp('subscribe-unknown-dialog.xml', await sippArgs(transport, String(base + 7), { event: 'dialog', accept: 'application/dialog-info+xml', user: '1007', expires: '120' }, TRACE), 30_000);
    t.equal(r.code, 0, `scenario passed (${explain(r)})`);
    t.equal(finalResponse(trace(r), 'SUBSCRIBE', 1)?.status, 481);
    t.equal(distinctNotifies(trace(r)).length, 0, 'and no NOTIFY');
  });
}

t.test('the server logged no error during the SIPp runs', async (t) => {
  t.equal(server.lines.filter((l) => /"level":(50|60)/.test(l)).length, 0, 'no error or fatal log line');
});
