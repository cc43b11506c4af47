import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Logger } from '../lib/logger.js';

/**
 * A success answer's `data` given as JSON text produced while the answer is sent, for lists too large to build at
 * once (the presence list): the text is pulled piece by piece as the connection takes it, so a slow client holds back
 * the work rather than memory, and the producer may pause between pieces to give the event loop back.
 */
export interface StreamedData {
  /** The JSON text of `data`, UTF-8, in pieces. */
  text: AsyncIterable<Buffer>;
  /** Envelope fields besides the usual ones (Kazoo's paging: next_start_key, page_size, start_key). */
  fields(): Record<string, unknown>;
}

/**
 * The success envelope (api-contract.md) around streamed data, byte for byte what JSON.stringify writes for the
 * envelope object: keys in alphabetical order as everywhere else, and `revision` the MD5 of data's JSON text, hashed as
 * it goes (`data` comes before `revision`, so the digest is ready when it is due).
 */
export function streamedEnvelope(authToken: string, requestId: string, data: StreamedData, logger: Logger): Readable {
  return Readable.from(envelopeText(authToken, requestId, data, logger), { objectMode: false, highWaterMark: 64 * 1024 });
}

async function* envelopeText(authToken: string, requestId: string, data: StreamedData, logger: Logger): AsyncGenerator<Buffer | string> {
  const digest = createHash('md5');
  yield `{"auth_token":${JSON.stringify(authToken)},"data":`;
  try {
    for await (const piece of data.text) {
      digest.update(piece);
      yield piece;
    }
  } catch (err) {
    // The status and part of the body are gone already: the connection is cut, and the cause logged here.
    logger.error({ err, requestId }, 'admin API answer failed while it was sent');
    throw err;
  }
  const tail: Record<string, unknown> = { ...data.fields(), request_id: requestId, revision: digest.digest('hex'), status: 'success' };
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(tail).sort()) sorted[key] = tail[key];
  yield `,${JSON.stringify(sorted).slice(1)}`;
}
