import { formatHostPort } from './flow.js';
import type { TcpConnection } from './tcp-connection.js';

/**
 * Open TCP connections by id and by remote ip:port, so a request to a peer that connected to us reuses its
 * connection (RFC 3261 §18.1.1: "a client MAY use an existing connection"; RFC 5923 for the inbound reuse idea).
 */
export class ConnectionTable {
  private readonly byId = new Map<number, TcpConnection>();
  private readonly byRemote = new Map<string, TcpConnection[]>();

  get size(): number {
    return this.byId.size;
  }

  add(conn: TcpConnection): void {
    this.byId.set(conn.id, conn);
    const key = remoteKey(conn.flow.protocol, conn.flow.remoteAddress, conn.flow.remotePort);
    const list = this.byRemote.get(key);
    if (list) list.push(conn);
    else this.byRemote.set(key, [conn]);
  }

  remove(conn: TcpConnection): void {
    this.byId.delete(conn.id);
    const key = remoteKey(conn.flow.protocol, conn.flow.remoteAddress, conn.flow.remotePort);
    const list = this.byRemote.get(key)?.filter((c) => c !== conn);
    if (list && list.length > 0) this.byRemote.set(key, list);
    else this.byRemote.delete(key);
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
