import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { sleep } from './sleep.js';

/** Loopback helpers: a port free for UDP and TCP, and an OPTIONS ping that tells when a SIP server answers. */

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((res, rej) => {
      const srv = createServer();
      srv.once('error', rej);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => res(p));
      });
    });
    const udpFree = await new Promise<boolean>((res) => {
      const s = createSocket('udp4');
      s.once('error', () => res(false));
      s.bind(port, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port found');
}

/** Sends OPTIONS over UDP every 100 ms until any final response arrives; resolves true then, false after maxMs. */
export async function waitForSip(host: string, port: number, maxMs: number, stillRunning: () => boolean = () => true): Promise<boolean> {
  const sock = createSocket('udp4');
  let answered = false;
  sock.on('message', (m) => {
    if (/^SIP\/2\.0 [2-6]\d\d/.test(m.toString('latin1', 0, 16))) answered = true;
  });
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  const local = sock.address().port;
  const deadline = Date.now() + maxMs;
  let n = 0;
  try {
    while (!answered && Date.now() < deadline && stillRunning()) {
      n++;
      const msg =
        `OPTIONS sip:ping@${host}:${port} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-bench-${process.pid}-${n}-${Date.now()}\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:bench@127.0.0.1>;tag=b${n}\r\nTo: <sip:ping@${host}>\r\n` +
        `Call-ID: bench-ping-${process.pid}-${n}-${Date.now()}\r\nCSeq: ${n} OPTIONS\r\nContent-Length: 0\r\n\r\n`;
      sock.send(msg, port, host);
      await sleep(100);
    }
  } finally {
    sock.close();
  }
  return answered;
}
