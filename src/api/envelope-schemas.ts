import { z } from 'zod';
import { named } from './answer-schemas.js';

/**
 * The success envelope around a route's `data` (api-contract.md, envelope; envelope.ts writes it). A `paged` route's
 * envelope has Kazoo's paging fields when the request asked for a page (list-paging.ts).
 */
export function successEnvelopeSchema(data: z.ZodType, paged = false, partial = false): z.ZodType {
  return z.strictObject({
    auth_token: z.string().describe('The token as sent ("" when none); the new token after api_auth and user_auth'),
    data,
    ...(paged ? pagingFields : {}),
    ...(partial && !paged ? { timeout: partialFlag('the watchers held by other nodes could not be read, so only this node\'s are shown') } : {}),
    request_id: z.string().describe('The X-Request-ID request header when given, else a fresh 32-hex id'),
    revision: z.string().describe('Opaque; changes exactly when data does'),
    status: z.literal('success'),
  });
}

/** Kazoo's paging fields, present only when page_size or start_key was given, and its partial-answer flag. */
const pagingFields = {
  next_start_key: z
    .string()
    .optional()
    .describe('The start_key of the next page; absent on the last page'),
  page_size: z.number().int().min(0).optional().describe('How many subscriptions this page holds'),
  start_key: z.string().optional().describe('The start_key this page was asked for, when given'),
  timeout: partialFlag('the list holds only this node\'s subscriptions'),
};

/** Kazoo's flag for a partial answer: in cluster mode, the cluster directory did not answer. */
function partialFlag(what: string): z.ZodType {
  return z.literal(true).optional().describe(`Cluster mode: the cluster directory did not answer, so ${what} (Kazoo's flag)`);
}

function errorEnvelope(id: string, status: number, short: string, data: z.ZodType): z.ZodType {
  return named(
    id,
    z.strictObject({
      auth_token: z.string(),
      data,
      error: z.literal(String(status)).describe('The HTTP status as a string'),
      message: z.literal(short),
      request_id: z.string(),
      revision: z.string(),
      status: z.literal('error'),
    }),
  );
}

const messageOnly = named('ErrorMessage', z.strictObject({ message: z.string() }));

const fieldErrors = named(
  'FieldErrors',
  z
    .record(
      z.string(),
      z.record(z.string(), z.strictObject({ message: z.string(), target: z.string() })).describe('Keyed by the rule broken'),
    )
    .describe('Keyed by field: {"<field>": {"<rule>": {"message": "…", "target": "…"}}}'),
);

/** Error envelopes by HTTP status (api-contract.md, the table of cases); envelope.ts and api-error.ts write them. */
export const errorEnvelopes: Readonly<Record<number, { description: string; schema: z.ZodType }>> = {
  400: {
    description: 'malformed JSON or a validation error',
    schema: errorEnvelope('ValidationErrorEnvelope', 400, 'validation error', fieldErrors),
  },
  401: {
    description: 'missing, bad or expired token, or bad credentials',
    schema: errorEnvelope('InvalidCredentialsEnvelope', 401, 'invalid_credentials', messageOnly),
  },
  403: {
    description: "the account is neither the token's own nor a descendant, or only the master account may do this",
    schema: errorEnvelope('ForbiddenEnvelope', 403, 'forbidden', messageOnly),
  },
  404: {
    description: 'unknown account, device or user id',
    schema: errorEnvelope(
      'BadIdentifierEnvelope',
      404,
      'bad_identifier',
      z.strictObject({ cause: z.string().describe('The unknown id'), message: z.literal('bad identifier') }),
    ),
  },
  429: {
    description: 'too many failed logins from this address (5 within 300 s); the Retry-After header says when to try again',
    schema: errorEnvelope('TooManyLoginsEnvelope', 429, 'too_many_requests', messageOnly),
  },
  413: {
    description: 'request body larger than the limit (64 KiB by default)',
    schema: errorEnvelope('TooLargeEnvelope', 413, 'request_entity_too_large', messageOnly),
  },
};
