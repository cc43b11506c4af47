import { parseWire, type WireMessage } from './sip-wire.js';

/**
 * Reads a SIPp `-trace_msg` file back into messages. SIPp writes each one after a dashed line with a timestamp and
 * a line such as `UDP message sent (244 bytes):` or `TCP message received [419] bytes :`, then the raw bytes.
 */

export interface TracedMessage extends WireMessage {
  readonly direction: 'sent' | 'received';
  readonly transport: string;
}

export function parseSippTrace(text: string): TracedMessage[] {
  const out: TracedMessage[] = [];
  const blocks = text.split(/^-{20,} [^\n]*\n/m);
  for (const block of blocks) {
    const m = /^(\w+) message (sent|received) (?:\((\d+) bytes\)|\[(\d+)\] bytes) ?:\n\n/.exec(block);
    if (!m) continue;
    const start = m[0].length;
    // The byte count is exact: take that many bytes, not the blank lines SIPp adds after the message.
    const raw = Buffer.from(block.slice(start), 'utf8').subarray(0, Number(m[3] ?? m[4])).toString('utf8');
    out.push({ ...parseWire(raw), direction: m[2] as 'sent' | 'received', transport: m[1]! });
  }
  return out;
}

/** The received NOTIFYs, once each: a retransmission (same Call-ID and CSeq) is left out. */
export function distinctNotifies(messages: readonly TracedMessage[]): TracedMessage[] {
  const seen = new Set<string>();
  return messages.filter((m) => {
    if (m.direction !== 'received' || m.method !== 'NOTIFY') return false;
    const key = `${m.callId} ${m.cseq.seq}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
