import { createSocket, type RemoteInfo } from 'node:dgram';

/**
 * A UDP relay that stands in front of the presence server for a client that will only subscribe after it has
 * registered (baresip 1.0.0's mwi module waits for REGISTER_OK). Our server answers REGISTER with 405, so the relay
 * answers REGISTER itself with a 200 (RFC 3261 §10.3) and passes every other datagram through unchanged: client to
 * server, and server (responses and NOTIFYs sent back on the flow the SUBSCRIBE came from) to the client. Nothing
 * the tests assert passes through the relay's own answers.
 */

export interface RegistrarRelay {
  readonly port: number;
  /** REGISTER requests answered by the relay itself. */
  readonly registers: string[];
  /** Request lines (or status lines) of datagrams passed on, each prefixed with its direction. */
  readonly relayed: string[];
  close(): Promise<void>;
}

export async function startRegistrarRelay(serverPort: number): Promise<RegistrarRelay> {
  const socket = createSocket('udp4');
  await new Promise<void>((res) => socket.bind(0, '127.0.0.1', () => res()));
  const registers: string[] = [];
  const relayed: string[] = [];
  let client: RemoteInfo | undefined;

  socket.on('message', (msg, from) => {
    const text = msg.toString('utf8');
    const firstLine = text.slice(0, text.indexOf('\r\n') >= 0 ? text.indexOf('\r\n') : undefined);
    if (from.port === serverPort && from.address === '127.0.0.1') {
      if (!client) return;
      relayed.push(`server->client ${firstLine}`);
      socket.send(msg, client.port, client.address);
      return;
    }
    client = from;
    if (/^REGISTER /.test(text)) {
      registers.push(text);
      socket.send(Buffer.from(registerOk(text)), from.port, from.address);
      return;
    }
    relayed.push(`client->server ${firstLine}`);
    socket.send(msg, serverPort, '127.0.0.1');
  });

  return {
    get port() {
      return socket.address().port;
    },
    registers,
    relayed,
    close: () => new Promise((res) => socket.close(() => res())),
  };
}

/** A 200 to a REGISTER: the request's Via, From, To (with a tag), Call-ID and CSeq, its bindings for the time asked. */
function registerOk(request: string): string {
  const head = request.slice(0, request.indexOf('\r\n\r\n'));
  const lines = head.split('\r\n').slice(1);
  const pick = (...names: string[]): string[] => lines.filter((l) => names.includes(l.slice(0, l.indexOf(':')).trim().toLowerCase()));
  const expiresHeader = /^\s*(\d+)/.exec(pick('expires')[0]?.split(':')[1] ?? '')?.[1];
  const contacts = pick('contact', 'm');
  const contactExpires = /;\s*expires=(\d+)/i.exec(contacts[0] ?? '')?.[1];
  const expires = Number(contactExpires ?? expiresHeader ?? '3600');
  const to = pick('to', 't')[0] ?? 'To: <sip:unknown@127.0.0.1>';
  const out = [
    'SIP/2.0 200 OK',
    ...pick('via', 'v'),
    ...pick('from', 'f'),
    /;\s*tag=/i.test(to) ? to : `${to};tag=relay${Date.now().toString(36)}`,
    ...pick('call-id', 'i'),
    ...pick('cseq'),
    ...(expires > 0 ? contacts.map((c) => c.replace(/;\s*expires=\d+/i, '') + `;expires=${expires}`) : []),
    `Expires: ${expires}`,
    'Content-Length: 0',
  ];
  return `${out.join('\r\n')}\r\n\r\n`;
}
