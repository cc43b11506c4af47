import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * One captured request: its headers (lower-case names) and body text. The captures are copied unchanged from the
 * shared real-client fixtures into test/events/fixtures/real-clients, so the tests do not depend on files outside the repo.
 */
export interface CapturedMessage {
  startLine: string;
  headers: Map<string, string>;
  body: string;
}

const FIXTURES = fileURLToPath(new URL('../fixtures/real-clients/', import.meta.url));

/**
 * Splits a fixture file into its messages: '#' lines are comments between messages (files use LF line ends).
 * The body is everything after the blank line up to the next comment, without trailing blank lines.
 */
export function readCapturedMessages(file: string): CapturedMessage[] {
  const lines = readFileSync(FIXTURES + file, 'utf8').split('\n');
  const out: CapturedMessage[] = [];
  let current: { startLine: string; headers: Map<string, string>; body: string[]; inBody: boolean } | undefined;
  const flush = (): void => {
    if (!current) return;
    while (current.body.length > 0 && current.body[current.body.length - 1]!.trim() === '') current.body.pop();
    out.push({ startLine: current.startLine, headers: current.headers, body: current.body.join('\n') });
    current = undefined;
  };
  for (const line of lines) {
    if (line.startsWith('#')) {
      flush();
      continue;
    }
    if (!current) {
      if (/^[A-Z]+ \S+ SIP\/2\.0$/.test(line)) current = { startLine: line, headers: new Map(), body: [], inBody: false };
      continue;
    }
    if (current.inBody) current.body.push(line);
    else if (line.trim() === '') current.inBody = true;
    else {
      const colon = line.indexOf(':');
      current.headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
  }
  flush();
  return out;
}
