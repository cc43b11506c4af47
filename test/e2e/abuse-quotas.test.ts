import t from 'tap';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { startServerForFile } from '../support/server-process.js';
import { SipEndpoint, mapLimit } from '../support/sip-watcher.js';
import { parseWire, type WireMessage } from '../support/sip-wire.js';

/**
 * The abuse limits of security.md §4.2 that count state, against the built server wired as main.ts wires them (the
 * notifier's events feed the per-watcher count): R3 (the 501st subscription of one watcher), the publications of one
 * resource, and R2 (a scanner's User-Agent gets no answer). The request bucket is raised here so the counts can be
 * reached quickly; its own test is abuse-limits.test.ts.
 */

const server = await startServerForFile(t, {
  env: { PISTON_SIP_RATE_REQUESTS: '100000', PISTON_SUBSCRIPTIONS_PER_WATCHER: '500', PISTON_PUBLICATIONS_PER_RESOURCE: '20' },
});

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

t.test('R3: the 501st subscription of one watcher gets 403 "Too many subscriptions"; the first 500 keep working, and an unsubscribe frees a place (security.md §4.2)', async (t) => {
  const phone = await SipEndpoint.udp(server.sipPort, 0, '127.0.0.5');
  t.teardown(() => phone.close());
  const resources = Array.from({ length: 500 }, (_, i) => String(3000 + i));
  const subs = await mapLimit(resources, 10, (resource) => phone.subscribe({ resource, user: 'attendant', expires: 600 }, 10_000));
  t.equal(subs.filter((s) => s.response.status === 200).length, 500, '500 accepted');
  const over = await phone.subscribe({ resource: '3999', user: 'attendant', expires: 600 });
  t.equal(over.response.status, 403);
  t.match(over.response.startLine, /Too many subscriptions/, 'the reason phrase says why');
  t.equal(phone.transactions(over.callId).length, 0, 'no NOTIFY for the refused one');

  const again = await phone.subscribe({ resource: '3000', user: 'attendant', expires: 600 });
  t.equal(again.response.status, 200, 'a new dialog for a resource it holds (a rebooted phone) is not refused');
  const other = await phone.subscribe({ resource: '3999', user: 'another-line', expires: 600 });
  t.equal(other.response.status, 200, 'another watcher (From) on the same phone has its own count');

  const s = subs[1]!;
  const refresh = await phone.subscribe({ resource: '3001', user: 'attendant', expires: 600, callId: s.callId, fromTag: s.fromTag, toTag: s.toTag!, cseq: 2 });
  t.equal(refresh.response.status, 200, 'a refresh of one of the 500 works');
  const bye = await phone.subscribe({ resource: '3001', user: 'attendant', expires: 0, callId: s.callId, fromTag: s.fromTag, toTag: s.toTag!, cseq: 3 });
  t.equal(bye.response.status, 200, 'unsubscribed');
  const now = await phone.subscribe({ resource: '3999', user: 'attendant', expires: 600 });
  t.equal(now.response.status, 200, 'the freed place is taken');
});

t.test('a resource holds at most 20 publications: the 21st new one gets 403, a change to a held one still works (Kazoo max_call_per_presentity)', async (t) => {
  const pbx = await SipEndpoint.udp(server.sipPort);
  t.teardown(() => pbx.close());
  const dialog = (i: number) => ({ id: `d${i}`, callId: `call-${i}`, localTag: 'l', remoteTag: 'r', state: 'confirmed', direction: 'recipient' as const });
  const made = [];
  for (let i = 0; i < 20; i++) made.push(await pbx.publishDialog({ resource: '4001', dialog: dialog(i) }));
  t.equal(made.filter((m) => m.response.status === 200).length, 20);
  const over = await pbx.publishDialog({ resource: '4001', dialog: dialog(20) });
  t.equal(over.response.status, 403);
  t.match(over.response.startLine, /Too many publications/);
  const modified = await pbx.publishDialog({ resource: '4001', etag: made[0]!.etag!, dialog: { ...dialog(0), state: 'terminated' } });
  t.equal(modified.response.status, 200, 'modifying a held publication passes');
  t.equal((await pbx.publishDialog({ resource: '4002', dialog: dialog(0) })).response.status, 200, 'another resource has room');
});

t.test('R2: a request with a scanner\'s User-Agent gets no answer at all; a phone\'s gets its answer (security.md §4.1)', async (t) => {
  const socket = createSocket('udp4');
  await new Promise<void>((res) => socket.bind(0, '127.0.0.6', () => res()));
  t.teardown(() => socket.close());
  const answers: WireMessage[] = [];
  socket.on('message', (buf) => answers.push(parseWire(buf.toString('utf8'))));
  const port = socket.address().port;
  const request = (method: string, ua: string, n: number): string =>
    [
      `${method} sip:100@127.0.0.1:${server.sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.6:${port};branch=z9hG4bKscan${n};rport`,
      'Max-Forwards: 70',
      `From: <sip:100@127.0.0.1>;tag=s${n}`,
      `To: <sip:100@127.0.0.1>`,
      `Call-ID: scan${n}@127.0.0.6`,
      `CSeq: 1 ${method}`,
      `User-Agent: ${ua}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  let n = 0;
  for (const method of ['OPTIONS', 'REGISTER', 'SUBSCRIBE', 'INVITE']) {
    for (const ua of ['friendly-scanner', 'sipvicious', 'VaxSIPUserAgent/3.1']) socket.send(request(method, ua, n++), server.sipPort, '127.0.0.1');
  }
  await sleep(1500);
  t.same(answers, [], 'twelve scanner requests, no answer to any: nothing to enumerate');
  socket.send(request('OPTIONS', 'Yealink SIP-T46S 66.86.0.15', n++), server.sipPort, '127.0.0.1');
  const [buf] = (await Promise.race([once(socket, 'message'), sleep(3000).then(() => [undefined])])) as [Buffer | undefined];
  t.ok(buf !== undefined || answers.length > 0, 'the phone is answered');
});
