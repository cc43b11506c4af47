import type { Middleware } from 'koa';
import { apiErrors } from '../api-error.js';
import type { ApiState } from '../api-state.js';
import type { BoardPage } from '../board/board-page.js';

export const BOARD_PATH = '/board';

/**
 * `GET /board` (and HEAD): the BLF board page. Public, as it holds no data: every call it makes carries the
 * operator's token (api-contract.md "Additions"). Not an API route of the OpenAPI document (it answers HTML, not the
 * envelope); other verbs get the API's 405 envelope.
 */
export function boardRoute(page: BoardPage | undefined): Middleware<ApiState> {
  return async (ctx, next) => {
    if (ctx.path !== BOARD_PATH || page === undefined) return next();
    // Named for the request-duration metric, as the routers name theirs.
    (ctx as unknown as { _matchedRoute?: string })._matchedRoute = BOARD_PATH;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw apiErrors.methodNotAllowed(['GET', 'HEAD']);
    ctx.set('Content-Security-Policy', page.csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    // The page is small and changes only with the program; revalidate so an upgrade is seen at once.
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('ETag', page.etag);
    if (ctx.get('If-None-Match') === page.etag) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page.html;
  };
}
