import type { AccountServices } from '../../accounts/account-services.js';
import { schemas } from '../../accounts/index.js';
import type { IssuedToken } from '../../accounts/auth-service.js';
import type { ApiContext } from '../api-state.js';
import { emptyAnswer, tokenAnswer } from '../answer-schemas.js';
import { reply } from '../envelope.js';
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

/** `PUT /v2/api_auth`, `PUT /v2/user_auth`, `DELETE /v2/token_auth` (api-contract.md, authentication). */
export function authRoutes(services: AccountServices): RouteSpec[] {
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
      rejects: [401],
      handle: (ctx) => answerToken(ctx, services.auth.loginWithApiKey(requestData(ctx))),
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
      rejects: [401],
      handle: async (ctx) => answerToken(ctx, await services.auth.loginWithCredentials(requestData(ctx))),
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
