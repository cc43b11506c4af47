import { z } from 'zod';
import { ID_PATTERN } from '../accounts/schemas.js';
import type { RouteSpec } from './route-spec.js';

/** `:name` placeholders of a Koa path, in order. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

/** Koa `/a/:b` → OpenAPI `/a/{b}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  // `input`: what a client may send (unknown fields are dropped, so no additionalProperties: false).
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const envelope = (data: Record<string, unknown>): Record<string, unknown> => ({
  type: 'object',
  required: ['auth_token', 'data', 'request_id', 'revision', 'status'],
  properties: {
    auth_token: { type: 'string' },
    data,
    request_id: { type: 'string' },
    revision: { type: 'string' },
    status: { type: 'string', enum: ['success'] },
  },
});

const errorRef = { $ref: '#/components/schemas/ErrorEnvelope' };
const errorResponse = (description: string): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema: errorRef } },
});

function operation(spec: RouteSpec): Record<string, unknown> {
  const params = pathParams(spec.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: name === 'accountId' ? { type: 'string', pattern: ID_PATTERN.source } : { type: 'string' },
  }));
  const query = (spec.query ?? []).map((q) => ({
    name: q.name,
    in: 'query',
    required: false,
    description: q.description,
    schema: q.enum ? { type: 'string', enum: [...q.enum] } : { type: 'string' },
  }));
  const responses: Record<string, unknown> = {};
  if (spec.output === 'raw') {
    responses[String(spec.success)] = { description: spec.summary };
  } else {
    responses[String(spec.success)] = { description: 'success', content: { 'application/json': { schema: envelope({}) } } };
    if (spec.body) {
      responses['400'] = errorResponse('malformed JSON or validation error');
      responses['413'] = errorResponse('request body too large');
    }
    if (spec.auth !== 'none') responses['401'] = errorResponse('missing, bad or expired token');
    if (spec.auth === 'account') {
      responses['403'] = errorResponse('the account is not the token\'s own nor a descendant');
      responses['404'] = errorResponse('unknown account, device or user id');
    }
    if (spec.path.startsWith('/v2/api_auth') || spec.path.startsWith('/v2/user_auth')) {
      responses['401'] = errorResponse('bad credentials');
    }
  }
  return {
    operationId: `${spec.method}${openApiPath(spec.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: spec.summary,
    tags: [spec.tag],
    ...(params.length + query.length > 0 ? { parameters: [...params, ...query] } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { type: 'object', required: ['data'], properties: { data: jsonSchema(spec.body) } },
              },
            },
          },
        }
      : {}),
    ...(spec.auth === 'none' ? { security: [] } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of every route, built from the same specs the routers are built from. */
export function buildOpenApi(specs: readonly RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) (paths[openApiPath(spec.path)] ??= {})[spec.method] = operation(spec);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Piston Presence admin API',
      version: '2',
      description: 'Crossbar-compatible admin API: accounts, devices, users, token auth and presence (BLF) control.',
    },
    security: [{ authToken: [] }, { bearer: [] }],
    components: {
      securitySchemes: {
        authToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
      schemas: {
        ErrorEnvelope: {
          type: 'object',
          required: ['auth_token', 'data', 'error', 'message', 'request_id', 'revision', 'status'],
          properties: {
            auth_token: { type: 'string' },
            data: {},
            error: { type: 'string', description: 'HTTP status code as a string' },
            message: { type: 'string', description: 'short code: invalid_credentials, forbidden, bad_identifier, …' },
            request_id: { type: 'string' },
            revision: { type: 'string' },
            status: { type: 'string', enum: ['error'] },
          },
        },
      },
    },
    paths,
  };
}
