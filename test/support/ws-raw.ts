import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';

/** Raw WebSocket frames and a hand-made upgrade, for tests that send what no WebSocket library would. */

export function frame(opcode: number, payload: Buffer, o: { fin?: boolean; rsv?: number; mask?: boolean } = {}): Buffer {
  const fin = o.fin ?? true;
  const masked = o.mask ?? true;
  const len = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | (o.rsv ?? 0) | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) head.push(maskBit | 126, len >> 8, len & 0xff);
  else head.push(maskBit | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff);
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from(head), key, body]);
}

export interface RawWs {
  socket: Socket;
  read(done: (b: Buffer) => boolean, ms?: number): Promise<Buffer>;
}

export async function upgradeRaw(url: string): Promise<RawWs> {
  const socket = tcpConnect({ host: '127.0.0.1', port: Number(new URL(url).port) });
  socket.on('error', () => {});
  let buf = Buffer.alloc(0);
  const listeners: (() => void)[] = [];
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (const l of listeners.splice(0)) l();
  });
  socket.on('close', () => {
    for (const l of listeners.splice(0)) l();
  });
  const read = async (done: (b: Buffer) => boolean, ms = 3000): Promise<Buffer> => {
    const end = Date.now() + ms;
    while (!done(buf) && !socket.destroyed && Date.now() < end) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 50);
        listeners.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
    return buf;
  };
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n`,
  );
  const head = await read((b) => b.includes('\r\n\r\n'));
  if (!/^HTTP\/1\.1 101 /.test(head.toString('latin1'))) throw new Error(`upgrade failed: ${head.toString('latin1')}`);
  buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4);
  return { socket, read };
}

