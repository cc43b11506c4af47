import { Headers } from '../message/headers.js';
import { SipRequest } from '../message/message.js';
import { parseUri, formatUri, type SipUri } from '../message/uri.js';
import type { DialogState } from './dialog-state.js';

export interface InDialogRequestOptions {
  /** Our Contact URI (RFC 3261 §8.1.1.8), written in angle brackets. */
  contact?: string;
  /** A Via value; left out when absent, so the transaction layer adds its own. */
  via?: string;
  /** Extra header lines, written after the dialog headers in this order. */
  headers?: [string, string][];
  body?: Buffer;
  /** Exact Content-Type value (no parameters are added). */
  contentType?: string;
  maxForwards?: number;
}

/**
 * Builds a request inside a dialog (RFC 3261 §12.2.1.1). The CSeq written is `dialog.localCseq`: the caller raises
 * it (and stores it) before building, so CSeq never goes back even across restarts.
 *
 * - Loose routing (the first route carries `lr`) or no route set: Request-URI = remote target, Route = route set.
 * - Strict routing: Request-URI = first route, Route = the rest followed by the remote target.
 * - From = local URI with our tag, To = remote URI with the peer's tag, the dialog's Call-ID.
 */
export function createInDialogRequest(dialog: DialogState, method: string, opts: InDialogRequestOptions = {}): SipRequest {
  const { requestUri, routes } = routeRequest(dialog);
  const h = new Headers();
  if (opts.via !== undefined) h.append('Via', opts.via);
  h.append('Max-Forwards', String(opts.maxForwards ?? 70));
  for (const r of routes) h.append('Route', `<${r}>`);
  h.append('From', `<${dialog.localUri}>;tag=${dialog.localTag}`);
  h.append('To', dialog.remoteTag === '' ? `<${dialog.remoteUri}>` : `<${dialog.remoteUri}>;tag=${dialog.remoteTag}`);
  h.append('Call-ID', dialog.callId);
  h.append('CSeq', `${dialog.localCseq} ${method}`);
  if (opts.contact !== undefined) h.append('Contact', `<${opts.contact}>`);
  for (const [name, value] of opts.headers ?? []) h.append(name, value);
  if (opts.contentType !== undefined) h.append('Content-Type', opts.contentType);
  return new SipRequest(method, requestUri, h, opts.body ?? Buffer.alloc(0));
}

/** Request-URI and Route values for a request in this dialog (RFC 3261 §12.2.1.1). */
export function routeRequest(dialog: Pick<DialogState, 'routeSet' | 'remoteTarget'>): { requestUri: string; routes: string[] } {
  const first = dialog.routeSet[0];
  if (first === undefined) return { requestUri: asRequestUri(dialog.remoteTarget), routes: [] };
  const firstUri = tryParse(first);
  if (!firstUri || firstUri.params.has('lr')) return { requestUri: asRequestUri(dialog.remoteTarget), routes: [...dialog.routeSet] };
  // A strict router (RFC 2543) expects to find itself in the Request-URI; the remote target goes last in Route.
  return { requestUri: asRequestUri(first), routes: [...dialog.routeSet.slice(1), dialog.remoteTarget] };
}

/**
 * Where a request in this dialog goes first: the first route when there is a route set (§12.2.1.1, §8.1.2),
 * else the remote target. Undefined when that URI does not parse. Read-only: it may be shared (see tryParse).
 */
export function dialogNextHop(dialog: Pick<DialogState, 'routeSet' | 'remoteTarget'>): SipUri | undefined {
  return tryParse(dialog.routeSet[0] ?? dialog.remoteTarget);
}

/** URI headers (`?...`) and the `method` parameter are not allowed in a Request-URI (RFC 3261 §19.1.1, Table 1). */
function asRequestUri(text: string): string {
  const uri = tryParse(text);
  if (!uri || uri.opaque !== undefined || (uri.headers.size === 0 && !uri.params.has('method'))) return text;
  const params = new Map(uri.params);
  params.delete('method');
  return formatUri({ ...uri, params, headers: new Map() });
}

/**
 * The last URI read here, kept because a NOTIFY reads its dialog's remote target twice in a row (its next hop, then
 * its Request-URI): one parse instead of two per NOTIFY of a fan-out. What callers get must be treated as read-only.
 */
let lastText: string | undefined;
let lastUri: SipUri | undefined;

function tryParse(text: string): SipUri | undefined {
  if (text === lastText) return lastUri;
  let uri: SipUri | undefined;
  try {
    uri = parseUri(text);
  } catch {
    uri = undefined;
  }
  lastText = text;
  lastUri = uri;
  return uri;
}
