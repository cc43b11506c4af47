import { formatHostPort } from './flow.js';
import type { TcpConnection } from './tcp-connection.js';

/**
 * Open TCP connections by id and by remote ip:port, so a request to a peer that connected to us reuses its
 * connection (RFC 3261 §18.1.1: "a client MAY use an existing connection"; RFC 5923 for the inbound reuse idea).
 */
export class ConnectionTable {
  private readonly byId = new Map<number, TcpConnection>();
  private readonly byRemote = new Map<string, TcpConnection[]>();
  /** Open connections per remote address (any port): the per-address cap's count, kept as they come and go. */
  private readonly perAddress = new Map<string, number>();

  get size(): number {
    return this.byId.size;
  }

  add(conn: TcpConnection): void {
    this.byId.set(conn.id, conn);
    const key = remoteKey(conn.flow.protocol, conn.flow.remoteAddress, conn.flow.remotePort);
    const list = this.byRemote.get(key);
    if (list) list.push(conn);
    else this.byRemote.set(key, [conn]);
    const address = conn.flow.remoteAddress;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
  }

  remove(conn: TcpConnection): void {
    if (!this.byId.delete(conn.id)) return;
    const address = conn.flow.remoteAddress;
    const n = (this.perAddress.get(address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(address, n);
    else this.perAddress.delete(address);
    const key = remoteKey(conn.flow.protocol, conn.flow.remoteAddress, conn.flow.remotePort);
    const list = this.byRemote.get(key)?.filter((c) => c !== conn);
    if (list && list.length > 0) this.byRemote.set(key, list);
    else this.byRemote.delete(key);
  }

  /** Open connections with this remote address (normalised), whatever their port. */
  countFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  get(id: number): TcpConnection | undefined {
    return this.byId.get(id);
  }

  /**
   * The newest open connection of that transport (TCP or TLS: a plaintext one never serves a TLS target) to that remote
   * address and port (addresses normalised by the caller).
   */
  findByRemote(protocol: string, address: string, port: number): TcpConnection | undefined {
    const list = this.byRemote.get(remoteKey(protocol, address, port));
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.isOpen) return list[i];
    return undefined;
  }

  all(): TcpConnection[] {
    return [...this.byId.values()];
  }
}

function remoteKey(protocol: string, address: string, port: number): string {
  return `${protocol}|${formatHostPort(address, port)}`;
}
