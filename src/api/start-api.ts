import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import type Koa from 'koa';
import { ListenError } from '../lib/listen-error.js';
import { closeStreams } from './create-api-app.js';

export interface RunningApi {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** True when the API serves HTTPS. */
  readonly secure: boolean;
  /**
   * Re-reads the certificate and key (SIGHUP). New connections get the new pair; established ones keep theirs. When
   * the files cannot be read or do not make a valid pair, the old context stays and the answer says why.
   * `{ reloaded: false }` without `error` on a plain-HTTP API.
   */
  reloadTls(): { reloaded: boolean; error?: string };
  /**
   * Stops accepting, ends the live streams (they would hold the server open) and closes idle keep-alive connections;
   * resolves when the server is closed.
   */
  close(): Promise<void>;
}

export interface ApiTlsFiles {
  certFile: string;
  keyFile: string;
}

/** The PEM pair, checked by building a context from it; throws with a reason that names the variable, not a stack. */
function readPair(files: ApiTlsFiles): { cert: Buffer; key: Buffer } {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(files.certFile);
  } catch (err) {
    throw new ListenError(`PISTON_API_TLS_CERT: cannot read ${files.certFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'PISTON_API_TLS_CERT');
  }
  try {
    key = readFileSync(files.keyFile);
  } catch (err) {
    throw new ListenError(`PISTON_API_TLS_KEY: cannot read ${files.keyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'PISTON_API_TLS_KEY');
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    throw new ListenError(
      `PISTON_API_TLS_CERT/PISTON_API_TLS_KEY: ${files.certFile} and ${files.keyFile} are not a usable certificate and key (${why})`,
      'PISTON_API_TLS_CERT',
    );
  }
  return { cert, key };
}

/** Listens on host:port with the app's request handler; HTTPS when `tls` names a certificate and key. */
export async function startApi(app: Koa<any, any>, opts: { host: string; port: number; tls?: ApiTlsFiles }): Promise<RunningApi> {
  const tls = opts.tls;
  // TLS 1.2 at least (Node's default minimum too, stated so a changed default cannot lower it).
  const server = tls
    ? https.createServer({ ...readPair(tls), minVersion: 'TLSv1.2' }, app.callback())
    : http.createServer(app.callback());
  // Slow-loris guard: a client gets this long to send its headers and its body.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  if (tls) {
    // A handshake that fails (plain HTTP on the HTTPS port, a scanner) ends its socket; Node leaves some open.
    server.on('tlsClientError', (_err: Error, socket: { destroy(): void }) => socket.destroy());
  }
  const reloadTls = (): { reloaded: boolean; error?: string } => {
    if (!tls) return { reloaded: false };
    try {
      (server as https.Server).setSecureContext({ ...readPair(tls), minVersion: 'TLSv1.2' });
      return { reloaded: true };
    } catch (err) {
      return { reloaded: false, error: (err as Error).message };
    }
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
      resolve({
        port,
        secure: tls !== undefined,
        reloadTls,
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
