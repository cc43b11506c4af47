import type Router from '@koa/router';
import type { z } from 'zod';
import type { ApiContext, ApiState } from './api-state.js';

/**
 * One admin API route, declared once: the router is built from these and so is the OpenAPI document
 * (openapi.ts), which is how the document keeps matching what the routes accept.
 */
export interface RouteSpec {
  method: 'get' | 'put' | 'post' | 'delete';
  /** Koa path with `:param` placeholders. */
  path: string;
  summary: string;
  tag: string;
  /**
   * `none`: no token; `token`: a valid token; `account`: the `:accountId` of the path must be well-formed (else 404),
   * the token valid (401), the account the token's own or a descendant (403) and existing (404).
   */
  auth: 'none' | 'token' | 'account';
  /** Schema of the request's `data` object, for the OpenAPI document. */
  body?: z.ZodType;
  /** Query parameters, for the OpenAPI document: a string, one of `enum`, or as `schema` says. */
  query?: { name: string; description: string; enum?: readonly string[]; schema?: z.ZodType }[];
  /** Status of a success answer. */
  success: number;
  /** `envelope` (default): JSON envelope; `raw`: the handler sets the body (health, metrics, the OpenAPI document). */
  output?: 'envelope' | 'raw';
  /**
   * Schema of a success answer (answer-schemas.ts): the envelope's `data`, or a `raw` route's whole body. The OpenAPI
   * document is generated from it and test/api/openapi-answers.test.ts holds real answers to it.
   */
  answer: z.ZodType;
  /** The answer may be a page (Kazoo paging): its envelope may carry next_start_key, page_size and start_key. */
  paged?: boolean;
  /** Cluster mode may answer from this node alone (the directory unreachable): the envelope may say `timeout: true`. */
  partial?: boolean;
  /** Media type of a `raw` answer; default `application/json`. */
  answerType?: string;
  /** Further statuses a `raw` route answers with a body of the same shape (health: 503). */
  alsoAnswers?: readonly number[];
  /** Error statuses beyond those `auth` and `body` imply (route-answers.ts), e.g. 400 for a bad query or path value. */
  rejects?: readonly number[];
  handle(ctx: ApiContext): unknown;
}

/** Registers specs on a router; `guards` supplies the middlewares for each auth level. */
export function mount(
  router: Router<ApiState>,
  specs: readonly RouteSpec[],
  guards: Record<RouteSpec['auth'], ((ctx: ApiContext, next: () => Promise<unknown>) => Promise<unknown>)[]>,
): void {
  for (const spec of specs) {
    const handler = async (ctx: ApiContext): Promise<void> => {
      await spec.handle(ctx);
    };
    router[spec.method](spec.path, ...guards[spec.auth], handler);
  }
}
