import { PistonError } from './errors.js';

/**
 * A listener that could not bind, said in the operator's terms: which service, which address, why, and which
 * variable to change. The composition root prints `message` as it is (no stack trace: the cause is the
 * environment, not the code).
 */
export class ListenError extends PistonError {
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super('listen_failed', message);
  }
}

export interface ListenTarget {
  /** What was listening, e.g. "SIP (UDP and TCP)" or "the admin API". */
  service: string;
  hostVariable: string;
  portVariable: string;
  /** The configured port (the error's own address and port are preferred when it has them). */
  port: number;
  host: string;
}

/**
 * Turns a bind failure (EADDRINUSE, EACCES, EADDRNOTAVAIL) into a ListenError naming the variable to change;
 * any other error is returned unchanged.
 */
export function describeListenError(err: unknown, target: ListenTarget): unknown {
  const e = err as { code?: unknown; address?: unknown; port?: unknown; syscall?: unknown };
  const host = typeof e.address === 'string' ? e.address : target.host;
  const port = typeof e.port === 'number' ? e.port : target.port;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const proto = e.syscall === 'bind' ? ' (UDP)' : e.syscall === 'listen' ? ' (TCP)' : '';
  const head = `${target.service} cannot listen on ${where}${proto}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return new ListenError(
        `${head}: the port is already in use by another process. Stop that process or choose another port with ` +
          `${target.portVariable} (now ${target.port}).`,
        target.portVariable,
      );
    case 'EACCES':
      return new ListenError(
        `${head}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE). Choose a port from 1024 up ` +
          `with ${target.portVariable} (now ${target.port}).`,
        target.portVariable,
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(
        `${head}: ${host} is not an address of this machine. Set ${target.hostVariable} to one of its addresses ` +
          `(0.0.0.0 or :: for all).`,
        target.hostVariable,
      );
    default:
      return err;
  }
}
