/**
 * The OpenAPI 3.1 document, generated from the routes as Fastify registers them: every
 * route is listed with its method, path parameters, JSON-schema body and documented
 * responses; every error answer shares one schema (OpenAI's envelope). Served at
 * /openapi.json.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

type JsonSchema = Record<string, unknown>;

export interface CollectedRoute {
  method: string;
  url: string;
  schema?: { body?: JsonSchema; querystring?: JsonSchema; params?: JsonSchema; response?: Record<string, JsonSchema> };
}

export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'code'],
      properties: { message: { type: 'string' }, type: { type: 'string' }, code: { type: 'string' }, param: { type: ['string', 'null'] } },
    },
  },
};

/** Responses documented for routes whose handlers do not declare them (shared by scope). */
const KNOWN_RESPONSES: Record<string, JsonSchema> = {
  'GET /healthz': { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } },
  'GET /readyz': { type: 'object', required: ['status', 'checks'], properties: { status: { enum: ['ready', 'not_ready'] }, checks: { type: 'object' } } },
  'GET /v1/models': {
    type: 'object',
    required: ['object', 'data'],
    properties: {
      object: { const: 'list' },
      data: { type: 'array', items: { type: 'object', required: ['id', 'object', 'owned_by'], properties: { id: { type: 'string' }, object: { const: 'model' }, owned_by: { type: 'string' } } } },
    },
  },
};

const TAGS: Array<[RegExp, string]> = [
  [/^\/admin\//, 'admin'],
  [/^\/auth\//, 'auth'],
  [/^\/v1\//, 'openai-compatible'],
  [/^\/(anthropic|gemini|openai|ollama|api)\//, 'native'],
];

/** Records routes as they are registered; call before any route is added. */
export function collectRoutes(app: FastifyInstance): CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD' && m !== 'OPTIONS');
    for (const method of methods) routes.push({ method, url: r.url, schema: r.schema as CollectedRoute['schema'] });
  });
  return routes;
}

/** `/admin/keys/:id` -> `/admin/keys/{id}`; wildcards become a `{path}` parameter. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{path}');
}

export function buildOpenApi(routes: readonly CollectedRoute[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    const path = openApiPath(r.url);
    const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const ok = r.schema?.response?.['200'] ?? r.schema?.response?.['201'] ?? KNOWN_RESPONSES[`${r.method} ${r.url}`];
    const op: JsonSchema = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      tags: [TAGS.find(([re]) => re.test(r.url))?.[1] ?? 'gateway'],
      ...(params.length ? { parameters: params } : {}),
      ...(r.schema?.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.schema.body } } } } : {}),
      responses: {
        '200': { description: 'Success', ...(ok ? { content: { 'application/json': { schema: ok } } } : {}) },
        default: { description: "An error, in OpenAI's envelope", content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'keygate', version, description: 'Self-hosted secure AI gateway: OpenAI-compatible API, native provider pass-through, admin API.' },
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: { keygateKey: { type: 'http', scheme: 'bearer', description: 'A keygate key (kg-...) or a signed token' } },
    },
    security: [{ keygateKey: [] }],
    paths,
  };
}
