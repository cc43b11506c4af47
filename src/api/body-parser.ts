import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { apiErrors } from './api-error.js';
import type { ApiState } from './api-state.js';

/**
 * JSON bodies for PUT, POST and PATCH, whatever the Content-Type: the seed's curl examples use `-d`, which sends
 * `application/x-www-form-urlencoded`, and the platform read those bodies as JSON. An empty body reads as `{}`.
 * Malformed JSON is 400 with the `json.invalid` field error; a body over the limit is 413 (api-contract.md).
 */
export function jsonBody(limitBytes: number): Middleware<ApiState> {
  const parse = bodyParser({
    enableTypes: ['json'],
    detectJSON: () => true,
    jsonLimit: limitBytes,
    onError: (err, ctx) => {
      const status = (err as { status?: unknown }).status;
      if (status === 413) {
        // Read and drop the rest, so the client (still sending) can read the 413 instead of meeting a reset.
        ctx.req.resume();
        throw apiErrors.tooLarge(limitBytes);
      }
      throw apiErrors.invalidJson(err.message || 'malformed JSON');
    },
  });
  return parse as unknown as Middleware<ApiState>;
}
