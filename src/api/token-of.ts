import type { Context } from 'koa';

/** The token a request carries: `X-Auth-Token`, else `Authorization: Bearer <token>` (api-contract.md); '' when none. */
export function tokenOf(ctx: Pick<Context, 'get'>): string {
  const header = ctx.get('X-Auth-Token').trim();
  if (header !== '') return header;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'));
  return m ? m[1]! : '';
}
