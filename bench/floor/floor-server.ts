/**
 * The floor for the load suite (issue 5, `npm run bench -- --vs floor`): the least a Node.js process does to pass the
 * rate and fan-out steps over UDP, so a step's CPU can be split into what the platform and the machine cost (one
 * callback per datagram, one `send` per NOTIFY, the wake-ups between them) and what our server adds on top.
 *
 * It is not a SIP server: no transactions, retransmissions, store, expiry, checks or error answers. A SUBSCRIBE gets a
 * 200 and a NOTIFY in a new dialog; a PUBLISH gets a 200 with an entity-tag and one NOTIFY per watcher of its
 * extension, carrying the published `<state>`; every other request gets a 200; responses are dropped unread. Each
 * watcher's CSeq and document version rise by one per NOTIFY, which is all SIPp's scenarios check.
 *
 * `parse` adds our own readers back, one at a time, to price them: `sip` runs the SIP parser and request validation
 * on every datagram (src/sip/parser), `xml` reads each PUBLISH body with the dialog package's reader
 * (src/events/dialog/parse-dialog-info.ts, fast-xml-parser underneath).
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { parseDialogInfo, DIALOG_INFO_TYPE } from '../../src/events/dialog/parse-dialog-info.js';
import { parseMessage, validateRequest } from '../../src/sip/parser/index.js';

export type FloorParse = 'sip' | 'xml';

export interface FloorOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  parse?: readonly FloorParse[];
}

export interface FloorServer {
  readonly port: number;
  close(): Promise<void>;
}

interface Watcher {
  address: string;
  port: number;
  /** Request-URI of our NOTIFYs: the SUBSCRIBE's Contact URI. */
  target: string;
  /** The SUBSCRIBE's From, tag included: our NOTIFYs' To. */
  peer: string;
  callId: string;
  tag: string;
  entity: string;
  cseq: number;
  version: number;
}

/** Value of the first header line `name:` (case as SIPp writes it), trimmed; '' when absent. */
function header(text: string, name: string): string {
  const at = text.indexOf(`\r\n${name}:`);
  if (at < 0) return '';
  const from = at + name.length + 3;
  return text.slice(from, text.indexOf('\r\n', from)).trim();
}

function uriOf(nameAddr: string): string {
  const open = nameAddr.indexOf('<');
  return open < 0 ? nameAddr : nameAddr.slice(open + 1, nameAddr.indexOf('>', open));
}

export function startFloorServer(opts: FloorOptions): Promise<FloorServer> {
  const parseSip = opts.parse?.includes('sip') ?? false;
  const parseXml = opts.parse?.includes('xml') ?? false;
  const socket = createSocket('udp4');
  const watchersOf = new Map<string, Watcher[]>();
  let counter = 0;
  let self = '';

  const answer = (text: string, from: RemoteInfo, extra: string, toTag?: string): void => {
    let to = header(text, 'To');
    if (toTag !== undefined && !to.includes(';tag=')) to += `;tag=${toTag}`;
    socket.send(
      `SIP/2.0 200 OK\r\nVia: ${header(text, 'Via')};received=${from.address}\r\nFrom: ${header(text, 'From')}\r\n` +
        `To: ${to}\r\nCall-ID: ${header(text, 'Call-ID')}\r\nCSeq: ${header(text, 'CSeq')}\r\n${extra}Content-Length: 0\r\n\r\n`,
      from.port,
      from.address,
    );
  };

  const notify = (w: Watcher, state: string): void => {
    w.cseq++;
    const dialog = state === '' ? '' : `  <dialog id="floor" direction="recipient"><state>${state}</state></dialog>\n`;
    const body =
      `<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${w.version++}" ` +
      `state="full" entity="${w.entity}">\n${dialog}</dialog-info>\n`;
    socket.send(
      `NOTIFY ${w.target} SIP/2.0\r\nVia: SIP/2.0/UDP ${self};branch=z9hG4bKfloor${++counter};rport\r\n` +
        `Max-Forwards: 70\r\nFrom: <${w.entity}>;tag=${w.tag}\r\nTo: ${w.peer}\r\nCall-ID: ${w.callId}\r\n` +
        `CSeq: ${w.cseq} NOTIFY\r\nContact: <sip:${self}>\r\nEvent: dialog\r\nSubscription-State: active;expires=3600\r\n` +
        `Content-Type: ${DIALOG_INFO_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      w.port,
      w.address,
    );
  };

  socket.on('message', (datagram, from) => {
    let body: Buffer | undefined;
    if (parseSip) {
      try {
        const msg = parseMessage(datagram);
        if (msg.isRequest()) validateRequest(msg);
        body = msg.body;
      } catch {
        return; // The floor answers nothing it cannot read.
      }
    }
    const text = datagram.toString('latin1');
    if (text.startsWith('SIP/2.0')) return;
    const method = text.slice(0, text.indexOf(' '));
    const uri = text.slice(method.length + 1, text.indexOf(' ', method.length + 1));
    const user = uri.slice(uri.indexOf(':') + 1, uri.indexOf('@'));
    if (method === 'SUBSCRIBE') {
      const tag = `floor${++counter}`;
      answer(text, from, `Expires: 3600\r\nContact: <sip:${self}>\r\n`, tag);
      const w: Watcher = {
        address: from.address,
        port: from.port,
        target: uriOf(header(text, 'Contact')),
        peer: header(text, 'From'),
        callId: header(text, 'Call-ID'),
        tag,
        entity: `sip:${user}@${opts.host}`,
        cseq: 0,
        version: 0,
      };
      let list = watchersOf.get(user);
      if (!list) watchersOf.set(user, (list = []));
      list.push(w);
      notify(w, '');
      return;
    }
    if (method === 'PUBLISH') {
      answer(text, from, `SIP-ETag: floor${++counter}\r\nExpires: 3600\r\n`);
      if (parseXml) {
        try {
          parseDialogInfo(body ?? datagram.subarray(datagram.indexOf('\r\n\r\n') + 4), DIALOG_INFO_TYPE);
        } catch {
          return;
        }
      }
      const open = text.indexOf('<state>');
      const state = open < 0 ? '' : text.slice(open + 7, text.indexOf('<', open + 7));
      for (const w of watchersOf.get(user) ?? []) notify(w, state);
      return;
    }
    answer(text, from, '');
  });

  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port, opts.host, () => {
      socket.off('error', reject);
      const port = socket.address().port;
      self = `${opts.host}:${port}`;
      resolve({ port, close: () => new Promise<void>((done) => socket.close(() => done())) });
    });
  });
}
