import { z } from 'zod';
import type { AccountServices } from '../../accounts/account-services.js';
import { schemas } from '../../accounts/index.js';
import { userAnswer } from '../answer-schemas.js';
import { reply } from '../envelope.js';
import type { RouteSpec } from '../route-spec.js';
import { userView } from '../views.js';
import { param, requestData } from './request-data.js';

/** Users of an account (api-contract.md). */
export function userRoutes(services: AccountServices): RouteSpec[] {
  const { users } = services;
  const base = '/v2/accounts/:accountId/users';
  return [
    {
      method: 'get',
      path: base,
      summary: 'List the users of an account (summaries)',
      tag: 'users',
      auth: 'account',
      success: 200,
      answer: z.array(userAnswer),
      handle: (ctx) => reply(ctx, 200, users.list(ctx.state.account!.id).map(userView)),
    },
    {
      method: 'put',
      path: base,
      summary: 'Create a user',
      tag: 'users',
      auth: 'account',
      body: schemas.userSchema,
      success: 201,
      answer: userAnswer,
      handle: async (ctx) => reply(ctx, 201, userView(await users.create(ctx.state.account!.id, requestData(ctx)))),
    },
    {
      method: 'get',
      path: `${base}/:userId`,
      summary: 'Read a user',
      tag: 'users',
      auth: 'account',
      success: 200,
      answer: userAnswer,
      handle: (ctx) => reply(ctx, 200, userView(users.get(ctx.state.account!.id, param(ctx, 'userId')))),
    },
    {
      method: 'post',
      path: `${base}/:userId`,
      summary: 'Replace a user; without password the stored one stays while the username does',
      tag: 'users',
      auth: 'account',
      body: schemas.userSchema,
      success: 200,
      answer: userAnswer,
      handle: async (ctx) =>
        reply(ctx, 200, userView(await users.update(ctx.state.account!.id, param(ctx, 'userId'), requestData(ctx)))),
    },
    {
      method: 'delete',
      path: `${base}/:userId`,
      summary: 'Delete a user; devices it owned lose their owner',
      tag: 'users',
      auth: 'account',
      success: 200,
      answer: userAnswer,
      handle: (ctx) => reply(ctx, 200, userView(users.delete(ctx.state.account!.id, param(ctx, 'userId')))),
    },
  ];
}
