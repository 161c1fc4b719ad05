/**
 * /openapi.json lists every route the gateway serves, and what routes send matches what the
 * document says: success bodies where a schema is documented, and every error in OpenAI's
 * envelope (the shared Error schema).
 */
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '../../src/server/openapi.js';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let doc: { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>>; components: { schemas: { Error: Record<string, unknown> } } };
const ajv = new Ajv({ strict: false });

beforeAll(async () => {
  gw = await startTestGateway({ label: 'openapi', env: { KEY_MODE: 'passthrough', OPENAI_API_KEY: recordSecret('sk-proj-OPENAPIunusedkey0123456789abcdefghij') } });
  doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as typeof doc;
});
afterAll(() => gw.stop());

describe('/openapi.json', () => {
  it('is an OpenAPI 3.1 document', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.schemas.Error).toBeDefined();
  });

  it('lists every route the app serves', () => {
    // Fastify's own route table, method by method, against the document.
    const served = collectFromApp();
    expect(served.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const r of served) {
      if (!doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()]) missing.push(`${r.method} ${r.url}`);
    }
    expect(missing).toEqual([]);
    for (const p of ['/v1/chat/completions', '/v1/embeddings', '/v1/models', '/healthz', '/readyz', '/metrics']) expect(doc.paths[p]).toBeDefined();
  });

  it('documents success bodies that match what the routes send', async () => {
    for (const [path, method] of [
      ['/healthz', 'get'],
      ['/readyz', 'get'],
      ['/v1/models', 'get'],
    ] as const) {
      const schema = doc.paths[path][method].responses['200'].content?.['application/json'].schema;
      expect(schema, path).toBeDefined();
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${gw.adminKey}`, 'x-keygate-key': gw.adminKey } });
      const body: unknown = await res.json();
      expect(ajv.validate(schema!, body), `${path}: ${ajv.errorsText()}`).toBe(true);
    }
  });

  it('every error answer matches the documented Error schema', async () => {
    const validate = ajv.compile(doc.components.schemas.Error);
    const probes: Array<[string, RequestInit]> = [
      ['/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }],
      ['/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Basic x' }, body: '{}' }],
      ['/v1/models', {}],
      ['/admin/keys', {}],
      ['/no/such/route', {}],
      ['/v1/embeddings', { method: 'POST', headers: { 'content-type': 'application/json', 'x-keygate-key': gw.adminKey }, body: '{"model":1}' }],
    ];
    for (const [path, init] of probes) {
      const res = await fetch(`${gw.url}${path}`, init);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(validate(await res.json()), `${path}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });
});

/**
 * The routes Fastify knows, rebuilt from its own route tree printout: each line holds one
 * segment, indented four characters per level; a full path is the segments from the root.
 */
function collectFromApp(): Array<{ method: string; url: string }> {
  const out: Array<{ method: string; url: string }> = [];
  const stack: string[] = [];
  for (const line of gw.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const prefix = /^(?:│   | {4}|├── |└── )*/.exec(line)?.[0] ?? '';
    const depth = prefix.length / 4;
    const m = /^(.*?)(?: \(([^)]+)\))?$/.exec(line.slice(prefix.length));
    if (!m || !m[1]) continue;
    stack.length = depth;
    stack[depth] = m[1];
    if (!m[2]) continue;
    const url = stack.join('');
    // A bare `*` is a not-found handler (setNotFoundHandler), not a route.
    if (url === '*') continue;
    for (const method of m[2].split(',').map((x) => x.trim())) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      out.push({ method, url });
    }
  }
  return out;
}
