import type { z } from 'zod';
import { errorEnvelopes, successEnvelopeSchema } from './envelope-schemas.js';
import type { RouteSpec } from './route-spec.js';

/** One documented answer of a route: the status, its media type and the schema of the whole body. */
export interface RouteAnswer {
  status: number;
  description: string;
  mediaType: string;
  schema: z.ZodType;
}

/** Error statuses a route can answer: from its body (400, 413), its auth level (401, 403, 404) and its own `rejects`. */
function errorStatuses(spec: RouteSpec): number[] {
  const statuses = new Set<number>(spec.rejects ?? []);
  if (spec.body) [400, 413].forEach((s) => statuses.add(s));
  if (spec.auth !== 'none') statuses.add(401);
  if (spec.auth === 'account') [403, 404].forEach((s) => statuses.add(s));
  return [...statuses].sort((a, b) => a - b);
}

/**
 * Every answer a route documents, success first. The OpenAPI document (openapi.ts) is generated from this and the
 * drift test validates real answers with it, so both read one declaration per route.
 */
export function routeAnswers(spec: RouteSpec): RouteAnswer[] {
  if (spec.output === 'raw') {
    const mediaType = spec.answerType ?? 'application/json';
    const statuses = [spec.success, ...(spec.alsoAnswers ?? [])];
    return statuses.map((status) => ({ status, description: spec.summary, mediaType, schema: spec.answer }));
  }
  const success: RouteAnswer = {
    status: spec.success,
    description: 'success',
    mediaType: 'application/json',
    schema: successEnvelopeSchema(spec.answer, spec.paged ?? false, spec.partial ?? false),
  };
  const errors = errorStatuses(spec).map((status) => {
    const known = errorEnvelopes[status];
    if (!known) throw new Error(`${spec.method} ${spec.path}: no error envelope declared for ${status}`);
    return { status, description: known.description, mediaType: 'application/json', schema: known.schema };
  });
  return [success, ...errors];
}
