import type { AccountServices } from '../accounts/account-services.js';
import { ID_PATTERN } from '../accounts/schemas.js';
import { apiErrors } from './api-error.js';
import type { ApiContext } from './api-state.js';
import { tokenOf } from './token-of.js';

type Guard = (ctx: ApiContext, next: () => Promise<unknown>) => Promise<unknown>;

/** 401 unless the request carries a live token. */
export function requireToken(services: AccountServices): Guard {
  return async (ctx, next) => {
    const token = tokenOf(ctx);
    const rec = token === '' ? undefined : services.auth.authenticate(token);
    if (!rec) throw apiErrors.invalidCredentials();
    ctx.state.token = rec;
    return next();
  };
}

/**
 * The account-scoped checks, in the contract's order: account id format (404) → token (401) → access (403).
 * An id no account has is answered 404 after the token check: it names no other account to be kept from.
 */
export function accountScope(services: AccountServices): Guard[] {
  const idFormat: Guard = async (ctx, next) => {
    const id = String((ctx as unknown as { params: Record<string, string> }).params.accountId ?? '');
    if (!ID_PATTERN.test(id)) throw apiErrors.badIdentifier(id);
    return next();
  };
  const access: Guard = async (ctx, next) => {
    const id = String((ctx as unknown as { params: Record<string, string> }).params.accountId);
    const account = services.accounts.exists(id) ? services.accounts.get(id) : undefined;
    if (!account) throw apiErrors.badIdentifier(id);
    if (!services.accounts.canSee(ctx.state.token!.accountId, id)) throw apiErrors.forbidden();
    ctx.state.account = account;
    return next();
  };
  return [idFormat, requireToken(services), access];
}
