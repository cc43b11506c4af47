import type { ApiContext } from '../api-state.js';

/** The `data` member of a `{"data": {...}}` request body (api-contract.md); undefined when absent. */
export function requestData(ctx: ApiContext): unknown {
  const body: unknown = ctx.request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  return (body as Record<string, unknown>).data;
}

/** A path parameter as decoded by the router. */
export function param(ctx: ApiContext, name: string): string {
  return String((ctx as unknown as { params: Record<string, string | undefined> }).params[name] ?? '');
}
