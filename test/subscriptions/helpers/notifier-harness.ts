/**
 * A notifier on the real SIP stack (TransactionLayer + UserAgentCore) over the in-memory loop network and a
 * ManualClock, with a scripted phone on the other side: it sends SUBSCRIBEs, collects responses and NOTIFYs, and
 * answers each NOTIFY as the test decides (a status code, or silence).
 */
import { ListAccountResolver, type AccountResolver } from '../../../src/accounts/account-resolver.js';
import { createDefaultRegistry } from '../../../src/events/default-registry.js';
import type { EventPackageRegistry, MailboxCounts, ManualState } from '../../../src/events/event-package.js';
import type { PresentitySource } from '../../../src/subscriptions/presentity-source.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { createResponse } from '../../../src/sip/message/response-factory.js';
import { TransactionLayer } from '../../../src/sip/transaction/transaction-layer.js';
import type { Flow } from '../../../src/sip/transport/flow.js';
import type { TransportName } from '../../../src/sip/transport/transport-descriptor.js';
import { UserAgentCore } from '../../../src/sip/ua/user-agent-core.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import type { StoreBackend } from '../../../src/store/ports.js';
import type { SubscriptionRecord } from '../../../src/store/records.js';
import { PresentityService } from '../../../src/presentity/presentity-service.js';
import { Notifier } from '../../../src/subscriptions/notifier.js';
import { createPresenceFeed, type PresenceFeed, type RemovalReason } from '../../../src/feed/presence-feed.js';
import { LoopNetwork, type LoopTransport } from '../../support/loop-transport.js';
import { FakeIncoming } from '../../support/sip-builders.js';
import { FakePresentity } from './fake-presentity.js';

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
  /** The real PresentityService (default) or the in-memory fake, which can also announce a change that changed nothing. */
  presentity?: 'real' | 'fake';
  /** NOTIFY transactions in flight at once (the notifier's send window). */
  notifyWindow?: number;
  /** The real PresentityService's PUBLISH minimum (Kamailio publishes a terminated call with Expires 11). */
  minPublishExpires?: number;
}

/** The presentity methods tests drive. */
export interface TestPresentity extends PresentitySource {
  setManualState(resource: string, state: ManualState): void;
  setMailbox(mailbox: string, counts: MailboxCounts | null): void;
  reset(resource: string): void;
  dispose(): void;
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
  readonly clock: ManualClock;
  readonly net: LoopNetwork;
  readonly server: LoopTransport;
  readonly phone: LoopTransport;
  readonly layer: TransactionLayer;
  readonly ua: UserAgentCore;
  readonly store: StoreBackend;
  readonly registry: EventPackageRegistry;
  readonly presentity: TestPresentity;
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
  /** The real PresentityService, when the harness has it (not the fake): PUBLISHes go there. */
  private readonly service: PresentityService | undefined;

  constructor(opts: HarnessOptions = {}) {
    this.protocol = opts.protocol ?? 'udp';
    this.clock = opts.clock ?? new ManualClock();
    this.net = new LoopNetwork(this.clock);
    this.server = this.net.endpoint(SERVER_ADDRESS, 5060);
    this.phone = this.net.endpoint(PHONE_ADDRESS, PHONE_PORT);
    this.phoneFlow = this.phone.flowTo(this.server, this.protocol);
    this.layer = new TransactionLayer(this.server, { clock: this.clock, logger: silentLogger });
    this.ua = new UserAgentCore({
      logger: silentLogger,
      allowEvents: () => this.registry.names(),
      accept: () => this.registry.contentTypes(),
    });
    this.layer.onRequest((req, tx) => this.ua.receive(req, tx.flow, { respond: (res) => void tx.respond(res) }));
    this.store = opts.store ?? new MemoryStore();
    this.registry = opts.registry ?? createDefaultRegistry();
    const accounts = opts.accounts ?? new ListAccountResolver(() => [{ id: 'a'.repeat(32), realm: DOMAIN }], false);
    this.feed = createPresenceFeed({ logger: silentLogger });
    this.feed.subscribe((e) => {
      if (e.kind === 'subscription-removed') this.removed.push({ id: e.subscription.id, reason: e.reason });
    });
    this.service =
      opts.presentity === 'fake'
        ? undefined
        : new PresentityService({
            store: this.store,
            registry: this.registry,
            accounts,
            clock: this.clock,
            logger: silentLogger,
            feed: this.feed,
            ...(opts.minPublishExpires === undefined ? {} : { minPublishExpires: opts.minPublishExpires }),
          });
    this.presentity = this.service ?? new FakePresentity(this.registry, this.clock);
    this.notifier = new Notifier({
      store: this.store,
      registry: this.registry,
      presentity: this.presentity,
      accounts,
      channel: this.layer,
      clock: this.clock,
      logger: silentLogger,
      nodeName: 'piston@test',
      allDialogs: false,
      feed: this.feed,
      ...(opts.notifyWindow === undefined ? {} : { notifyWindow: opts.notifyWindow }),
    });
    this.ua.register('SUBSCRIBE', (incoming) => this.notifier.handleSubscribe(incoming));
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

  /** Hands a PUBLISH to the real PresentityService (RFC 3903), lets the NOTIFYs it causes go out, returns its answer. */
  async publish(request: SipRequest): Promise<FakeIncoming> {
    if (!this.service) throw new Error('PUBLISH needs the real PresentityService');
    const incoming = new FakeIncoming(request);
    this.service.handlePublish(incoming);
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

  /** Closes the phone's TCP connection (the server's flow is gone). */
  closeConnection(): void {
    this.server.closeConnection({ ...this.phoneFlow, connectionId: this.phoneFlow.connectionId! });
  }

  dispose(): void {
    this.notifier.dispose();
    this.presentity.dispose();
    this.layer.close();
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
