import { z } from 'zod';
import { servesDomain } from '../../accounts/account-resolver.js';
import type { AccountServices } from '../../accounts/account-services.js';
import { ValidationError } from '../../accounts/account-errors.js';
import { HISTORY_KINDS } from '../../history/presence-history.js';
import { ApiError } from '../api-error.js';
import { reply, replyStreamed } from '../envelope.js';
import { explainAnswer, historyAnswer, streamAnswer } from '../operator-schemas.js';
import { HISTORY_MAX_PAGE, type PresenceOperator } from '../presence-operator.js';
import type { StreamHub } from '../presence-stream.js';
import type { RouteSpec } from '../route-spec.js';
import { param } from './request-data.js';

/**
 * The operator routes (issue 23, docs/operator-api.md): the live stream, and per extension its history and the
 * explanation of its lamp. Mounted before the presence routes, so `…/presence/stream` is not read as an extension.
 */
export function operatorRoutes(
  operator: PresenceOperator,
  hub: StreamHub,
  services: AccountServices,
  events: readonly string[],
): RouteSpec[] {
  const base = '/v2/accounts/:accountId/presence';
  return [
    {
      method: 'get',
      path: `${base}/stream`,
      summary:
        'Live lamps as Server-Sent Events: a snapshot of every extension (state, watchers), then changes, a ": ping" ' +
        'every 15 s; X-Auth-Token header only (read it with fetch, not EventSource); see docs/operator-api.md',
      tag: 'presence',
      auth: 'account',
      query: [{ name: 'event', description: 'Count only the watchers of this event package', enum: events }],
      success: 200,
      output: 'raw',
      answerType: 'text/event-stream',
      answer: streamAnswer,
      handle: (ctx) => {
        const event = typeof ctx.query.event === 'string' ? ctx.query.event : undefined;
        if (event !== undefined && !events.includes(event)) {
          throw ValidationError.one('event', 'enum', `Value must be one of ${events.join(', ')}`, events.join('|'));
        }
        const admits = hub.admits();
        if (admits !== 'ok') {
          throw new ApiError(503, admits === 'closing' ? 'shutting_down' : 'too_many_streams', {
            message: admits === 'closing' ? 'the server is shutting down' : 'too many live streams open',
          });
        }
        const account = ctx.state.account!;
        const token = ctx.state.authToken;
        const seen = new Map<string, boolean>();
        // Koa leaves the response to the hub; status 200 keeps the not-found fallback away.
        ctx.respond = false;
        ctx.status = 200;
        hub.attach({
          req: ctx.req,
          res: ctx.res,
          scope: account.id,
          event,
          served: (domain) => {
            let yes = seen.get(domain);
            if (yes === undefined) seen.set(domain, (yes = servesDomain(services.resolver, account.id, domain)));
            return yes;
          },
          stillAuthorized: () => {
            const rec = services.auth.authenticate(token);
            return rec !== undefined && services.accounts.canSee(rec.accountId, account.id);
          },
        });
      },
    },
    {
      method: 'get',
      path: `${base}/:extension/history`,
      summary: "An extension's events, newest first: publications with their publisher, manual commands and who gave them, state changes, subscriptions, NOTIFYs and answers",
      tag: 'presence',
      auth: 'account',
      query: [
        { name: 'page_size', description: `At most this many entries (default 50)`, schema: z.int().min(1).max(HISTORY_MAX_PAGE) },
        { name: 'start_key', description: 'The next_start_key of the previous page (opaque)', schema: z.string().regex(/^\d+$/) },
        { name: 'since', description: 'Only entries at or after this time (ms since the Unix epoch)', schema: z.string().regex(/^\d+$/) },
        { name: 'kind', description: 'Only entries of this kind', enum: HISTORY_KINDS },
      ],
      success: 200,
      answer: historyAnswer,
      paged: true,
      rejects: [400],
      handle: (ctx) => replyStreamed(ctx, 200, operator.history(ctx.state.account!, param(ctx, 'extension'), ctx.query)),
    },
    {
      method: 'get',
      path: `${base}/:extension/explain`,
      summary: 'Why the lamp shows what it shows: the state and its cause (manual state or publication and its publisher), every watcher with its last NOTIFY and answer, the last events',
      tag: 'presence',
      auth: 'account',
      success: 200,
      answer: explainAnswer,
      rejects: [400],
      partial: true,
      handle: async (ctx) => {
        const { view, partial } = await operator.explain(ctx.state.account!, param(ctx, 'extension'));
        reply(ctx, 200, view, partial ? { timeout: true } : undefined);
      },
    },
  ];
}
