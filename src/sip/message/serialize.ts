import type { SipMessage, SipResponse } from './message.js';

/**
 * Writes a message: start line, header lines in order with canonical names, a Content-Length equal to the
 * body length (replacing any other, RFC 3261 §18.3/§20.14), the empty line, then the body bytes unchanged.
 */
export function serialize(msg: SipMessage): Buffer {
  let head: string;
  if (msg.isRequest()) head = `${msg.method} ${msg.uri} ${msg.version}\r\n`;
  else {
    const res = msg as SipResponse;
    head = `${res.version} ${res.status} ${res.reason}\r\n`;
  }
  const h = msg.headers;
  const body = msg.body;
  let lengthWritten = false;
  for (let i = 0; i < h.size; i++) {
    if (h.keyAt(i) === 'content-length') {
      if (!lengthWritten) head += `Content-Length: ${body.length}\r\n`;
      lengthWritten = true;
      continue;
    }
    head += `${h.nameAt(i)}: ${h.valueAt(i)}\r\n`;
  }
  if (!lengthWritten) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  if (body.length === 0) return Buffer.from(head, 'utf8');
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + body.length);
  out.write(head, 0, 'utf8');
  body.copy(out, headLen);
  return out;
}
