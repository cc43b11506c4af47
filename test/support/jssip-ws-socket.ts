import { WebSocket } from 'ws';

/**
 * A JsSIP socket (its `JsSIP.Socket` interface: connect, send, the on* callbacks) on the `ws` package, so JsSIP runs
 * in Node, where there is no global WebSocket without a flag (transports.md §3.3). It speaks to the server as
 * JsSIP's own WebSocketInterface does in a browser: subprotocol `sip`, text frames out, text or binary in.
 */
export class JsSipWsSocket {
  via_transport: string;
  readonly url: string;
  readonly sip_uri: string;
  private ws: WebSocket | undefined;
  private connecting = false;
  // Set by JsSIP's transport after construction.
  onconnect: () => void = () => {};
  ondisconnect: (error: boolean, code?: number, reason?: string) => void = () => {};
  ondata: (data: string) => void = () => {};

  constructor(url: string) {
    const u = new URL(url);
    this.url = url;
    this.via_transport = u.protocol === 'wss:' ? 'WSS' : 'WS';
    this.sip_uri = `sip:${u.hostname}${u.port ? ':' + u.port : ''};transport=ws`;
  }

  connect(): void {
    this.connecting = true;
    const ws = new WebSocket(this.url, 'sip', { rejectUnauthorized: false });
    this.ws = ws;
    ws.on('open', () => {
      this.connecting = false;
      this.onconnect();
    });
    ws.on('message', (data: Buffer) => this.ondata(data.toString('utf8')));
    ws.on('close', (code: number, reason: Buffer) => {
      this.connecting = false;
      this.ondisconnect(code !== 1000, code, reason.toString());
    });
    ws.on('error', () => {
      /* followed by close */
    });
  }

  disconnect(): void {
    this.ws?.close(1000);
  }

  send(message: string): boolean {
    if (!this.isConnected()) return false;
    this.ws!.send(message);
    return true;
  }

  isConnected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  isConnecting(): boolean {
    return this.connecting;
  }

  /** Drops the connection without a closing handshake, as a browser tab that is reloaded or killed. */
  kill(): void {
    this.ws?.terminate();
  }
}
