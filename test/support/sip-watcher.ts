import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { dialogInfoVersion, frameStream, parseWire, responseTo, type WireMessage } from './sip-wire.js';

/**
 * A raw SIP endpoint for end-to-end tests of the notifier: it sends SUBSCRIBE and PUBLISH requests written out in
 * full, matches their final responses by Via branch, retransmits over UDP (RFC 3261 §17.1.2.2), and answers each
 * NOTIFY as the test's policy says (200, 481, or never). Every NOTIFY that arrives is recorded, retransmissions
 * included, so tests can check CSeq and version order per subscription.
 */

export interface NotifyRecord {
  readonly msg: WireMessage;
  readonly cseq: number;
  /** dialog-info version, when the body is a dialog-info document. */
  readonly version: number | undefined;
  readonly subscriptionState: string;
  /** A retransmission repeats a CSeq already received on this Call-ID. */
  readonly retransmission: boolean;
  /** 1-based count of distinct NOTIFY transactions on this Call-ID. */
  readonly transaction: number;
  readonly at: number;
  answeredWith: number | null;
}

/** Returns the status to answer a new NOTIFY transaction with, or null to stay silent (all its retransmissions too). */
export type NotifyPolicy = (notify: WireMessage, transaction: number) => number | null;

export interface SubscribeOptions {
  /** The watched extension (user part). */
  resource: string;
  /** The watched domain (Request-URI and To host); default 127.0.0.1. */
  domain?: string;
  /** The watcher's user part (From). */
  user: string;
  /** The whole From header value before its tag; default `<sip:{user}@127.0.0.1>`. */
  from?: string;
  event?: string;
  accept?: string | null;
  expires?: number;
  callId?: string;
  fromTag?: string;
  /** In-dialog request: the notifier's tag. */
  toTag?: string;
  cseq?: number;
}

export interface SubscribeResult {
  response: WireMessage;
  callId: string;
  fromTag: string;
  toTag: string | undefined;
}

export interface DialogPublication {
  id: string;
  callId: string;
  localTag: string;
  remoteTag: string;
  state: string;
  direction: 'initiator' | 'recipient';
  remote?: string;
}

const ACCEPT: Record<string, string> = {
  dialog: 'application/dialog-info+xml',
  presence: 'application/pidf+xml',
  'message-summary': 'application/simple-message-summary',
};

const token = (): string => randomBytes(6).toString('hex');

export class SipEndpoint {
  readonly notifies = new Map<string, NotifyRecord[]>();
  /** Requests other than NOTIFY that reached us (none are expected). */
  readonly otherRequests: WireMessage[] = [];
  defaultPolicy: NotifyPolicy = () => 200;
  private readonly policies = new Map<string, NotifyPolicy>();
  private readonly answered = new Map<string, number | null>();
  private readonly pending = new Map<string, (res: WireMessage) => void>();
  private readonly listeners = new Set<() => void>();
  private tcpRest: Buffer = Buffer.alloc(0);

  private constructor(
    readonly transport: 'UDP' | 'TCP',
    private readonly serverPort: number,
    private readonly udp?: UdpSocket,
    private readonly tcp?: TcpSocket,
    /** Our address in Via and Contact: where the socket is bound (any 127.0.0.0/8 address on Linux loopback). */
    readonly host = '127.0.0.1',
  ) {}

  static async udp(serverPort: number, localPort = 0, localAddress = '127.0.0.1'): Promise<SipEndpoint> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    await new Promise<void>((res, rej) => {
      socket.once('error', rej);
      socket.bind(localPort, localAddress, () => res());
    });
    const ep = new SipEndpoint('UDP', serverPort, socket, undefined, localAddress);
    socket.on('message', (buf) => ep.onMessage(buf.toString('utf8')));
    return ep;
  }

  static async tcp(serverPort: number): Promise<SipEndpoint> {
    const socket = await new Promise<TcpSocket>((res, rej) => {
      const s = connect({ port: serverPort, host: '127.0.0.1' }, () => res(s));
      s.once('error', rej);
    });
    socket.on('error', () => {
      /* the server may close the connection; tests see it as missing NOTIFYs */
    });
    const ep = new SipEndpoint('TCP', serverPort, undefined, socket);
    socket.on('data', (chunk: Buffer) => {
      const { messages, rest } = frameStream(Buffer.concat([ep.tcpRest, chunk]));
      ep.tcpRest = rest;
      for (const m of messages) ep.onMessage(m);
    });
    return ep;
  }

  get localPort(): number {
    return this.udp ? this.udp.address().port : this.tcp!.localPort!;
  }

  /** Sets how NOTIFYs of one subscription (by Call-ID) are answered. */
  setPolicy(callId: string, policy: NotifyPolicy): void {
    this.policies.set(callId, policy);
  }

  /** Distinct NOTIFY transactions received on a Call-ID (retransmissions left out). */
  transactions(callId: string): NotifyRecord[] {
    return (this.notifies.get(callId) ?? []).filter((n) => !n.retransmission);
  }

  /** Resolves true as soon as `predicate` holds, false after `ms`. */
  async waitUntil(predicate: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((res) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.listeners.delete(wake);
          res();
        };
        const timer = setTimeout(wake, Math.min(left, 250));
        this.listeners.add(wake);
      });
    }
    return true;
  }

  send(text: string): void {
    if (this.udp) this.udp.send(Buffer.from(text, 'utf8'), this.serverPort, '127.0.0.1');
    else if (!this.tcp!.destroyed) this.tcp!.write(text);
  }

  /**
   * Sends a request and resolves with its final response. Over UDP it is retransmitted with Timer A doubling from
   * 500 ms (RFC 3261 §17.1.2.2) until the response or `ms` passes.
   */
  async request(text: string, ms = 10_000): Promise<WireMessage> {
    const branch = parseWire(text).branch;
    if (!branch) throw new Error('request without a Via branch');
    const response = new Promise<WireMessage>((res) => this.pending.set(branch, res));
    let interval = 500;
    let timer: NodeJS.Timeout | undefined;
    const deadline = Date.now() + ms;
    const retransmit = (): void => {
      if (Date.now() >= deadline) return;
      this.send(text);
      if (this.udp) {
        timer = setTimeout(retransmit, interval);
        interval = Math.min(interval * 2, 4000);
      }
    };
    retransmit();
    const timeout = new Promise<never>((_, rej) => {
      const t = setTimeout(() => rej(new Error(`no final response to ${text.split('\r\n')[0]} within ${ms} ms`)), ms);
      void response.finally(() => clearTimeout(t));
    });
    try {
      return await Promise.race([response, timeout]);
    } finally {
      clearTimeout(timer);
      this.pending.delete(branch);
    }
  }

  subscribeText(o: SubscribeOptions & { callId: string; fromTag: string }): string {
    const event = o.event ?? 'dialog';
    const accept = o.accept === undefined ? ACCEPT[event] : o.accept;
    const port = this.localPort;
    const domain = o.domain ?? '127.0.0.1';
    return [
      `SUBSCRIBE sip:${o.resource}@${domain}:${this.serverPort} SIP/2.0`,
      `Via: SIP/2.0/${this.transport} ${this.host}:${port};branch=z9hG4bK${token()};rport`,
      'Max-Forwards: 70',
      `From: ${o.from ?? `<sip:${o.user}@127.0.0.1>`};tag=${o.fromTag}`,
      `To: <sip:${o.resource}@${domain}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
      `Call-ID: ${o.callId}`,
      `CSeq: ${o.cseq ?? 1} SUBSCRIBE`,
      `Contact: <sip:${o.user}@${this.host}:${port};transport=${this.transport.toLowerCase()}>`,
      `Event: ${event}`,
      ...(accept ? [`Accept: ${accept}`] : []),
      `Expires: ${o.expires ?? 3600}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  async subscribe(o: SubscribeOptions, ms?: number): Promise<SubscribeResult> {
    const callId = o.callId ?? `${token()}@piston-e2e`;
    const fromTag = o.fromTag ?? token();
    const response = await this.request(this.subscribeText({ ...o, callId, fromTag }), ms);
    return { response, callId, fromTag, toTag: response.toTag };
  }

  /** PUBLISH of one dialog (RFC 3903, RFC 4235 body); with `etag` it replaces that publication. */
  async publishDialog(o: { resource: string; dialog: DialogPublication; etag?: string; expires?: number }, ms?: number): Promise<{ response: WireMessage; etag: string | undefined }> {
    const d = o.dialog;
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\r\n` +
      `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:${o.resource}@127.0.0.1">\r\n` +
      `  <dialog id="${d.id}" call-id="${d.callId}" local-tag="${d.localTag}" remote-tag="${d.remoteTag}" direction="${d.direction}">\r\n` +
      `    <state>${d.state}</state>\r\n` +
      `    <local><identity>sip:${o.resource}@127.0.0.1</identity></local>\r\n` +
      `    <remote><identity>sip:${d.remote ?? 'caller'}@127.0.0.1</identity></remote>\r\n` +
      `  </dialog>\r\n` +
      `</dialog-info>\r\n`;
    const text = this.publishText({ resource: o.resource, ...(o.etag ? { etag: o.etag } : {}), expires: o.expires ?? 3600, body });
    const response = await this.request(text, ms);
    return { response, etag: response.header('sip-etag') };
  }

  /**
   * A dialog PUBLISH written out (RFC 3903): with `body` a new state, without it a refresh or (expires 0) a removal of
   * the publication `etag` names (§4.3, §4.5). `port`: the server's SIP port, by default the one this endpoint talks to.
   */
  publishText(o: { resource: string; etag?: string; expires: number; body?: string }, port = this.serverPort): string {
    return [
      `PUBLISH sip:${o.resource}@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/${this.transport} ${this.host}:${this.localPort};branch=z9hG4bK${token()};rport`,
      'Max-Forwards: 70',
      `From: <sip:${o.resource}@127.0.0.1>;tag=${token()}`,
      `To: <sip:${o.resource}@127.0.0.1>`,
      `Call-ID: ${token()}@piston-e2e-pub`,
      'CSeq: 1 PUBLISH',
      'Event: dialog',
      ...(o.etag ? [`SIP-If-Match: ${o.etag}`] : []),
      `Expires: ${o.expires}`,
      ...(o.body === undefined ? [] : ['Content-Type: application/dialog-info+xml']),
      `Content-Length: ${o.body === undefined ? 0 : Buffer.byteLength(o.body)}`,
      '',
      o.body ?? '',
    ].join('\r\n');
  }

  close(): Promise<void> {
    if (this.udp) return new Promise((res) => this.udp!.close(() => res()));
    this.tcp!.destroy();
    return Promise.resolve();
  }

  private onMessage(text: string): void {
    let msg: WireMessage;
    try {
      msg = parseWire(text);
    } catch {
      return;
    }
    if (msg.status !== undefined) {
      if (msg.status >= 200 && msg.branch) this.pending.get(msg.branch)?.(msg);
    } else if (msg.method === 'NOTIFY') {
      this.onNotify(msg);
    } else {
      this.otherRequests.push(msg);
    }
    for (const l of [...this.listeners]) l();
  }

  private onNotify(msg: WireMessage): void {
    const list = this.notifies.get(msg.callId) ?? [];
    this.notifies.set(msg.callId, list);
    const key = `${msg.callId} ${msg.cseq.seq}`;
    const retransmission = this.answered.has(key);
    const transaction = list.filter((n) => !n.retransmission).length + (retransmission ? 0 : 1);
    let code: number | null;
    if (retransmission) code = this.answered.get(key)!;
    else {
      code = (this.policies.get(msg.callId) ?? this.defaultPolicy)(msg, transaction);
      this.answered.set(key, code);
    }
    list.push({
      msg,
      cseq: msg.cseq.seq,
      version: dialogInfoVersion(msg.body),
      subscriptionState: msg.header('subscription-state') ?? '',
      retransmission,
      transaction,
      at: Date.now(),
      answeredWith: code,
    });
    if (code !== null) this.send(responseTo(msg, code));
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
