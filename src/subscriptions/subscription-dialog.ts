import { formatHostPort } from '../sip/transport/flow.js';
import type { Flow, Target } from '../sip/transport/flow.js';
import { isWildcard } from '../sip/transport/address.js';
import type { Destination } from '../sip/transaction/non-invite-client-transaction.js';
import { dialogNextHop } from '../sip/dialog/in-dialog-request.js';
import type { DialogState } from '../sip/dialog/dialog-state.js';
import type { SipUri } from '../sip/message/uri.js';
import type { FlowRecord, SubscriptionRecord } from '../store/records.js';

/**
 * Glue between the stored subscription record and the SIP dialog layer: the dialog view of a record, flows in and
 * out of their stored form, where a NOTIFY goes, and the Contact we give.
 */

/** The RFC 3261 §12 dialog state held in a subscription record. */
export function dialogOf(rec: SubscriptionRecord): DialogState {
  return {
    callId: rec.callId,
    localTag: rec.localTag,
    remoteTag: rec.remoteTag,
    localUri: rec.resourceUri,
    remoteUri: rec.watcherUri,
    remoteTarget: rec.contact,
    routeSet: rec.routeSet,
    localCseq: rec.localCseq,
    remoteCseq: rec.remoteCseq,
  };
}

export function flowRecord(flow: Flow): FlowRecord {
  return {
    protocol: flow.protocol,
    localAddress: flow.localAddress,
    localPort: flow.localPort,
    remoteAddress: flow.remoteAddress,
    remotePort: flow.remotePort,
    connectionId: flow.connectionId ?? null,
  };
}

export function flowOf(rec: FlowRecord): Flow {
  const flow: Flow = {
    protocol: rec.protocol,
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
 * is used, with the remote target as a fallback for when that TCP connection is gone. With a route set the request
 * goes to the first Route (RFC 3261 §12.2.1.1, §8.1.2): through the SUBSCRIBE's flow when that flow already leads
 * there, else to the route's own address.
 */
export function notifyDestination(rec: SubscriptionRecord): Destination {
  const flow = flowOf(rec.flow);
  const hop = dialogNextHop(dialogOf(rec));
  const target = hop && targetOf(hop, flow.protocol);
  if (!target) return flow;
  if (rec.routeSet.length > 0 && !(target.host === flow.remoteAddress && target.port === flow.remotePort)) return target;
  // A fallback must use the flow's protocol (the transaction's Via and timers follow the flow).
  return { flow, fallback: { ...target, protocol: flow.protocol } };
}

/** A SIP URI as a place to send to: its host and port (5060, or 5061 for sips) and its transport parameter. */
export function targetOf(uri: SipUri, defaultProtocol: 'udp' | 'tcp'): Target | undefined {
  if (uri.opaque !== undefined || uri.host === '') return undefined;
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  const transport = uri.params.get('transport')?.toLowerCase();
  const protocol = uri.scheme === 'sips' || transport === 'tcp' || transport === 'tls' ? 'tcp' : transport === 'udp' ? 'udp' : defaultProtocol;
  return { protocol, host, port: uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060) };
}

/** Our address as peers should write it: the configured public host, else the flow's local address when it is a real one. */
export interface LocalContact {
  /** The Contact URI, e.g. `sip:10.0.0.1:5060;transport=tcp`. */
  uri: string;
  /** `host:port` for our Via sent-by. */
  hostPort: string;
}

export function localContact(
  flow: Pick<FlowRecord, 'protocol' | 'localAddress' | 'localPort'>,
  publicHost: string | undefined,
  fallbackHost: string,
): LocalContact {
  const host = publicHost ?? (flow.localAddress === '' || isWildcard(flow.localAddress) ? fallbackHost : flow.localAddress);
  const hostPort = formatHostPort(host, flow.localPort);
  return { uri: `sip:${hostPort}${flow.protocol === 'tcp' ? ';transport=tcp' : ''}`, hostPort };
}
