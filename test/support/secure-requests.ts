/**
 * SIP requests as TLS and WebSocket clients write them: a WebSocket client's Via and Contact host is `.invalid`
 * (RFC 7118 §5.2; JsSIP and SIP.js, transports.md §3.3), with no port in its Via.
 */
const unique = (): string => Math.random().toString(36).slice(2, 10);

export interface SecureSubscribeSpec {
  /** Via transport token: TLS, WS or WSS. */
  via: 'TLS' | 'WS' | 'WSS';
  /** Via sent-by: `host[:port]`; default a fresh `.invalid` host for WS/WSS, 127.0.0.1:5099 for TLS. */
  sentBy?: string;
  user?: string;
  domain?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  cseq?: number;
  expires?: number;
  event?: string;
  contact?: string;
  /** From user; default a fresh one, so two test watchers never replace each other. */
  fromUser?: string;
}

export function subscribeText(spec: SecureSubscribeSpec): string {
  const user = spec.user ?? '1001';
  const domain = spec.domain ?? 'example.com';
  const sentBy = spec.sentBy ?? (spec.via === 'TLS' ? '127.0.0.1:5099' : `${unique()}.invalid`);
  const uriTransport = spec.via === 'TLS' ? '' : ';transport=ws';
  const scheme = spec.via === 'TLS' ? 'sips' : 'sip';
  return [
    `SUBSCRIBE sip:${user}@${domain} SIP/2.0`,
    `Via: SIP/2.0/${spec.via} ${sentBy};branch=z9hG4bK${unique()}`,
    'Max-Forwards: 70',
    `From: <sip:${spec.fromUser ?? 'w' + unique()}@${domain}>;tag=${spec.fromTag ?? 'f' + unique()}`,
    `To: <sip:${user}@${domain}>${spec.toTag ? `;tag=${spec.toTag}` : ''}`,
    `Call-ID: ${spec.callId ?? unique()}`,
    `CSeq: ${spec.cseq ?? 1} SUBSCRIBE`,
    `Contact: ${spec.contact ?? `<${scheme}:w${unique()}@${sentBy}${uriTransport}>`}`,
    `Event: ${spec.event ?? 'dialog'}`,
    `Expires: ${spec.expires ?? 600}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export function optionsText(via: string, sentBy: string): string {
  return [
    'OPTIONS sip:ping@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/${via} ${sentBy};branch=z9hG4bK${unique()}`,
    'Max-Forwards: 70',
    `From: <sip:tester@127.0.0.1>;tag=t${unique()}`,
    'To: <sip:ping@127.0.0.1>',
    `Call-ID: ${unique()}@test`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A 200 to a request received as text (Via, From, To, Call-ID, CSeq copied). */
export function okTo(request: string): string {
  const lines = request.split('\r\n');
  const copy = lines.filter((l) => /^(via|v|from|f|to|t|call-id|i|cseq):/i.test(l));
  return ['SIP/2.0 200 OK', ...copy, 'Content-Length: 0', '', ''].join('\r\n');
}

/** SIP messages (requests and responses) cut out of a stream's text by Content-Length. */
export function splitStream(text: string): string[] {
  const out: string[] = [];
  let rest = text.replace(/^(\r\n)+/, '');
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = rest.slice(0, end);
    const cl = Number(/\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const total = end + 4 + cl;
    if (rest.length < total) break;
    out.push(rest.slice(0, total));
    rest = rest.slice(total).replace(/^(\r\n)+/, '');
  }
  return out;
}

/** A dialog-info document (RFC 4235) with one dialog in `state`, for PUBLISH. */
export function dialogInfo(entity: string, state: 'early' | 'confirmed' | 'terminated', id = 'd1'): string {
  return (
    '<?xml version="1.0"?>\n' +
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="${entity}">` +
    `<dialog id="${id}" direction="initiator"><state>${state}</state></dialog></dialog-info>`
  );
}
