import type { Socket } from 'node:net';

/**
 * TLS sockets accepted and still in their handshake, per remote address. The per-address connection cap counts them
 * with the established connections: a source that opens sockets and never finishes a handshake would otherwise hold
 * up to the global cap of them for the handshake deadline each, out of reach of its own cap.
 */
export class HandshakeTally {
  private readonly pending = new Map<string, Set<number>>();

  /** How many sockets from `address` are in their handshake now. */
  count(address: string): number {
    return this.pending.get(address)?.size ?? 0;
  }

  /** Counts `raw` until its handshake settles or it closes, whichever comes first. */
  begin(address: string, raw: Socket): void {
    const port = raw.remotePort ?? 0;
    let ports = this.pending.get(address);
    if (!ports) this.pending.set(address, (ports = new Set()));
    ports.add(port);
    raw.once('close', () => this.settle(address, port));
  }

  /** The handshake of the socket from `address`:`port` ended (secure, failed or closed); a repeat is a no-op. */
  settle(address: string, port: number): void {
    const ports = this.pending.get(address);
    if (!ports?.delete(port)) return;
    if (ports.size === 0) this.pending.delete(address);
  }
}
