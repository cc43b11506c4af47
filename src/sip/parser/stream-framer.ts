import { ParseError } from '../message/parse-error.js';
import { RequestParseError, requestOf } from '../message/request-parse-error.js';
import type { SipRequest } from '../message/message.js';
import { parseMessage } from './parse-message.js';

export type FramerOutput =
  | { kind: 'message'; bytes: Buffer }
  /** A CRLFCRLF keep-alive ping between messages: answer with CRLF (RFC 5626 §3.5.1). */
  | { kind: 'ping' }
  | { kind: 'error'; error: ParseError; fatal: boolean };

export interface StreamFramerOptions {
  /** Largest message, header and body together. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Largest header section, empty line included. Default 16 KiB (but never above maxMessageBytes). */
  maxHeaderBytes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 65536;
export const DEFAULT_MAX_HEADER_BYTES = 16384;

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Cuts a TCP byte stream into SIP messages by Content-Length (RFC 3261 §18.3), which is mandatory on streams.
 * An explicit state machine over a growable buffer: between messages it recognises CRLFCRLF pings and skips a
 * lone CRLF; then it waits for the empty line, reads Content-Length, and waits for the body.
 * A stream that cannot be framed (no, negative, several Content-Length; limits exceeded) gives one fatal error
 * (with the partly parsed request when there is one, so a 400 can be sent) and the framer stays failed.
 */
export class StreamFramer {
  private readonly maxMessageBytes: number;
  private readonly maxHeaderBytes: number;
  private store: Buffer = Buffer.alloc(0);
  private len = 0;
  /** Where to resume the search for the empty line, relative to the message start. */
  private scanFrom = 0;
  /** Total length of the message being received once its header section is known, else -1. */
  private frameLength = -1;
  private failed = false;

  constructor(opts?: StreamFramerOptions) {
    this.maxMessageBytes = opts?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxHeaderBytes = Math.min(opts?.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES, this.maxMessageBytes);
  }

  /** True once a fatal error was reported: later bytes are ignored. */
  get isFailed(): boolean {
    return this.failed;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.len;
  }

  push(chunk: Buffer): FramerOutput[] {
    const out: FramerOutput[] = [];
    if (this.failed || chunk.length === 0) return out;
    let data: Buffer;
    const owned = this.len > 0;
    if (owned) {
      this.append(chunk);
      // Only the filled part: bytes beyond it are stale and must not be searched.
      data = this.store.subarray(0, this.len);
    } else data = chunk;
    const end = data.length;
    let pos = 0;
    while (pos < end) {
      if (this.frameLength < 0) {
        if (data[pos] === 13) {
          // Between messages: CRLFCRLF is a ping, a lone CRLF is skipped (RFC 5626 §3.5.1, RFC 3261 §7.5).
          if (pos + 1 >= end) break;
          if (data[pos + 1] === 10) {
            if (pos + 2 >= end) break;
            if (data[pos + 2] !== 13) {
              pos += 2;
              continue;
            }
            if (pos + 3 >= end) break;
            if (data[pos + 3] === 10) {
              out.push({ kind: 'ping' });
              pos += 4;
            } else pos += 2;
            continue;
          }
        }
        const from = pos + this.scanFrom;
        const idx = data.indexOf(CRLFCRLF, from);
        if (idx === -1) {
          if (end - pos > this.maxHeaderBytes) {
            this.fail(out, data, pos, -1, `header section larger than ${this.maxHeaderBytes} bytes`);
            return out;
          }
          this.scanFrom = Math.max(0, end - pos - 3);
          break;
        }
        const headerLen = idx + 4 - pos;
        if (headerLen > this.maxHeaderBytes) {
          this.fail(out, data, pos, idx, `header section larger than ${this.maxHeaderBytes} bytes`);
          return out;
        }
        const cl = contentLength(data, pos, idx);
        if (typeof cl === 'string') {
          this.fail(out, data, pos, idx, cl);
          return out;
        }
        if (headerLen + cl > this.maxMessageBytes) {
          this.fail(out, data, pos, idx, `message of ${headerLen + cl} bytes exceeds ${this.maxMessageBytes}`);
          return out;
        }
        this.frameLength = headerLen + cl;
        this.scanFrom = 0;
      }
      if (end - pos < this.frameLength) break;
      const bytes = data.subarray(pos, pos + this.frameLength);
      // The store is reused, so messages cut from it are copied; a caller's chunk is sliced without copying.
      out.push({ kind: 'message', bytes: owned ? Buffer.from(bytes) : bytes });
      pos += this.frameLength;
      this.frameLength = -1;
    }
    if (owned) {
      if (pos > 0) {
        this.store.copy(this.store, 0, pos, this.len);
        this.len -= pos;
      }
    } else if (pos < end) {
      this.len = 0;
      this.append(chunk.subarray(pos));
    }
    return out;
  }

  private append(chunk: Buffer): void {
    const need = this.len + chunk.length;
    if (need > this.store.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.store.length * 2, 4096));
      this.store.copy(grown, 0, 0, this.len);
      this.store = grown;
    }
    chunk.copy(this.store, this.len);
    this.len = need;
  }

  private fail(out: FramerOutput[], data: Buffer, pos: number, headEnd: number, message: string): void {
    this.failed = true;
    this.len = 0;
    this.store = Buffer.alloc(0);
    const request = headEnd === -1 ? undefined : partialRequest(data.subarray(pos, headEnd + 4));
    const error = request === undefined ? new ParseError(message) : new RequestParseError(message, request);
    out.push({ kind: 'error', error, fatal: true });
  }
}

/** The request in a header section, for answering 400 before closing; undefined when there is none. */
function partialRequest(head: Buffer): SipRequest | undefined {
  try {
    const msg = parseMessage(head);
    return msg.isRequest() ? msg : undefined;
  } catch (err) {
    if (err instanceof ParseError) return requestOf(err);
    throw err;
  }
}

/**
 * Reads Content-Length (or `l`) from the header section data[from, headEnd): the number, or a string saying
 * why the stream cannot be framed.
 */
function contentLength(data: Buffer, from: number, headEnd: number): number | string {
  const text = data.toString('latin1', from, headEnd);
  let value: string | undefined;
  let inLength = false;
  let pos = text.indexOf('\r\n') + 2; // skip the start line
  if (pos === 1) return 'missing Content-Length on a stream';
  const n = text.length;
  while (pos < n) {
    let eol = text.indexOf('\r\n', pos);
    if (eol === -1) eol = n;
    const c = text.charCodeAt(pos);
    if (c === 32 || c === 9) {
      if (inLength) value += ' ' + text.slice(pos, eol);
    } else {
      inLength = false;
      if (c === 67 || c === 99 || c === 76 || c === 108) {
        const colon = text.indexOf(':', pos);
        if (colon !== -1 && colon < eol) {
          const name = text.slice(pos, colon).trimEnd().toLowerCase();
          if (name === 'content-length' || name === 'l') {
            if (value !== undefined) return 'several Content-Length headers on a stream';
            value = text.slice(colon + 1, eol);
            inLength = true;
          }
        }
      }
    }
    pos = eol + 2;
  }
  if (value === undefined) return 'missing Content-Length on a stream';
  const v = value.trim();
  if (!/^\d{1,10}$/.test(v)) return `invalid Content-Length '${v.slice(0, 20)}' on a stream`;
  return Number(v);
}
