import http from 'node:http';
import type Koa from 'koa';
import { closeStreams } from './create-api-app.js';

export interface RunningApi {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /**
   * Stops accepting, ends the live streams (they would hold the server open) and closes idle keep-alive connections;
   * resolves when the server is closed.
   */
  close(): Promise<void>;
}

/** Listens on host:port with the app's request handler. */
export function startApi(app: Koa<any, any>, opts: { host: string; port: number }): Promise<RunningApi> {
  const server = http.createServer(app.callback());
  // Slow-loris guard: a client gets this long to send its headers and its body.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
      resolve({
        port,
        close: () =>
          new Promise<void>((res, rej) => {
            closeStreams(app);
            server.close((err) => (err ? rej(err) : res()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}
