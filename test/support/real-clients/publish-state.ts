import { randomBytes } from 'node:crypto';
import { UdpPeer, statusCodes } from '../sip-client.js';

/**
 * Changes a resource's state the way a PBX would, with one PUBLISH over UDP (RFC 3903 §4), so a real client
 * watching through the server has to see the change. Bodies are written out here, independent of the server's code.
 */

export interface PublishResult {
  status: number | undefined;
  etag: string | undefined;
  response: string;
}

export interface PublishOptions {
  resource: string;
  event: 'dialog' | 'presence' | 'message-summary';
  /** Omitted with `expires: 0` (removal). */
  contentType?: string;
  body?: string;
  expires: number;
  /** SIP-If-Match: refresh, modify or remove an earlier publication (RFC 3903 §4.4, §4.5). */
  ifMatch?: string;
}

export async function publishState(serverPort: number, opts: PublishOptions): Promise<PublishResult> {
  const peer = await UdpPeer.open();
  try {
    const id = randomBytes(6).toString('hex');
    const body = opts.body ?? '';
    const lines = [
      `PUBLISH sip:${opts.resource}@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${id};rport`,
      'Max-Forwards: 70',
      `From: <sip:${opts.resource}@127.0.0.1>;tag=pub${id}`,
      `To: <sip:${opts.resource}@127.0.0.1>`,
      `Call-ID: publish-${id}@127.0.0.1`,
      'CSeq: 1 PUBLISH',
      `Event: ${opts.event}`,
      `Expires: ${opts.expires}`,
      ...(opts.ifMatch ? [`SIP-If-Match: ${opts.ifMatch}`] : []),
      ...(opts.contentType ? [`Content-Type: ${opts.contentType}`] : []),
      'User-Agent: piston-e2e-publisher',
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    await peer.send(`${lines.join('\r\n')}\r\n\r\n${body}`, serverPort);
    // Loopback does not lose datagrams; 3 s is ample for one answer.
    const got = await peer.waitFor(1, 3000);
    const response = got[0]?.toString('utf8') ?? '';
    return {
      status: statusCodes(response)[0],
      etag: /^SIP-ETag:[ \t]*(\S+)/im.exec(response)?.[1],
      response,
    };
  } finally {
    await peer.close();
  }
}

/** One dialog in a full dialog-info document (RFC 4235 §4.1), as a PBX reports a call on `resource`. */
export function dialogInfoBody(resource: string, state: 'trying' | 'proceeding' | 'early' | 'confirmed' | 'terminated', callId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:${resource}@127.0.0.1">\n` +
    `  <dialog id="e2e-${callId}" call-id="${callId}" local-tag="lt-${callId}" remote-tag="rt-${callId}" direction="recipient">\n` +
    `    <state>${state}</state>\n` +
    `    <local><identity>sip:${resource}@127.0.0.1</identity></local>\n` +
    '    <remote><identity>sip:3001@127.0.0.1</identity></remote>\n' +
    '  </dialog>\n' +
    '</dialog-info>\n'
  );
}

/** An RFC 3842 §5.2 summary for a voicemail box. */
export function messageSummaryBody(account: string, waiting: boolean, voice: { new: number; old: number; urgentNew: number; urgentOld: number }): string {
  return (
    `Messages-Waiting: ${waiting ? 'yes' : 'no'}\r\n` +
    `Message-Account: ${account}\r\n` +
    `Voice-Message: ${voice.new}/${voice.old} (${voice.urgentNew}/${voice.urgentOld})\r\n`
  );
}
