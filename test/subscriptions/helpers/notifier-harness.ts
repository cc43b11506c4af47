/**
 * The server's SIP stack as main.ts builds it (createPresenceStack: TransactionLayer, UserAgentCore, PresentityService,
 * Notifier, one feed) over the in-memory loop network and a ManualClock, with a scripted phone on the other side: it
 * sends SUBSCRIBEs, collects responses and NOTIFYs, and answers each NOTIFY as the test decides (a status code, or
 * silence).
 */
import { ListAccountResolver, type AccountResolver } from '../../../src/accounts/account-resolver.js';
import { createDefaultRegistry } from '../../../src/events/default-registry.js';
import type { EventPackageRegistry } from '../../../src/events/event-package.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger, type Logger } from '../../../src/lib/logger.js';
import type { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { createResponse } from '../../../src/sip/message/response-factory.js';
import type { TransactionLayer } from '../../../src/sip/transaction/transaction-layer.js';
import type { Flow } from '../../../src/sip/transport/flow.js';
import type { TransportName } from '../../../src/sip/transport/transport-descriptor.js';
import type { UserAgentCore } from '../../../src/sip/ua/user-agent-core.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import type { StoreBackend } from '../../../src/store/ports.js';
import type { SubscriptionRecord } from '../../../src/store/records.js';
import type { PresentityService } from '../../../src/presentity/presentity-service.js';
import type { Notifier } from '../../../src/subscriptions/notifier.js';
import type { PresenceFeed, RemovalReason } from '../../../src/feed/presence-feed.js';
import { createPresenceStack, type PresencePolicy, type PresenceStack } from '../../../src/stack/index.js';
import { LoopNetwork, type LoopTransport } from '../../support/loop-transport.js';
import { FakeIncoming } from '../../support/sip-builders.js';

export const SERVER_ADDRESS = '10.0.0.1';
export const PHONE_ADDRESS = '192.168.1.20';
export const PHONE_PORT = 5062;
export const DOMAIN = 'example.com';

export type NotifyAnswer = number | 'ignore';

export interface SubscribeSpec {
  /** Watched user (Request-URI and To). */
  user?: string;
  domain?: string;
  /** Watcher user (From). */
  fromUser?: string;
  callId?: string;
  fromTag?: string;
  /** To tag: present for in-dialog requests. */
  toTag?: string;
  cseq?: number;
  /** Full Event value; default `dialog`. null leaves the header out. */
  event?: string | null;
  /** null leaves Expires out. */
  expires?: number | null;
  /** null leaves Accept out (the default: many phones send none). */
  accept?: string | null;
  /** null leaves Contact out. */
  contact?: string | null;
  recordRoute?: string[];
  requestUri?: string;
  extraHeaders?: string[];
}

let seq = 0;
const unique = (): string => `${++seq}${Math.random().toString(36).slice(2, 8)}`;

export function subscribeBytes(spec: SubscribeSpec, protocol: TransportName): Buffer {
  const user = spec.user ?? '1001';
  const domain = spec.domain ?? DOMAIN;
  const fromUser = spec.fromUser ?? '2001';
  const at = (u: string): string => (u === '' ? '' : `${u}@`);
  const lines = [
    `SUBSCRIBE ${spec.requestUri ?? `sip:${at(user)}${domain}`} SIP/2.0`,
    `Via: SIP/2.0/${protocol.toUpperCase()} ${PHONE_ADDRESS}:${PHONE_PORT};branch=z9hG4bK${unique()};rport`,
    'Max-Forwards: 70',
    `From: <sip:${at(fromUser)}${domain}>;tag=${spec.fromTag ?? 'ft' + unique()}`,
    `To: <sip:${at(user)}${domain}>${spec.toTag ? `;tag=${spec.toTag}` : ''}`,
    `Call-ID: ${spec.callId ?? 'cid' + unique() + '@' + PHONE_ADDRESS}`,
    `CSeq: ${spec.cseq ?? 1} SUBSCRIBE`,
  ];
  for (const rr of spec.recordRoute ?? []) lines.push(`Record-Route: ${rr}`);
  const contact = spec.contact === undefined ? `<sip:${at(fromUser)}${PHONE_ADDRESS}:${PHONE_PORT}>` : spec.contact;
  if (contact !== null) lines.push(`Contact: ${contact}`);
  const event = spec.event === undefined ? 'dialog' : spec.event;
  if (event !== null) lines.push(`Event: ${event}`);
  const expires = spec.expires === undefined ? 3600 : spec.expires;
  if (expires !== null) lines.push(`Expires: ${expires}`);
  if (spec.accept) lines.push(`Accept: ${spec.accept}`);
  lines.push(...(spec.extraHeaders ?? []));
  lines.push('Content-Length: 0', '', '');
  return Buffer.from(lines.join('\r\n'));
}

export interface HarnessOptions {
  protocol?: TransportName;
  store?: StoreBackend;
  clock?: ManualClock;
  accounts?: AccountResolver;
  registry?: EventPackageRegistry;
  /** The stack's policy port (default: everything admitted and allowed). */
  policy?: PresencePolicy;
  /** NOTIFY transactions in flight at once (the notifier's send window). */
  notifyWindow?: number;
  /** The real PresentityService's PUBLISH minimum (Kamailio publishes a terminated call with Expires 11). */
  minPublishExpires?: number;
  /** Default: silent. */
  logger?: Logger;
}

/** A SUBSCRIBE dialog as the phone sees it, to send refreshes in. */
export interface PhoneDialog {
  spec: SubscribeSpec;
  response: SipResponse;
  callId: string;
  fromTag: string;
  toTag: string;
  cseq: number;
}

export class NotifierHarness {
  readonly stack: PresenceStack;
  readonly clock: ManualClock;
  readonly net: LoopNetwork;
  readonly server: LoopTransport;
  readonly phone: LoopTransport;
  readonly layer: TransactionLayer;
  readonly ua: UserAgentCore;
  readonly store: StoreBackend;
  readonly registry: EventPackageRegistry;
  readonly presentity: PresentityService;
  readonly notifier: Notifier;
  /** The feed shared by the presentity service and the notifier; `removed` is one observer of it. */
  readonly feed: PresenceFeed;
  readonly protocol: TransportName;
  /** Distinct NOTIFYs the phone received (retransmissions left out), in order. */
  readonly notifies: SipRequest[] = [];
  /** Every copy of every NOTIFY received, retransmissions included. */
  notifyCopies = 0;
  readonly responses: SipResponse[] = [];
  readonly removed: { id: string; reason: RemovalReason }[] = [];
  /** Decides how the phone answers a new NOTIFY; retransmissions get the same answer. */
  answer: (notify: SipRequest) => NotifyAnswer = () => 200;
  private readonly answered = new Map<string, NotifyAnswer>();
  private readonly notifyFlows = new Map<SipRequest, Flow>();
  private phoneFlow: Flow;

  constructor(opts: HarnessOptions = {}) {
    this.protocol = opts.protocol ?? 'udp';
    this.clock = opts.clock ?? new ManualClock();
    this.net = new LoopNetwork(this.clock);
    this.server = this.net.endpoint(SERVER_ADDRESS, 5060);
    this.phone = this.net.endpoint(PHONE_ADDRESS, PHONE_PORT);
    this.phoneFlow = this.phone.flowTo(this.server, this.protocol);
    this.store = opts.store ?? new MemoryStore();
    this.registry = opts.registry ?? createDefaultRegistry();
    this.stack = createPresenceStack({
      store: this.store,
      clock: this.clock,
      logger: opts.logger ?? silentLogger,
      registry: this.registry,
      accounts: opts.accounts ?? new ListAccountResolver(() => [{ id: 'a'.repeat(32), realm: DOMAIN }], false),
      // The loop endpoint carries both transports, as SipTransport does.
      transports: { udp: this.server, tcp: this.server },
      nodeName: 'piston@test',
      allDialogs: false,
      ...(opts.policy === undefined ? {} : { policy: opts.policy }),
      ...(opts.notifyWindow === undefined ? {} : { notifyWindow: opts.notifyWindow }),
      ...(opts.minPublishExpires === undefined ? {} : { minPublishExpires: opts.minPublishExpires }),
    });
    this.layer = this.stack.transactions!;
    this.ua = this.stack.ua;
    this.presentity = this.stack.presentity;
    this.notifier = this.stack.notifier;
    this.feed = this.stack.feed;
    this.feed.subscribe((e) => {
      if (e.kind === 'subscription-removed') this.removed.push({ id: e.subscription.id, reason: e.reason });
    });
    this.phone.onMessage((msg, flow) => {
      if (msg.isRequest()) this.onPhoneRequest(msg, flow);
      else this.responses.push(msg as SipResponse);
    });
  }

  /** Moves time by `ms`, then lets deliveries and promise continuations settle until nothing moves. */
  async tick(ms = 0): Promise<void> {
    this.clock.advance(ms);
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.clock.advance(0);
    }
  }

  /** Sends a SUBSCRIBE from the phone and returns the final response to it. */
  async send(spec: SubscribeSpec): Promise<SipResponse> {
    const bytes = subscribeBytes(spec, this.protocol);
    const before = this.responses.length;
    await this.phone.send(bytes, this.phoneFlow);
    await this.tick();
    const res = this.responses.slice(before).find((r) => r.cseq.method === 'SUBSCRIBE' && r.status >= 200);
    if (!res) throw new Error('no final response to SUBSCRIBE');
    return res;
  }

  /** A new subscription from the phone; returns its dialog for refreshes. */
  async subscribe(spec: SubscribeSpec = {}): Promise<PhoneDialog> {
    const full: SubscribeSpec = {
      callId: 'cid' + unique() + '@' + PHONE_ADDRESS,
      fromTag: 'ft' + unique(),
      cseq: 1,
      ...spec,
    };
    const response = await this.send(full);
    return { spec: full, response, callId: full.callId!, fromTag: full.fromTag!, toTag: response.to.params.get('tag') ?? '', cseq: full.cseq! };
  }

  /** A SUBSCRIBE in an existing dialog (refresh or, with expires 0, unsubscribe); CSeq rises by one. */
  async resubscribe(dialog: PhoneDialog, spec: SubscribeSpec = {}): Promise<SipResponse> {
    dialog.cseq += 1;
    return this.send({ ...dialog.spec, toTag: dialog.toTag, cseq: dialog.cseq, ...spec });
  }

  /** Hands a PUBLISH to the PresentityService (RFC 3903), lets the NOTIFYs it causes go out, returns its answer. */
  async publish(request: SipRequest): Promise<FakeIncoming> {
    const incoming = new FakeIncoming(request);
    this.presentity.handlePublish(incoming);
    await this.tick();
    return incoming;
  }

  /** Answers a NOTIFY by hand (one the phone ignored), then lets things settle. */
  async reply(notify: SipRequest, status: number): Promise<void> {
    await this.phone.send(createResponse(notify, status), this.notifyFlows.get(notify)!);
    await this.tick();
  }

  /** The live record of the only subscription, or of the one with this Call-ID. */
  record(callId?: string): SubscriptionRecord | undefined {
    const all = this.notifier.list(DOMAIN);
    return callId === undefined ? all[0] : all.find((r) => r.callId === callId);
  }

  /** The phone opens a new TCP connection (after `closeConnection`): its next requests come on it. */
  reconnect(): void {
    this.phoneFlow = this.phone.flowTo(this.server, this.protocol);
  }

  /** Closes the phone's TCP connection (the server's flow is gone). */
  closeConnection(): void {
    this.server.closeConnection({ ...this.phoneFlow, connectionId: this.phoneFlow.connectionId! });
  }

  dispose(): void {
    this.stack.dispose();
  }

  private onPhoneRequest(req: SipRequest, flow: Flow): void {
    if (req.method !== 'NOTIFY') return;
    this.notifyCopies++;
    const branch = req.topVia.params.get('branch') ?? '';
    let answer = this.answered.get(branch);
    if (answer === undefined) {
      this.notifies.push(req);
      this.notifyFlows.set(req, flow);
      answer = this.answer(req);
      this.answered.set(branch, answer);
    }
    if (answer !== 'ignore') void this.phone.send(createResponse(req, answer), flow);
  }
}

/** A NOTIFY body as text. */
export function bodyText(req: SipRequest): string {
  return req.body.toString('utf8');
}

/** The RFC 4235 `version` attribute of a dialog-info body. */
export function dialogVersion(req: SipRequest): number {
  const m = /<dialog-info[^>]*\sversion="(\d+)"/.exec(bodyText(req));
  if (!m) throw new Error('no dialog-info version in body');
  return Number(m[1]);
}
