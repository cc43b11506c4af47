import { loadCapture } from '../../support/sip-fixtures.js';

/** One captured request from the shared real-client fixtures: start line, headers (lower-case names), body text. */
export interface CapturedMessage {
  startLine: string;
  headers: Map<string, string>;
  body: string;
}

/** The requests of one capture file, split by the shared splitter (test/support/sip-fixtures.ts). */
export function readCapturedMessages(file: string): CapturedMessage[] {
  const out: CapturedMessage[] = [];
  for (const { bytes } of loadCapture(file).messages) {
    const text = bytes.toString('utf8');
    const end = text.indexOf('\r\n\r\n');
    const [startLine, ...lines] = text.slice(0, end).split('\r\n');
    if (!startLine || startLine.startsWith('SIP/')) continue;
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    out.push({ startLine, headers, body: text.slice(end + 4) });
  }
  return out;
}
