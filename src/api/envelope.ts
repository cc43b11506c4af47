import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import { ForbiddenError, InvalidCredentialsError, UnknownIdError, ValidationError } from '../accounts/account-errors.js';
import { newId32 } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import { ApiError, apiErrors } from './api-error.js';
import type { ApiContext, ApiState } from './api-state.js';
import { streamedEnvelope, type StreamedData } from './streamed-envelope.js';
import { tokenOf } from './token-of.js';

/** `revision` is opaque to clients (api-contract.md); a digest of `data` changes exactly when the answer does. */
function revisionOf(data: unknown): string {
  return createHash('md5').update(JSON.stringify(data) ?? 'undefined').digest('hex');
}

/** A client's X-Request-ID is echoed when it is short visible ASCII; anything else gets a fresh id. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * Outermost middleware: assigns the request id (X-Request-ID in and out) and turns every failure into the contract's
 * error envelope. Known failures map to their status; anything else is a bug: logged with its stack, answered 500
 * with the same envelope, never with Koa's text page.
 */
export function errorEnvelope(logger: Logger): Middleware<ApiState> {
  return async (ctx, next) => {
    const given = ctx.get('X-Request-ID');
    ctx.state.requestId = REQUEST_ID.test(given) ? given : newId32();
    ctx.state.authToken = tokenOf(ctx);
    ctx.set('X-Request-ID', ctx.state.requestId);
    try {
      await next();
    } catch (err) {
      const apiErr = toApiError(err);
      if (apiErr.status >= 500) {
        logger.error({ err, requestId: ctx.state.requestId, method: ctx.method, path: ctx.path }, 'admin API request failed');
      }
      for (const [k, v] of Object.entries(apiErr.headers)) ctx.set(k, v);
      ctx.status = apiErr.status;
      ctx.body = {
        auth_token: ctx.state.authToken,
        data: apiErr.data,
        error: String(apiErr.status),
        message: apiErr.short,
        request_id: ctx.state.requestId,
        revision: revisionOf(apiErr.data),
        status: 'error',
      };
    }
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ValidationError) return apiErrors.validation(err.fields);
  if (err instanceof UnknownIdError) return apiErrors.badIdentifier(err.id);
  if (err instanceof InvalidCredentialsError) return apiErrors.invalidCredentials();
  if (err instanceof ForbiddenError) return apiErrors.forbidden();
  return apiErrors.internal();
}

/** Wraps a route's reply in the success envelope (api-contract.md); a streamed reply is wrapped as it is sent. */
export function successEnvelope(logger: Logger): Middleware<ApiState> {
  return async (ctx, next) => {
    await next();
    const reply = ctx.state.reply;
    if (!reply) return;
    ctx.status = reply.status;
    if (reply.streamed) {
      ctx.type = 'json';
      ctx.body = streamedEnvelope(ctx.state.authToken, ctx.state.requestId, reply.streamed, logger);
      return;
    }
    ctx.body = {
      auth_token: ctx.state.authToken,
      data: reply.data,
      request_id: ctx.state.requestId,
      revision: revisionOf(reply.data),
      status: 'success',
      // Envelope fields beyond the contract's five (cluster mode's `timeout: true`), after them.
      ...reply.fields,
    };
  };
}

/** Routes answer through this, so the envelope middleware does the wrapping. */
export function reply(ctx: ApiContext, status: number, data: unknown, fields?: Record<string, unknown>): void {
  ctx.state.reply = fields ? { status, data, fields } : { status, data };
}

/** The same for `data` written as it is sent (streamed-envelope.ts). */
export function replyStreamed(ctx: ApiContext, status: number, data: StreamedData): void {
  ctx.state.reply = { status, data: undefined, streamed: data };
}
