import { PistonError } from '../lib/errors.js';
import { formatHostPort } from '../sip/transport/flow.js';
import type { Flow, Target } from '../sip/transport/flow.js';
import { isInvalidHost, isWildcard } from '../sip/transport/address.js';
import { transportForUri, transportNamed, transportOf, uriFor, type TransportDescriptor } from '../sip/transport/transport-descriptor.js';
import type { Destination } from '../sip/transaction/non-invite-client-transaction.js';
import { dialogNextHop } from '../sip/dialog/in-dialog-request.js';
import type { DialogState } from '../sip/dialog/dialog-state.js';
import type { SipUri } from '../sip/message/uri.js';
import type { RequestIdentity } from '../sip/ua/request-policy.js';
import type { FlowRecord, SubscriptionRecord } from '../store/records.js';

/**
 * Glue between the stored subscription record and the SIP dialog layer: the dialog view of a record, flows in and
 * out of their stored form, where a NOTIFY goes, and the Contact we give.
 */

/**
 * The RFC 3261 §12 dialog state held in a subscription record, as our requests in it use it: the route set only when
 * the subscription came from a trusted peer (routesHonoured). For anyone else Record-Route is ignored, so a NOTIFY
 * names no third party in its Route headers (RFC 3261 §16 / RFC 5626: it goes back on the watcher's own flow).
 */
export function dialogOf(rec: SubscriptionRecord): DialogState {
  return {
    callId: rec.callId,
    localTag: rec.localTag,
    remoteTag: rec.remoteTag,
    localUri: rec.resourceUri,
    remoteUri: rec.watcherUri,
    remoteTarget: rec.contact,
    routeSet: routesHonoured(rec.flow) ? rec.routeSet : NO_ROUTES,
    localCseq: rec.localCseq,
    remoteCseq: rec.remoteCseq,
  };
}

// Shared by every untrusted dialog view; nothing writes into a dialog's route set.
const NO_ROUTES = Object.freeze([]) as unknown as string[];

/**
 * The flow a request came on, in its stored form, marked `trustedPeer` when the policy said the request came from a
 * trusted peer (identity kind `peer`, sip/ua/request-policy.ts): trust comes from the peer's address or certificate,
 * never from a header, and is decided again on every SUBSCRIBE of the dialog.
 */
export function flowRecord(flow: Flow, identity?: RequestIdentity): FlowRecord {
  const rec: FlowRecord = {
    protocol: flow.protocol,
    localAddress: flow.localAddress,
    localPort: flow.localPort,
    remoteAddress: flow.remoteAddress,
    remotePort: flow.remotePort,
    connectionId: flow.connectionId ?? null,
  };
  if (identity?.kind === 'peer') rec.trustedPeer = true;
  return rec;
}

/**
 * Whether a subscription's NOTIFYs may go anywhere but its own flow: its route set (Record-Route) honoured and its
 * Contact dialled when the connection is gone. Only for a trusted peer (a PBX or proxy we were told to trust): for
 * anyone else both are the sender's say-so, and following them would let one SUBSCRIBE aim our NOTIFYs, and their
 * retransmissions, at a third party (issue 19).
 */
export function routesHonoured(flow: Pick<FlowRecord, 'trustedPeer'>): boolean {
  return flow.trustedPeer === true;
}

/** The transport a stored flow names. Throws for a name this build lacks (a record written by a later version). */
export function transportOfRecord(rec: Pick<FlowRecord, 'protocol'>): TransportDescriptor {
  const transport = transportNamed(rec.protocol);
  if (!transport) throw new PistonError('unknown-transport', `stored flow names transport '${rec.protocol}', which this server lacks`);
  return transport;
}

export function flowOf(rec: FlowRecord): Flow {
  const flow: Flow = {
    protocol: transportOfRecord(rec).name,
    localAddress: rec.localAddress,
    localPort: rec.localPort,
    remoteAddress: rec.remoteAddress,
    remotePort: rec.remotePort,
  };
  if (rec.connectionId !== null) flow.connectionId = rec.connectionId;
  return flow;
}

/**
 * Where a NOTIFY goes (sip-behaviour.md, Transports): phones sit behind NAT, so the flow the last SUBSCRIBE came on
 * is used (RFC 5626 flow reuse): over UDP its source address and port, over TCP its connection.
 *
 * Only for a trusted peer (routesHonoured) does it go further: the remote target is the fallback for when that TCP
 * connection is gone, and with a route set the request goes to the first Route (RFC 3261 §12.2.1.1, §8.1.2), through
 * the SUBSCRIBE's flow when that flow already leads there, else to the route's own address. An untrusted watcher
 * whose connection is gone is not dialled: the NOTIFY fails, and the subscription waits for the watcher's refresh
 * (which brings a new flow) or expires. The same holds for a subscription restored after a restart.
 *
 * Only the flow, without a fallback, also when the flow is one we cannot open ourselves (a WebSocket: this flow or
 * nothing) or when the next hop cannot be dialled as it asks (see targetOf).
 */
export function notifyDestination(rec: SubscriptionRecord): Destination {
  const flow = flowOf(rec.flow);
  const transport = transportOf(flow.protocol);
  if (!transport.dialable || !routesHonoured(rec.flow)) return flow;
  const hop = dialogNextHop(dialogOf(rec));
  const target = hop && targetOf(hop, transport);
  if (!target) return flow;
  if (rec.routeSet.length > 0 && !(target.host === flow.remoteAddress && target.port === flow.remotePort)) return target;
  // A fallback must use the flow's transport (the transaction's Via and timers follow the flow); a Contact that asks
  // for another one (`sips:` on a TCP flow) gets no fallback rather than a downgrade.
  if (target.protocol !== flow.protocol) return flow;
  return { flow, fallback: target };
}

/**
 * A SIP URI as a place to send to: its host, its port (else the transport's default) and the transport it asks for
 * (`otherwise` when it names none). Undefined when it is no place we can dial: not a SIP URI, or it asks for a
 * transport we lack or cannot open (a WebSocket), or its host is `.invalid`. `sips:` and `transport=tls` are dialled
 * over TLS only, never over TCP instead (a silent downgrade to plaintext). Such a watcher still gets its NOTIFYs on
 * the flow its SUBSCRIBE came on, as every watcher does; only the reconnect to its Contact is not attempted.
 */
export function targetOf(uri: SipUri, otherwise: TransportDescriptor): Target | undefined {
  if (uri.opaque !== undefined || uri.host === '') return undefined;
  // A WebSocket client's made-up host (RFC 7118 §5.2) never resolves (RFC 6761 §6.4): not a place to dial.
  if (isInvalidHost(uri.host)) return undefined;
  const transport = transportForUri(uri, otherwise);
  if (!transport || !transport.dialable) return undefined;
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  return { protocol: transport.name, host, port: uri.port ?? transport.defaultPort };
}

/** Our address as peers should write it: the configured public host, else the flow's local address when it is a real one. */
export interface LocalContact {
  /** The Contact URI, e.g. `sip:10.0.0.1:5060;transport=tcp`. */
  uri: string;
  /** `host:port` for our Via sent-by. */
  hostPort: string;
}

/** The Contact names the flow's transport, so the watcher's requests in the dialog come back over it (RFC 3261 §8.1.1.8). */
export function localContact(
  flow: Pick<FlowRecord, 'protocol' | 'localAddress' | 'localPort'>,
  publicHost: string | undefined,
  fallbackHost: string,
): LocalContact {
  const host = publicHost ?? (flow.localAddress === '' || isWildcard(flow.localAddress) ? fallbackHost : flow.localAddress);
  const hostPort = formatHostPort(host, flow.localPort);
  return { uri: uriFor(transportOfRecord(flow), hostPort), hostPort };
}
