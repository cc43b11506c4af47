import { z } from 'zod';
import type { AccountServices } from '../../accounts/account-services.js';
import { schemas } from '../../accounts/index.js';
import { trustedPeerAnswer } from '../answer-schemas.js';
import { reply } from '../envelope.js';
import type { RouteSpec } from '../route-spec.js';
import { trustedPeerView } from '../views.js';
import { param, requestData } from './request-data.js';

/**
 * Trusted peers of an account (security.md §3.3, docs/api-trusted-peers.md): PBXs, proxies and call-state sources
 * whose SUBSCRIBE and PUBLISH skip the digest challenge and the per-source limits for this account's domains.
 */
export function trustedPeerRoutes(services: AccountServices): RouteSpec[] {
  const peers = services.trustedPeers;
  const base = '/v2/accounts/:accountId/trusted_peers';
  return [
    {
      method: 'get',
      path: base,
      summary: 'List the trusted peers of an account',
      tag: 'trusted_peers',
      auth: 'account',
      success: 200,
      answer: z.array(trustedPeerAnswer),
      handle: (ctx) => reply(ctx, 200, peers.list(ctx.state.account!.id).map(trustedPeerView)),
    },
    {
      method: 'put',
      path: base,
      summary: 'Add a trusted peer (cidr, optional transport, fingerprint and name)',
      tag: 'trusted_peers',
      auth: 'account',
      body: schemas.trustedPeerSchema,
      success: 201,
      answer: trustedPeerAnswer,
      handle: (ctx) => reply(ctx, 201, trustedPeerView(peers.create(ctx.state.account!.id, requestData(ctx)))),
    },
    {
      method: 'get',
      path: `${base}/:peerId`,
      summary: 'Read a trusted peer',
      tag: 'trusted_peers',
      auth: 'account',
      success: 200,
      answer: trustedPeerAnswer,
      handle: (ctx) => reply(ctx, 200, trustedPeerView(peers.get(ctx.state.account!.id, param(ctx, 'peerId')))),
    },
    {
      method: 'post',
      path: `${base}/:peerId`,
      summary: 'Replace a trusted peer',
      tag: 'trusted_peers',
      auth: 'account',
      body: schemas.trustedPeerSchema,
      success: 200,
      answer: trustedPeerAnswer,
      handle: (ctx) =>
        reply(ctx, 200, trustedPeerView(peers.update(ctx.state.account!.id, param(ctx, 'peerId'), requestData(ctx)))),
    },
    {
      method: 'delete',
      path: `${base}/:peerId`,
      summary: 'Remove a trusted peer: its next request is challenged like any other',
      tag: 'trusted_peers',
      auth: 'account',
      success: 200,
      answer: trustedPeerAnswer,
      handle: (ctx) => reply(ctx, 200, trustedPeerView(peers.delete(ctx.state.account!.id, param(ctx, 'peerId')))),
    },
  ];
}
