import { z } from 'zod';
import { MANUAL_STATES } from '../../events/event-package.js';
import {
  deviceCommandAnswer,
  extensionCommandAnswer,
  presenceListAnswer,
  resourceStateAnswer,
  userCommandAnswer,
} from '../answer-schemas.js';
import { reply, replyStreamed } from '../envelope.js';
import { MAX_PAGE_SIZE } from '../list-paging.js';
import type { ApiContext } from '../api-state.js';
import type { CommandActor, PresenceAdmin } from '../presence-admin.js';
import type { RouteSpec } from '../route-spec.js';
import { param, requestData } from './request-data.js';

const states = MANUAL_STATES as unknown as [string, ...string[]];

/** Documentation of the command bodies (the checks themselves are PresenceAdmin's, with the contract's messages). */
const commandSchema = z.object({
  action: z.enum(['reset', 'set']),
  state: z.enum(states).optional().describe('Required with set: early = ringing, confirmed = busy, terminated = idle'),
});
const extensionCommandSchema = commandSchema.partial().describe('No action means reset');

const pageSizeSchema = z.int().min(1).max(MAX_PAGE_SIZE);
const startKeySchema = z.string().regex(/^[A-Za-z0-9_-]+$/);

/** Presence (api-contract.md): list, inspect, reset and set. */
export function presenceRoutes(presence: PresenceAdmin, events: readonly string[]): RouteSpec[] {
  const base = '/v2/accounts/:accountId';
  return [
    {
      method: 'get',
      path: `${base}/presence`,
      summary: "List live subscriptions to every domain the account serves: subscriptions.{resource}.{event}.{call_id}",
      tag: 'presence',
      auth: 'account',
      query: [
        { name: 'event', description: 'Only this event package', enum: events },
        {
          name: 'page_size',
          description:
            'Kazoo paging: at most this many subscriptions in the answer, in order of resource, event and subscription; ' +
            'next_start_key in the envelope when more remain. Without page_size and start_key the list is whole',
          schema: pageSizeSchema,
        },
        {
          name: 'start_key',
          description: 'Kazoo paging: start at this key, the next_start_key of an earlier page (opaque)',
          schema: startKeySchema,
        },
      ],
      success: 200,
      answer: presenceListAnswer,
      paged: true,
      rejects: [400],
      handle: async (ctx) => replyStreamed(ctx, 200, await presence.list(ctx.state.account!, ctx.query)),
    },
    {
      method: 'get',
      path: `${base}/presence/:extension`,
      summary: 'One resource: manual state, live publications, mailbox counts and watchers (for support staff)',
      tag: 'presence',
      auth: 'account',
      success: 200,
      answer: resourceStateAnswer,
      partial: true,
      rejects: [400],
      handle: async (ctx) => {
        const { view, partial } = await presence.describe(ctx.state.account!, param(ctx, 'extension'));
        reply(ctx, 200, view, partial ? { timeout: true } : undefined);
      },
    },
    {
      method: 'post',
      path: `${base}/presence/:extension`,
      summary: 'Reset an arbitrary resource (park slot, extension): watchers get a full-state idle NOTIFY',
      tag: 'presence',
      auth: 'account',
      body: extensionCommandSchema,
      success: 200,
      answer: extensionCommandAnswer,
      handle: async (ctx) => reply(ctx, 200, await presence.extension(ctx.state.account!, param(ctx, 'extension'), requestData(ctx), actorOf(ctx))),
    },
    {
      method: 'post',
      path: `${base}/devices/:deviceId/presence`,
      summary: "Reset or set the presence of a device's presence_id, else its SIP user name",
      tag: 'presence',
      auth: 'account',
      body: commandSchema,
      success: 200,
      answer: deviceCommandAnswer,
      handle: async (ctx) => reply(ctx, 200, await presence.device(ctx.state.account!, param(ctx, 'deviceId'), requestData(ctx), actorOf(ctx))),
    },
    {
      method: 'post',
      path: `${base}/users/:userId/presence`,
      summary: "Reset or set the presence of a user's presence_id, else of every device it owns",
      tag: 'presence',
      auth: 'account',
      body: commandSchema,
      success: 200,
      answer: userCommandAnswer,
      handle: async (ctx) => reply(ctx, 200, await presence.user(ctx.state.account!, param(ctx, 'userId'), requestData(ctx), actorOf(ctx))),
    },
  ];
}

/** Who sends a command: the token's account and user (null for an API key's token) and the request id. */
function actorOf(ctx: ApiContext): CommandActor | null {
  const token = ctx.state.token;
  return token ? { accountId: token.accountId, userId: token.ownerId, method: token.method, requestId: ctx.state.requestId } : null;
}
