import { z } from 'zod';
import type { AccountServices } from '../../accounts/account-services.js';
import { schemas } from '../../accounts/index.js';
import { accountAnswer } from '../answer-schemas.js';
import { reply } from '../envelope.js';
import type { RouteSpec } from '../route-spec.js';
import { accountView } from '../views.js';
import { requestData } from './request-data.js';

/** Accounts: create under the token's account, read, replace, delete (api-contract.md). */
export function accountRoutes(services: AccountServices): RouteSpec[] {
  const { accounts } = services;
  return [
    {
      method: 'get',
      path: '/v2/accounts',
      summary: "List the token's account and its descendants",
      tag: 'accounts',
      auth: 'token',
      success: 200,
      answer: z.array(accountAnswer),
      handle: (ctx) => reply(ctx, 200, accounts.listVisible(ctx.state.token!.accountId).map(accountView)),
    },
    {
      method: 'put',
      path: '/v2/accounts',
      summary: "Create an account under the token's account (master account only: 403 otherwise)",
      tag: 'accounts',
      auth: 'token',
      body: schemas.accountSchema,
      success: 201,
      answer: accountAnswer,
      rejects: [403],
      handle: (ctx) => {
        const caller = ctx.state.token!.accountId;
        reply(ctx, 201, accountView(accounts.create(caller, caller, requestData(ctx))));
      },
    },
    {
      method: 'put',
      path: '/v2/accounts/:accountId',
      summary: 'Create a sub-account of this account (master account only: 403 otherwise)',
      tag: 'accounts',
      auth: 'account',
      body: schemas.accountSchema,
      success: 201,
      answer: accountAnswer,
      handle: (ctx) => reply(ctx, 201, accountView(accounts.create(ctx.state.token!.accountId, ctx.state.account!.id, requestData(ctx)))),
    },
    {
      method: 'get',
      path: '/v2/accounts/:accountId',
      summary: 'Read an account',
      tag: 'accounts',
      auth: 'account',
      success: 200,
      answer: accountAnswer,
      handle: (ctx) => reply(ctx, 200, accountView(ctx.state.account!)),
    },
    {
      method: 'post',
      path: '/v2/accounts/:accountId',
      summary: 'Replace an account (name, realm); only the master account changes a realm (403 otherwise)',
      tag: 'accounts',
      auth: 'account',
      body: schemas.accountSchema,
      success: 200,
      answer: accountAnswer,
      handle: (ctx) => reply(ctx, 200, accountView(accounts.update(ctx.state.token!.accountId, ctx.state.account!.id, requestData(ctx)))),
    },
    {
      method: 'delete',
      path: '/v2/accounts/:accountId',
      summary: 'Delete an account without sub-accounts, with its devices, users, API keys and tokens',
      tag: 'accounts',
      auth: 'account',
      success: 200,
      answer: accountAnswer,
      rejects: [400],
      handle: (ctx) => reply(ctx, 200, accountView(accounts.delete(ctx.state.account!.id, ctx.state.token!.accountId))),
    },
  ];
}
