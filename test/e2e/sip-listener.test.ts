import t, { type Test } from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startServerForFile } from '../support/server-process.js';
import { runSipp } from '../support/sipp.js';
import { UdpPeer, TcpPeer, statusCodes, optionsRequest } from '../support/sip-client.js';
import { RFC4475_EXPECTED } from '../support/rfc4475-expected.js';

/** The SIP listener as `npm start` runs it, driven over real loopback sockets by SIPp and raw peers. */

const rfc4475Dir = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'rfc4475');

const server = await startServerForFile(t);

async function stillAnswers(t: Test, why: string): Promise<void> {
  const peer = await UdpPeer.open();
  await peer.send(optionsRequest({ transport: 'UDP', port: peer.port }), server.sipPort);
  const got = await peer.waitFor(1, 3000);
  await peer.close();
  t.same(got.map((b) => statusCodes(b.toString())[0]), [200], `server still answers OPTIONS ${why}`);
}

t.test('1,000 OPTIONS over UDP from SIPp all get 200 (RFC 3261 §11)', async (t) => {
  const r = await runSipp('options.xml', [`127.0.0.1:${server.sipPort}`, '-t', 'u1', '-i', '127.0.0.1', '-m', '1000', '-r', '500', '-timeout', '60s', '-timeout_error', '-trace_stat', '-stf', 'stats.csv']);
  t.equal(r.code, 0, `sipp exit code 0 (stderr: ${r.stderr.slice(-300)})`);
  const stats = r.files['stats.csv'] ?? '';
  const header = stats.split('\n')[0]!.split(';');
  const last = stats.trim().split('\n').at(-1)!.split(';');
  const col = (name: string): number => Number(last[header.indexOf(name)]);
  t.equal(col('SuccessfulCall(C)'), 1000, '1,000 successful calls');
  t.equal(col('FailedCall(C)'), 0, 'no failed call');
  t.equal(col('Retransmissions(C)'), 0, 'no retransmission was needed');
});

t.test('1,000 OPTIONS over TCP from SIPp all get 200 (RFC 3261 §18.3)', async (t) => {
  const r = await runSipp('options.xml', [`127.0.0.1:${server.sipPort}`, '-t', 't1', '-i', '127.0.0.1', '-m', '1000', '-r', '500', '-timeout', '60s', '-timeout_error', '-trace_stat', '-stf', 'stats.csv']);
  t.equal(r.code, 0, `sipp exit code 0 (stderr: ${r.stderr.slice(-300)})`);
  const stats = r.files['stats.csv'] ?? '';
  const header = stats.split('\n')[0]!.split(';');
  const last = stats.trim().split('\n').at(-1)!.split(';');
  t.equal(Number(last[header.indexOf('SuccessfulCall(C)')]), 1000, '1,000 successful calls');
  t.equal(Number(last[header.indexOf('FailedCall(C)')]), 0, 'no failed call');
});

// Over TCP a client never retransmits (RFC 3261 §17.1.2.2: Timer E only on unreliable transports), so UDP is the case.
t.test('a retransmitted request gets the identical response from the server transaction (RFC 3261 §17.2.2)', async (t) => {
  const peer = await UdpPeer.open();
  const request = optionsRequest({ transport: 'UDP', port: peer.port, branch: 'z9hG4bKretrans1' });
  await peer.send(request, server.sipPort);
  await peer.waitFor(1);
  await peer.send(request, server.sipPort);
  const got = await peer.waitFor(2);
  await peer.close();
  t.equal(got.length, 2, 'two responses');
  t.ok(got[0]!.equals(got[1]!), 'byte-identical, To-tag included');

});

t.test('a 70 KB request is refused without harm to other peers (RFC 3261 §18.3, sip-behaviour.md "size limits")', async (t) => {
  const bystander = await TcpPeer.open(server.sipPort);
  const big = await TcpPeer.open(server.sipPort);
  const pad = 'x'.repeat(70 * 1024);
  await big.write(optionsRequest({ transport: 'TCP', port: 5098 }).replace('Content-Length: 0\r\n', `X-Pad: ${pad}\r\nContent-Length: 0\r\n`));
  await big.waitUntil(() => false, 3000);
  t.ok(big.closed, 'the oversized peer is disconnected');
  t.notOk(statusCodes(big.text).includes(200), 'and not served');
  await bystander.write(optionsRequest({ transport: 'TCP', port: 5097 }));
  const text = await bystander.waitUntil((s) => statusCodes(s).length >= 1);
  t.same(statusCodes(text), [200], 'a connection opened before it is still served');
  bystander.close();
  await stillAnswers(t, 'over UDP after the oversized request');
});

const files = readdirSync(rfc4475Dir).filter((f) => f.endsWith('.dat')).sort();

t.test('every RFC 4475 message sent over UDP gets its expected answer and leaves the server responsive', async (t) => {
  t.equal(files.length, 49, 'all 49 torture messages');
  for (const file of files) {
    const expected = RFC4475_EXPECTED[file];
    t.ok(expected, `${file} has an expected answer`);
    if (!expected) continue;
    const peer = await UdpPeer.open();
    await peer.send(readFileSync(join(rfc4475Dir, file)), server.sipPort);
    const got = await peer.waitFor(1, expected.status === null ? 400 : 3000);
    await peer.close();
    t.same(got.map((b) => statusCodes(b.toString())[0] ?? -1), expected.status === null ? [] : [expected.status], `${file}: ${expected.why}`);
  }
  await stillAnswers(t, 'after all 49 over UDP');
});

t.test('every RFC 4475 message sent over TCP gets its expected answer and leaves the server responsive', async (t) => {
  for (const file of files) {
    const expected = RFC4475_EXPECTED[file];
    if (!expected) continue;
    const status = expected.tcp !== undefined ? expected.tcp : expected.status;
    const peer = await TcpPeer.open(server.sipPort);
    await peer.write(readFileSync(join(rfc4475Dir, file)));
    const text = await peer.waitUntil((s) => statusCodes(s).length >= 1, status === null ? 400 : 3000);
    peer.close();
    t.same(statusCodes(text).slice(0, 1), status === null ? [] : [status], `${file} over TCP: ${expected.why}`);
  }
  await stillAnswers(t, 'after all 49 over TCP');
  t.equal(server.lines.filter((l) => /"level":(50|60)/.test(l)).length, 0, 'no error was logged by the server');
});
