import { ListAccountResolver } from './accounts/account-resolver.js';
import type { EventPackageRegistry } from './events/event-package.js';
import { ManualClock } from './lib/clock.js';
import { silentLogger } from './lib/logger.js';
import type { SipRequest, SipResponse } from './sip/message/message.js';
import { createResponse } from './sip/message/response-factory.js';
import { serialize } from './sip/message/serialize.js';
import { parseMessage } from './sip/parser/parse-message.js';
import type { ClientResult, Destination } from './sip/transaction/non-invite-client-transaction.js';
import type { Flow } from './sip/transport/flow.js';
import { TCP, UDP, transportOf, uriFor, type TransportDescriptor } from './sip/transport/transport-descriptor.js';
import { stampVia } from './sip/transport/via-stamp.js';
import { createPresenceStack, type PresenceStack } from './stack/index.js';

/**
 * A rehearsal of the SUBSCRIBE → NOTIFY and PUBLISH → NOTIFY paths on a scratch stack, run in idle slices after
 * start (main.ts): the real parser and the stack main.ts builds (src/stack/: UserAgentCore, Notifier, PresentityService
 * and their feed) over a memory store and a manual clock, with a scripted phone in place of the network that answers
 * every NOTIFY 200. Nothing reaches the server's store, sockets or timers.
 *
 * Why: V8 optimises a function only after it has run many times. A fresh server met its first 1,000 PUBLISH/s
 * (10 watchers each) with that path not yet optimised, and its first wave of NOTIFYs fell behind (bench/README.md,
 * fourth round: first-wave p50 791 and 846 ms in two of three runs, the second wave 7-74 ms). The fill's SUBSCRIBEs
 * warmed only their own path: in a 100/s run TurboFan still compiled 53 functions after the first PUBLISH-only one
 * (`--trace-opt`). Fan-out solo runs with and without this: bench/README.md, fifth round.
 */
export class Rehearsal {
  /** Counts of what the rehearsal drove, so a test can tell it exercised the paths it claims. */
  readonly done = { subscribed: 0, published: 0, notified: 0, refused: 0 };
  private readonly clock = new ManualClock(Date.now());
  private readonly stack: PresenceStack;
  /** Lines in a call: the publication's entity-tag and the round that started the call. */
  private readonly busy = new Map<number, { etag: string; call: number }>();
  private readonly sink = { respond: (res: SipResponse) => this.answered(res) };
  private lastResponse: SipResponse | undefined;
  private disposed = false;

  constructor(registry: EventPackageRegistry) {
    // The default store is a scratch memory store of the stack's own, closed by dispose.
    this.stack = createPresenceStack({
      clock: this.clock,
      logger: silentLogger,
      registry,
      accounts: new ListAccountResolver(() => [{ id: 'r'.repeat(32), realm: DOMAIN }], false),
      channel: { request: (req, destination) => this.phoneAnswers(req, destination) },
      nodeName: 'rehearsal',
      allDialogs: false,
    });
  }

  /**
   * Round `i`: the first WATCHERS rounds subscribe (RESOURCES lines, each watched for `dialog` three times and once
   * each for `presence` and `message-summary`, over UDP and TCP); the later ones, up to REHEARSAL_ROUNDS, PUBLISH a
   * line busy, or idle again with SIP-If-Match (RFC 3903 §4.4), so each line's watchers are notified.
   */
  round(i: number): void {
    if (this.disposed || i >= REHEARSAL_ROUNDS) return;
    this.clock.advance(1);
    const transport = i % 2 === 0 ? UDP : TCP;
    const line = i % RESOURCES;
    if (i < WATCHERS) {
      this.deliver(subscribeText(i, line, EVENTS[Math.floor(i / RESOURCES)]!, transport), transport);
      if (this.lastResponse?.status === 200) this.done.subscribed++;
      return;
    }
    // A call gets a dialog id of its own: a terminated id stays terminated (RFC 4235 §3.7.1).
    const busy = this.busy.get(line);
    this.deliver(publishText(i, line, busy ?? { etag: undefined, call: i }, transport), transport);
    const res = this.lastResponse;
    this.busy.delete(line);
    if (res?.status !== 200) return;
    this.done.published++;
    if (busy === undefined) this.busy.set(line, { etag: res.headers.get('sip-etag') ?? '', call: i });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stack.dispose();
  }

  /** The bytes a phone would send, through the parser and Via stamping as SipTransport does, into the stack. */
  private deliver(text: string, transport: TransportDescriptor): void {
    this.lastResponse = undefined;
    const req = parseMessage(Buffer.from(text), { datagram: !transport.stream }) as SipRequest;
    const flow = phoneFlow(transport);
    stampVia(req, flow.remoteAddress, flow.remotePort);
    this.stack.receive(req, flow, this.sink);
  }

  /** Serialised as the server transaction would, so that path warms too; the bytes go nowhere. */
  private answered(res: SipResponse): void {
    serialize(res);
    this.lastResponse = res;
    if (res.status >= 300) this.done.refused++;
  }

  /** The phone's side of a NOTIFY transaction: the wire bytes, and a 200 for them parsed as the server would. */
  private phoneAnswers(req: SipRequest, destination: Destination): Promise<ClientResult> {
    serialize(req);
    const response = parseMessage(serialize(createResponse(req, 200)), { datagram: true }) as SipResponse;
    this.done.notified++;
    const flow = 'flow' in destination ? destination.flow : phoneFlow(transportOf(destination.protocol));
    return Promise.resolve({ kind: 'response', response, flow });
  }
}

const DOMAIN = 'rehearsal.invalid';
const RESOURCES = 50;
const EVENTS = ['dialog', 'dialog', 'dialog', 'presence', 'message-summary'];
const WATCHERS = EVENTS.length * RESOURCES;
/** 250 SUBSCRIBEs, then 750 PUBLISHes and ~3,000 NOTIFYs: about 1 s of CPU after start, once. */
export const REHEARSAL_ROUNDS = 1000;
const PHONE = { address: '127.0.0.2', port: 5062 };

/** The phone's flow over each transport, one connection for a reliable one. */
const PHONE_FLOWS = new Map<TransportDescriptor, Flow>(
  [UDP, TCP].map((t) => {
    const flow: Flow = { protocol: t.name, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: PHONE.address, remotePort: PHONE.port };
    if (t.reliable) flow.connectionId = 1;
    return [t, flow];
  }),
);

function phoneFlow(transport: TransportDescriptor): Flow {
  return PHONE_FLOWS.get(transport)!;
}

function head(method: string, i: number, line: number, transport: TransportDescriptor, from: string, event: string): string[] {
  return [
    `${method} sip:${line + 1000}@${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/${transport.viaToken} ${PHONE.address}:${PHONE.port};branch=z9hG4bKrh${i};rport`,
    'Max-Forwards: 70',
    `From: <sip:${from}@${DOMAIN}>;tag=rt${i}`,
    `To: <sip:${line + 1000}@${DOMAIN}>`,
    `Call-ID: rehearsal-${i}@${PHONE.address}`,
    `CSeq: 1 ${method}`,
    `Event: ${event}`,
    'Expires: 3600',
  ];
}

function subscribeText(i: number, line: number, event: string, transport: TransportDescriptor): string {
  const lines = head('SUBSCRIBE', i, line, transport, `w${i}`, event);
  lines.push(`Contact: <${uriFor(transport, `w${i}@${PHONE.address}:${PHONE.port}`)}>`);
  if (event === 'dialog') lines.push('Accept: application/dialog-info+xml');
  return lines.concat('Content-Length: 0', '', '').join('\r\n');
}

/** A line going busy (no entity-tag yet: a new publication), or idle again (a modification of that publication). */
function publishText(i: number, line: number, call: { etag: string | undefined; call: number }, transport: TransportDescriptor): string {
  const { etag } = call;
  const entity = `sip:${line + 1000}@${DOMAIN}`;
  const state = etag === undefined ? 'confirmed' : 'terminated';
  const c = call.call;
  const body =
    '<?xml version="1.0"?>\r\n' +
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${i}" state="full" entity="${entity}">\r\n` +
    `<dialog id="d${c}" call-id="c${c}" local-tag="l${c}" remote-tag="r${c}" direction="recipient">` +
    `<state>${state}</state><local><identity>${entity}</identity></local>` +
    `<remote><identity>sip:caller${c}@${DOMAIN}</identity></remote></dialog>\r\n</dialog-info>\r\n`;
  const lines = head('PUBLISH', i, line, transport, `${line + 1000}`, 'dialog');
  if (etag !== undefined) lines.push(`SIP-If-Match: ${etag}`);
  lines.push('Content-Type: application/dialog-info+xml', `Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return lines.join('\r\n');
}
