import { z } from 'zod';
import { ID_PATTERN } from '../accounts/schemas.js';
import { namedAnswers } from './answer-schemas.js';
import { routeAnswers, type RouteAnswer } from './route-answers.js';
import type { RouteSpec } from './route-spec.js';

/** `:name` placeholders of a Koa path, in order. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

/** Koa `/a/:b` → OpenAPI `/a/{b}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function inputJsonSchema(schema: z.ZodType): Record<string, unknown> {
  // `input`: what a client may send (unknown fields are dropped, so no additionalProperties: false).
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const COMPONENT = '#/components/schemas/';

/** One answer of a route with the JSON Schema the document gives it. */
type DocumentedAnswer = { answer: RouteAnswer; json: Record<string, unknown> };

/**
 * JSON Schemas of every route's answers and of the named answer shapes, in one zod registry conversion so that a
 * named shape used inside an answer becomes a `$ref` to its component (answer-schemas.ts). `io: 'output'`: what the
 * server writes. The named shapes become `components.schemas`; the other answers stay inline in their operation.
 */
function answerJsonSchemas(specs: readonly RouteSpec[]): {
  components: Record<string, unknown>;
  answers: Map<RouteSpec, DocumentedAnswer[]>;
} {
  const registry = z.registry<{ id: string }>();
  const idOf = new Map<z.ZodType, string>();
  const register = (schema: z.ZodType, id: string): string => {
    if (!idOf.has(schema)) {
      registry.add(schema, { id });
      idOf.set(schema, id);
    }
    return idOf.get(schema)!;
  };
  for (const [id, schema] of namedAnswers) register(schema, id);
  const routeIds = new Map<RouteSpec, { answer: RouteAnswer; id: string }[]>();
  specs.forEach((spec, i) => {
    routeIds.set(spec, routeAnswers(spec).map((answer) => ({ answer, id: register(answer.schema, `~route${i}~${answer.status}`) })));
  });
  const { schemas } = z.toJSONSchema(registry, { io: 'output', uri: (id) => `${COMPONENT}${id}` }) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  const clean = (id: string): Record<string, unknown> => {
    // `$schema` and a fragment-only `$id` mean nothing inside an OpenAPI 3.1 document (its dialect is JSON Schema 2020-12).
    const { $schema: _s, $id: _i, ...rest } = schemas[id]!;
    return rest;
  };
  const components: Record<string, unknown> = {};
  for (const id of namedAnswers.keys()) components[id] = clean(id);
  const answers = new Map<RouteSpec, DocumentedAnswer[]>();
  for (const [spec, list] of routeIds) {
    answers.set(spec, list.map(({ answer, id }) => ({ answer, json: namedAnswers.has(id) ? { $ref: `${COMPONENT}${id}` } : clean(id) })));
  }
  return { components, answers };
}

function operation(spec: RouteSpec, answers: readonly DocumentedAnswer[]): Record<string, unknown> {
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
    schema: q.schema ? inputJsonSchema(q.schema) : q.enum ? { type: 'string', enum: [...q.enum] } : { type: 'string' },
  }));
  const responses: Record<string, unknown> = {};
  for (const { answer, json } of answers) {
    responses[String(answer.status)] = { description: answer.description, content: { [answer.mediaType]: { schema: json } } };
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
                schema: { type: 'object', required: ['data'], properties: { data: inputJsonSchema(spec.body) } },
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
  const { components, answers } = answerJsonSchemas(specs);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) (paths[openApiPath(spec.path)] ??= {})[spec.method] = operation(spec, answers.get(spec)!);
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
      schemas: components,
    },
    paths,
  };
}
