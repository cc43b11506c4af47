import { InvalidCredentialsError } from '../../accounts/account-errors.js';
import type { AccountServices } from '../../accounts/account-services.js';
import type { Logger } from '../../lib/logger.js';
import { schemas } from '../../accounts/index.js';
import type { IssuedToken } from '../../accounts/auth-service.js';
import type { ApiContext } from '../api-state.js';
import { emptyAnswer, tokenAnswer } from '../answer-schemas.js';
import { apiErrors } from '../api-error.js';
import { reply } from '../envelope.js';
import { clientAddress, type LoginLimiter } from '../login-limiter.js';
import type { RouteSpec } from '../route-spec.js';
import { requestData } from './request-data.js';

function answerToken(ctx: ApiContext, issued: IssuedToken): void {
  ctx.state.authToken = issued.token;
  reply(ctx, 201, {
    account_id: issued.account.id,
    account_name: issued.account.name,
    owner_id: issued.record.ownerId,
  });
}

/**
 * Runs a login under the per-address failure limit (security.md §5): a locked address gets 429 without the login
 * being tried; a failure is counted, and the one that locks the address is itself answered 429.
 */
async function limited(
  ctx: ApiContext,
  limiter: LoginLimiter,
  logger: Logger,
  login: () => IssuedToken | Promise<IssuedToken>,
): Promise<void> {
  const ip = clientAddress(ctx.request.ip);
  const wait = limiter.retryAfterS(ip);
  if (wait > 0) throw apiErrors.tooManyLogins(wait);
  let issued: IssuedToken;
  try {
    issued = await login();
  } catch (err) {
    if (err instanceof InvalidCredentialsError) {
      const locked = limiter.fail(ip);
      if (locked > 0) {
        // Once per lock, for the operator (and a fail2ban filter): the address, never the credentials tried.
        logger.warn({ ip, path: ctx.path, retryAfterS: locked }, 'admin API logins from this address refused after repeated failures');
        throw apiErrors.tooManyLogins(locked);
      }
    }
    throw err;
  }
  answerToken(ctx, issued);
}

/** `PUT /v2/api_auth`, `PUT /v2/user_auth`, `DELETE /v2/token_auth` (api-contract.md, authentication). */
export function authRoutes(services: AccountServices, limiter: LoginLimiter, logger: Logger): RouteSpec[] {
  return [
    {
      method: 'put',
      path: '/v2/api_auth',
      summary: 'Get a token for an API key',
      tag: 'auth',
      auth: 'none',
      body: schemas.apiAuthSchema,
      success: 201,
      answer: tokenAnswer,
      rejects: [401, 429],
      handle: (ctx) => limited(ctx, limiter, logger, () => services.auth.loginWithApiKey(requestData(ctx))),
    },
    {
      method: 'put',
      path: '/v2/user_auth',
      summary: 'Get a token for user credentials: md5 hex of lower(username):password',
      tag: 'auth',
      auth: 'none',
      body: schemas.userAuthSchema,
      success: 201,
      answer: tokenAnswer,
      rejects: [401, 429],
      handle: (ctx) => limited(ctx, limiter, logger, () => services.auth.loginWithCredentials(requestData(ctx))),
    },
    {
      method: 'delete',
      path: '/v2/token_auth',
      summary: 'Revoke the token of this request',
      tag: 'auth',
      auth: 'token',
      success: 200,
      answer: emptyAnswer,
      handle: (ctx) => {
        services.auth.revoke(ctx.state.authToken);
        reply(ctx, 200, {});
      },
    },
  ];
}
