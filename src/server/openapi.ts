/**
 * The OpenAPI 3.1 document, generated from the routes as Fastify registers them. A route
 * describes itself with `documented({...})` in its options (route `config.openapi`): its
 * body, query and path parameters and its responses by status, as the zod schemas the
 * handler validates with (converted by z.toJSONSchema). The description never changes how
 * a route validates: handlers keep parsing with zod, so error messages stay as they are.
 * Every error answer shares one schema (OpenAI's envelope), except on the native routes,
 * which answer in the provider's own shape. Served at /openapi.json.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;
type SchemaLike = z.ZodType | JsonSchema;

/** One documented response: a JSON body (its zod schema), other content types, or no body (null). */
export type ResponseDoc = z.ZodType | { description: string; content?: Record<string, SchemaLike | null> } | null;

export interface RouteDoc {
  summary: string;
  body?: SchemaLike;
  querystring?: z.ZodObject;
  params?: z.ZodObject;
  /** Success (and notable) responses by status. Errors in the Error envelope are added. */
  responses: Record<number, ResponseDoc>;
  /** Error statuses this route answers besides 400/401/403/429/500 (e.g. 404, 409, 503). */
  errors?: number[];
  /** Reachable without a credential. */
  public?: boolean;
  /** Errors are written in the provider's own shape (the native pass-through routes). */
  nativeErrors?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    openapi?: RouteDoc;
  }
}

/** Route options that document a route: `app.get(url, documented({...}), handler)`. */
export function documented(openapi: RouteDoc): { config: { openapi: RouteDoc } } {
  return { config: { openapi } };
}

export interface CollectedRoute {
  method: string;
  url: string;
  doc?: RouteDoc;
  /** The body schema Fastify itself validates with, if any. */
  body?: JsonSchema;
}

export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'code'],
      additionalProperties: false,
      properties: { message: { type: 'string' }, type: { type: 'string' }, code: { type: 'string' }, param: { type: ['string', 'null'] } },
    },
  },
};

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request',
  401: 'Missing or invalid credential',
  403: 'Not allowed (scope, model, IP rule, or blocked by the shield)',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body too large',
  429: 'Rate limit or quota exceeded',
  500: 'Internal error',
  502: 'The upstream failed',
  503: 'Not available',
  504: 'The upstream timed out',
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
    const doc = (r.config as { openapi?: RouteDoc } | undefined)?.openapi;
    const body = (r.schema as { body?: JsonSchema } | undefined)?.body;
    for (const method of methods) routes.push({ method, url: r.url, doc, body });
  });
  return routes;
}

/** `/admin/keys/:id` -> `/admin/keys/{id}`; wildcards become a `{path}` parameter. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{path}');
}

/** A zod schema (or a JSON schema as is) as the JSON schema of what travels on the wire. */
export function jsonSchema(s: SchemaLike, io: 'input' | 'output'): JsonSchema {
  if (!(s instanceof z.ZodType)) return s;
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function response(status: number, r: ResponseDoc): JsonSchema {
  if (r === null) return { description: status === 204 ? 'Done; no body' : 'No body' };
  if (r instanceof z.ZodType) return { description: 'Success', content: { 'application/json': { schema: jsonSchema(r, 'output') } } };
  const content = r.content
    ? Object.fromEntries(Object.entries(r.content).map(([type, s]) => [type, s === null ? {} : { schema: jsonSchema(s, 'output') }]))
    : undefined;
  return { description: r.description, ...(content ? { content } : {}) };
}

function parameters(where: 'path' | 'query', s: z.ZodObject | undefined, names: string[]): JsonSchema[] {
  const schema = s ? jsonSchema(s, 'input') : { properties: {}, required: [] };
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const all = where === 'path' ? names : Object.keys(props);
  return all.map((name) => ({ name, in: where, required: where === 'path' || required.has(name), schema: props[name] ?? { type: 'string' } }));
}

function operation(r: CollectedRoute, path: string): JsonSchema {
  const doc = r.doc;
  const body = doc?.body ?? r.body;
  const pathNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  const params = [...parameters('path', doc?.params, pathNames), ...parameters('query', doc?.querystring, [])];
  const errorBody = doc?.nativeErrors
    ? { description: "An error, in the provider's own error shape (what its SDK expects)" }
    : { description: "An error, in OpenAI's envelope", content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const responses: Record<string, JsonSchema> = {};
  for (const [status, res] of Object.entries(doc?.responses ?? { 200: null })) responses[status] = response(Number(status), res);
  const errorStatuses = new Set([...(body ? [400] : []), ...(doc?.public ? [] : [401, 403]), ...(doc?.errors ?? [])]);
  if (doc?.querystring || doc?.params) errorStatuses.add(400);
  for (const s of [...errorStatuses].sort()) responses[String(s)] ??= { ...errorBody, description: ERROR_TEXT[s] ?? errorBody.description };
  responses.default = errorBody;
  return {
    operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    ...(doc?.summary ? { summary: doc.summary } : {}),
    tags: [TAGS.find(([re]) => re.test(r.url))?.[1] ?? 'gateway'],
    ...(doc?.public ? { security: [] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(body, 'input') } } } } : {}),
    responses,
  };
}

export function buildOpenApi(routes: readonly CollectedRoute[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    const path = openApiPath(r.url);
    (paths[path] ??= {})[r.method.toLowerCase()] = operation(r, path);
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
