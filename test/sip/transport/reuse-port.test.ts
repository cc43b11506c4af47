import t from 'tap';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { ConfigError, loadConfig, reusePortSupported } from '../../../src/config/config.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { SipTransport } from '../../../src/sip/transport/sip-transport.js';

// PISTON_SIP_REUSE_PORT (issue 21 item 4): processes on one host share the SIP port, and the kernel keeps each peer's
// address on one of them, so a phone's requests (and its answers to NOTIFYs) reach the process holding its dialog.

t.test('the Node version check: 22.12 and later take reusePort, older ones would ignore it silently', async (t) => {
  t.equal(reusePortSupported('20.20.2'), false);
  t.equal(reusePortSupported('22.11.0'), false);
  t.equal(reusePortSupported('22.12.0'), true);
  t.equal(reusePortSupported('24.22.3'), true);
});

const options = (port: number, reusePort: boolean) => ({ hosts: ['127.0.0.1'], port, clock: new ManualClock(), logger: silentLogger, reusePort });

function options200(callId: string): string {
  return [`OPTIONS sip:bench@127.0.0.1 SIP/2.0`, 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK' + callId, 'Max-Forwards: 70', 'From: <sip:a@127.0.0.1>;tag=1',
    'To: <sip:bench@127.0.0.1>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
}

if (!reusePortSupported()) {
  t.test(`on Node ${process.version} the setting is refused at start with the reason, not ignored`, async (t) => {
    const err = t.throws(() => loadConfig({ PISTON_SIP_REUSE_PORT: 'true' })) as ConfigError;
    t.type(err, ConfigError);
    t.match(err.message, /PISTON_SIP_REUSE_PORT needs Node\.js 22\.12 or later/);
    t.equal(loadConfig({}).sip.reusePort, false, 'off by default');
  });
} else {
  t.test('two transports share one port with reusePort; each UDP peer address always reaches the same one', async (t) => {
    const a = new SipTransport(options(0, true));
    await a.start();
    t.teardown(() => a.close());
    const b = new SipTransport(options(a.port, true));
    await b.start();
    t.teardown(() => b.close());
    t.equal(b.port, a.port, 'the second process bound the same port');
    const seen = new Map<string, string>();
    a.onMessage((msg) => void seen.set((msg as { callId: string }).callId, 'a'));
    b.onMessage((msg) => void seen.set((msg as { callId: string }).callId, 'b'));
    const clients: UdpSocket[] = [];
    t.teardown(() => clients.forEach((c) => c.close()));
    for (let i = 0; i < 16; i++) {
      const c = createSocket('udp4');
      clients.push(c);
      c.bind(0, '127.0.0.1');
      await once(c, 'listening');
    }
    // Three requests from each of 16 source ports.
    for (let round = 0; round < 3; round++) clients.forEach((c, i) => c.send(options200(`p${i}-r${round}`), a.port, '127.0.0.1'));
    const deadline = Date.now() + 5000;
    while (seen.size < 48 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.equal(seen.size, 48, 'every datagram reached one of them');
    for (let i = 0; i < 16; i++) {
      const where = new Set([0, 1, 2].map((r) => seen.get(`p${i}-r${r}`)));
      t.equal(where.size, 1, `source port ${i}: all its requests reached the same process`);
    }
    const used = new Set(seen.values());
    t.equal(used.size, 2, 'sixteen peers were spread over both (all on one would happen once in 32,768)');
  });

  t.test('without reusePort a second transport on a taken port fails to start (the default keeps a port conflict loud)', async (t) => {
    const a = new SipTransport(options(0, false));
    await a.start();
    t.teardown(() => a.close());
    const b = new SipTransport(options(a.port, false));
    await t.rejects(b.start());
    await b.close();
  });
}
