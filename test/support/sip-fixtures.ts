/**
 * Loaders for the shared SIP fixtures (/work/shared/fixtures): the RFC 4475 torture messages as raw bytes, and
 * the real-client captures split into messages.
 *
 * Capture format (fixtures/real-clients/*.txt): LF line ends, '#' comment lines between messages, several
 * messages per file, sometimes no Content-Length (UDP). Splitting rules:
 * - a message starts at a start line (Request-Line or Status-Line); its header lines run to the first empty
 *   line, a comment line or the end of the file, and are re-joined with CRLF plus the empty line;
 * - with Content-Length N > 0 the body is the next lines whose length, with LF or with CRLF line ends, is N
 *   (some tools sent LF bodies, others CRLF; the capture kept the bytes, the file only lost the CRs), so the
 *   body keeps its captured length; without Content-Length the body is empty;
 * - a block of lines that does not begin with a start line (a fragment that begins with a header, or any other
 *   stray text) is not a message: it is skipped and counted.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SHARED = process.env['PISTON_SHARED_FIXTURES'] ?? fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
export const RFC4475_DIR = `${SHARED.replace(/\/$/, '')}/rfc4475`;
export const REAL_CLIENTS_DIR = `${SHARED.replace(/\/$/, '')}/real-clients`;

/** Names (without .dat) of the RFC 4475 torture messages. */
export function rfc4475Names(): string[] {
  return readdirSync(RFC4475_DIR)
    .filter((f) => f.endsWith('.dat'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** Raw bytes of one RFC 4475 message, by name with or without `.dat`. */
export function loadRfc4475(name: string): Buffer {
  return readFileSync(`${RFC4475_DIR}/${name.endsWith('.dat') ? name : name + '.dat'}`);
}

/** Every RFC 4475 message by name. */
export function loadAllRfc4475(): Map<string, Buffer> {
  return new Map(rfc4475Names().map((n) => [n, loadRfc4475(n)]));
}

export interface CapturedMessage {
  file: string;
  /** 1-based line of the start line in the capture file. */
  line: number;
  bytes: Buffer;
}

export interface SplitCapture {
  messages: CapturedMessage[];
  /** Blocks of lines without a start line that were skipped. */
  skipped: number;
}

const START_LINE = /^(?:[A-Za-z0-9!%*_+`'~.-]+ [^ ]+ SIP\/\d+\.\d+|SIP\/\d+\.\d+ \d{3}(?: .*)?)$/;

function isComment(l: string): boolean {
  return l.startsWith('#');
}

/** Splits one capture file's text into messages (see the rules at the top of this file). */
export function splitCapture(text: string, file = '<text>'): SplitCapture {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const messages: CapturedMessage[] = [];
  let skipped = 0;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (isComment(line) || line.trim() === '') {
      i++;
      continue;
    }
    if (!START_LINE.test(line)) {
      skipped++;
      while (i < lines.length) {
        const l = lines[i] as string;
        if (l.trim() === '' || isComment(l)) break;
        if (i > 0 && START_LINE.test(l) && l !== line) break;
        i++;
      }
      continue;
    }
    const startLineNo = i + 1;
    const head: string[] = [line];
    i++;
    while (i < lines.length && lines[i] !== '' && !isComment(lines[i] as string)) head.push(lines[i++] as string);
    if (lines[i] === '') i++;
    let contentLength = 0;
    for (const h of head) {
      const m = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/i.exec(h);
      if (m) contentLength = Number(m[1]);
    }
    let body = Buffer.alloc(0);
    if (contentLength > 0) {
      const bodyLines: string[] = [];
      let lf = 0;
      let crlf = 0;
      let found = false;
      while (i < lines.length) {
        const l = lines[i++] as string;
        bodyLines.push(l);
        const n = Buffer.byteLength(l, 'utf8');
        lf += n + 1;
        crlf += n + 2;
        if (lf === contentLength) body = Buffer.from(bodyLines.join('\n') + '\n', 'utf8');
        else if (crlf === contentLength) body = Buffer.from(bodyLines.join('\r\n') + '\r\n', 'utf8');
        else if (lf - 1 === contentLength) body = Buffer.from(bodyLines.join('\n'), 'utf8');
        else if (crlf - 2 === contentLength) body = Buffer.from(bodyLines.join('\r\n'), 'utf8');
        else if (lf - 1 > contentLength) break;
        else continue;
        found = true;
        break;
      }
      if (!found) throw new Error(`${file}:${startLineNo}: no body of Content-Length ${contentLength} bytes`);
    }
    messages.push({ file, line: startLineNo, bytes: Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'utf8'), body]) });
  }
  return { messages, skipped };
}

/** File names of the real-client captures. */
export function realClientFiles(): string[] {
  return readdirSync(REAL_CLIENTS_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort();
}

/** One capture file split into messages. */
export function loadCapture(file: string): SplitCapture {
  return splitCapture(readFileSync(`${REAL_CLIENTS_DIR}/${file}`, 'utf8'), file);
}

/** Every message of every capture file, and how many fragments were skipped in all. */
export function loadAllCaptures(): SplitCapture {
  const messages: CapturedMessage[] = [];
  let skipped = 0;
  for (const f of realClientFiles()) {
    const c = loadCapture(f);
    messages.push(...c.messages);
    skipped += c.skipped;
  }
  return { messages, skipped };
}
