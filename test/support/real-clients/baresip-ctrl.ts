import { connect } from 'node:net';

/**
 * Talks to baresip's ctrl_tcp module: each message is a netstring (`<length>:<json>,`). A command is
 * `{"command", "params", "token"}`; the answer carries `"response": true` and the command's text output in `data`.
 * Events (`"event": true`) that arrive meanwhile are collected too.
 */

export interface BaresipReply {
  ok: boolean;
  data: string;
  events: Record<string, unknown>[];
}

export function baresipCommand(port: number, command: string, params?: string, ms = 5000): Promise<BaresipReply> {
  return new Promise((resolve, reject) => {
    const token = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const json = JSON.stringify(params === undefined ? { command, token } : { command, params, token });
    const socket = connect({ port, host: '127.0.0.1' });
    let buffer = Buffer.alloc(0);
    const events: Record<string, unknown>[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`baresip ctrl_tcp: no answer to "${command}" within ${ms} ms`));
    }, ms);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () => socket.write(`${Buffer.byteLength(json)}:${json},`));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const colon = buffer.indexOf(':');
        if (colon < 0) return;
        const length = Number(buffer.subarray(0, colon).toString());
        if (buffer.length < colon + 1 + length + 1) return;
        const message = JSON.parse(buffer.subarray(colon + 1, colon + 1 + length).toString('utf8')) as Record<string, unknown>;
        buffer = buffer.subarray(colon + 1 + length + 1);
        if (message.response === true) {
          clearTimeout(timer);
          socket.destroy();
          resolve({ ok: message.ok === true, data: String(message.data ?? ''), events });
          return;
        }
        events.push(message);
      }
    });
  });
}
