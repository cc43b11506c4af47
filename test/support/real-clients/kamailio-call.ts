import type { Test } from 'tap';
import { freePort } from '../server-process.js';
import { distinctNotifies, parseSippTrace } from '../sipp-trace.js';
import type { KamailioPua } from './kamailio-pua.js';
import { startSippClient } from './sipp-client.js';

/**
 * A real call through Kamailio's pua_dialoginfo, watched by a SIPp BLF watcher of the built server (issues 3, 20):
 * the callee rings for 1 s, the watcher subscribes to 1002 from `watcherHost`, the caller talks for 1.5 s through
 * Kamailio, then the watcher's NOTIFYs are read. The asserts every such test makes are here; the caller adds its own.
 */
export async function watchCallThroughKamailio(
  t: Test,
  o: { serverSipPort: number; kamailio: KamailioPua; calleePort: number; watcherHost: string },
): Promise<void> {
  // Rings for 1 s, so the early state is published well apart from confirmed.
  const callee = startSippClient('call-callee.xml', ['-t', 'u1', '-i', '127.0.0.1', '-p', String(o.calleePort), '-m', '1', '-d', '1000', '-timeout', '30s'], 40_000);
  t.teardown(() => callee.close());

  const watcherPort = await freePort();
  const watcher = startSippClient(
    'dialog-call-watcher.xml',
    [`127.0.0.1:${o.serverSipPort}`, '-t', 'u1', '-i', o.watcherHost, '-p', String(watcherPort), '-m', '1', '-s', '1002', '-key', 'user', '1001', '-key', 'expires', '120', '-timeout', '45s', '-timeout_error'],
    50_000,
  );
  t.teardown(() => watcher.close());
  const ready = await watcher.waitForText('logs.log', /NOTIFY#0 ok/, 15_000);
  t.ok(ready, 'the watcher is subscribed and has the first NOTIFY', ready ? {} : { errors: watcher.read('errors.log'), output: watcher.process.output().slice(-1500) });
  if (!ready) return;

  // Talks for 1.5 s before BYE.
  const callerPort = await freePort();
  const caller = startSippClient(
    'call-caller.xml',
    [`127.0.0.1:${o.kamailio.port}`, '-t', 'u1', '-i', '127.0.0.1', '-p', String(callerPort), '-m', '1', '-s', '1002', '-key', 'user', '1001', '-d', '1500', '-timeout', '30s', '-timeout_error'],
    40_000,
  );
  t.teardown(() => caller.close());
  const callerCode = await caller.process.exited;
  t.equal(callerCode, 0, 'the call through Kamailio completed (INVITE, 180, 200, ACK, BYE, 200)', callerCode === 0 ? {} : { errors: caller.read('errors.log'), kamailio: o.kamailio.process.output().slice(-3000) });
  const invite = parseSippTrace(caller.read('messages.log')).find((m) => m.direction === 'sent' && m.method === 'INVITE');
  t.ok(invite, 'the caller sent its INVITE');

  // The watcher unsubscribes after 4 s without a NOTIFY and exits 0 once the final NOTIFY is answered.
  const watcherCode = await watcher.process.exited;
  t.equal(watcherCode, 0, 'the watcher scenario ran to its end', watcherCode === 0 ? {} : { errors: watcher.read('errors.log') });

  const notifies = distinctNotifies(parseSippTrace(watcher.read('messages.log')));
  const during = notifies.slice(1).filter((n) => /^active/i.test(n.header('subscription-state') ?? ''));
  const ofTheCall = during.flatMap((n) => dialogsIn(n.body)).filter((d) => invite !== undefined && d.callId === invite.callId);
  t.ok(ofTheCall.length > 0, `NOTIFYs during the call describe the caller's Call-ID ${invite?.callId}`, { bodies: during.map((n) => n.body) });

  const states = ofTheCall.map((d) => d.state).filter((s, i, all) => i === 0 || s !== all[i - 1]);
  t.same(
    states.filter((s) => s === 'early' || s === 'confirmed' || s === 'terminated'),
    ['early', 'confirmed', 'terminated'],
    `the watcher saw early, then confirmed, then terminated (all states seen: ${states.join(' → ')})`,
  );
  t.equal(states.at(-1), 'terminated', 'the last state it saw is terminated');
  t.ok(ofTheCall.every((d) => d.direction === 'recipient'), 'every one shows 1002 as the recipient of the call');
}

interface DialogSeen {
  callId: string | undefined;
  direction: string | undefined;
  state: string;
}

/** The <dialog> elements of a dialog-info body (RFC 4235 §4.1), read with no XML library of the server's. */
function dialogsIn(body: string): DialogSeen[] {
  return [...body.matchAll(/<dialog\s([^>]*)>([\s\S]*?)<\/dialog>/g)].map((m) => ({
    callId: /call-id="([^"]*)"/.exec(m[1]!)?.[1],
    direction: /direction="([^"]*)"/.exec(m[1]!)?.[1],
    state: (/<state[^>]*>([^<]*)<\/state>/.exec(m[2]!)?.[1] ?? '').trim().toLowerCase(),
  }));
}
