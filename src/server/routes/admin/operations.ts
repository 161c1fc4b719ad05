/**
 * Admin routes for operations: the audit log (query, verify, export), webhooks (endpoints,
 * test-fire, delivery log) and the shield's threat records. Registered inside the admin
 * scope, so every route here has already passed the admin guard and the `admin` scope.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GatewayError, errors } from '../../../core/errors.js';
import { TargetRefused, WEBHOOK_EVENTS } from '../../../usage/webhooks/index.js';
import type { GatewayContext } from '../../context.js';
import {
  auditPageSchema,
  auditRecordSchema,
  auditVerifySchema,
  createdWebhookSchema,
  deliveryPageSchema,
  deliverySchema,
  threatPageSchema,
  webhookEndpointSchema,
  webhookListSchema,
  webhookSecretSchema,
} from '../../api-schemas.js';
import { documented } from '../../openapi.js';
import { adminEvent, idParam, idParams, notFound, pageQuery, paginate } from './common.js';
import { parseWith } from './validation.js';

const time = z.coerce.number().int().nonnegative();

const auditQuery = z
  .object({
    actor: z.string().max(200).optional(),
    action: z.string().max(100).optional(),
    outcome: z.enum(['success', 'failure', 'denied']).optional(),
    from: time.optional(),
    to: time.optional(),
    cursor: z.coerce.number().int().nonnegative().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

const endpointInput = z
  .object({
    url: z.string().url().max(2048),
    events: z.array(z.enum([...WEBHOOK_EVENTS, '*'])).min(1),
    description: z.string().max(500).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

const threatQuery = z
  .object({
    category: z.enum(['prompt_injection', 'secret', 'pii', 'system_prompt_leak', 'exfiltration']).optional(),
    action: z.enum(['block', 'redact', 'log']).optional(),
    key_id: z.string().max(100).optional(),
    client_id: z.string().max(200).optional(),
    request_id: z.string().max(200).optional(),
    from: time.optional(),
    to: time.optional(),
    before: z.coerce.number().int().positive().optional(),
    /** The same as `before`: the `nextCursor` of the previous page. */
    cursor: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

const verifyQuery = z
  .object({
    /** A head copied earlier (`keygate audit verify` prints it): the chain must still hold it. */
    anchor_seq: z.coerce.number().int().positive().optional(),
    anchor_hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be the 64 hex characters of a record hash').optional(),
  })
  .strict();

const deliveriesQuery = z.object({ cursor: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }).strict();
const byId = { params: idParams, errors: [404] };

/** A refused webhook target is the caller's mistake: 400, naming the field. */
function targetError(err: unknown): never {
  if (err instanceof TargetRefused) throw new GatewayError(400, 'invalid_request_error', 'webhook_target_refused', `Invalid 'url': ${err.message}`, { param: 'url' });
  throw err;
}

export async function operationsRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const { audit, webhooks } = ctx.ops;

  app.get('/audit', documented({ summary: 'Query the audit log, newest first', querystring: auditQuery, responses: { 200: auditPageSchema } }), async (req) => {
    const q = parseWith(auditQuery, req.query);
    await audit.flush();
    const page = await audit.query(q);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.get('/audit/verify', documented({ summary: 'Verify the hash chain; names the first broken record', querystring: verifyQuery, responses: { 200: auditVerifySchema } }), async (req) => {
    const q = parseWith(verifyQuery, req.query);
    if ((q.anchor_seq === undefined) !== (q.anchor_hash === undefined)) throw errors.invalidBody("Invalid request: give both 'anchor_seq' and 'anchor_hash', or neither.", 'anchor_seq');
    await audit.flush();
    const result = await audit.verify(q.anchor_seq !== undefined ? { anchor: { seq: q.anchor_seq, hash: q.anchor_hash as string } } : {});
    // Audited and sent to the audit.chain_broken subscribers (the chain goes on after the break).
    if (!result.ok) adminEvent(ctx, req, 'audit.chain_broken', 'audit_log', { firstBrokenSeq: result.firstBrokenSeq, reason: result.reason }, 'failure');
    return result;
  });

  app.get('/audit/export', documented({ summary: 'Export the audit log as JSON lines', querystring: auditQuery.pick({ from: true, to: true }), responses: { 200: { description: 'One audit record per line', content: { 'application/x-ndjson': auditRecordSchema } } } }), async (req, reply) => {
    const q = parseWith(auditQuery.pick({ from: true, to: true }), req.query);
    await audit.flush();
    // Hijacked: Fastify sends nothing more, so the headers set so far (security headers,
    // request id, CORS) go out with these, and a client that leaves ends the export.
    reply.hijack();
    const headers = Object.fromEntries(Object.entries(reply.getHeaders()).filter((e): e is [string, string | number | string[]] => e[1] !== undefined));
    reply.raw.writeHead(200, { ...headers, 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    const gone = new AbortController();
    const onClose = () => gone.abort();
    reply.raw.once('close', onClose);
    try {
      await audit.exportJsonl(reply.raw, q, gone.signal);
    } finally {
      reply.raw.off('close', onClose);
      if (!reply.raw.destroyed) reply.raw.end();
    }
  });

  app.get('/webhooks', documented({ summary: 'List webhook endpoints (never their secrets)', querystring: pageQuery, responses: { 200: webhookListSchema } }), async (req) => {
    const rows = (await webhooks.endpoints.list()).map((e) => ({ ...e, created_at: e.createdAt })).sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
    return paginate(rows, req.query as Record<string, unknown>, ({ created_at: _t, ...e }) => e);
  });

  app.post('/webhooks', documented({ summary: 'Add a webhook endpoint (its signing secret is in this response only)', body: endpointInput, responses: { 201: createdWebhookSchema } }), async (req, reply) => {
    const input = parseWith(endpointInput, req.body);
    const { endpoint, secret } = await webhooks.endpoints.create(input).catch(targetError);
    adminEvent(ctx, req, 'admin.action', endpoint.id, { action: 'webhook.created', events: endpoint.events });
    reply.code(201);
    // The signing secret is shown once, here.
    return { ...endpoint, secret };
  });

  app.patch('/webhooks/:id', documented({ summary: 'Update a webhook endpoint', ...byId, body: endpointInput.partial(), responses: { 200: webhookEndpointSchema } }), async (req) => {
    const id = idParam(req);
    const patch = parseWith(endpointInput.partial(), req.body);
    const updated = await webhooks.endpoints.update(id, patch).catch(targetError);
    if (!updated) throw notFound('webhook', id);
    adminEvent(ctx, req, 'admin.action', id, { action: 'webhook.updated', fields: Object.keys(patch) });
    return updated;
  });

  app.delete('/webhooks/:id', documented({ summary: 'Delete a webhook endpoint', ...byId, responses: { 204: null } }), async (req, reply) => {
    const id = idParam(req);
    if (!(await webhooks.endpoints.delete(id))) throw notFound('webhook', id);
    adminEvent(ctx, req, 'admin.action', id, { action: 'webhook.deleted' });
    reply.code(204);
  });

  app.post('/webhooks/:id/rotate-secret', documented({ summary: 'New signing secret (in this response only)', ...byId, responses: { 200: webhookSecretSchema } }), async (req) => {
    const id = idParam(req);
    const secret = await webhooks.endpoints.rotateSecret(id);
    if (secret === undefined) throw notFound('webhook', id);
    adminEvent(ctx, req, 'admin.action', id, { action: 'webhook.secret_rotated' });
    return { id, secret };
  });

  app.post('/webhooks/:id/test', documented({ summary: 'Send a webhook.test event now; the delivery as it stands', ...byId, responses: { 200: deliverySchema } }), async (req) => {
    const id = idParam(req);
    const delivery = await webhooks.testFire(id);
    if (!delivery) throw notFound('webhook', id);
    return delivery;
  });

  app.get('/webhooks/:id/deliveries', documented({ summary: "An endpoint's delivery log, newest first", ...byId, querystring: deliveriesQuery, responses: { 200: deliveryPageSchema } }), async (req) => {
    const id = idParam(req);
    const q = parseWith(deliveriesQuery, req.query);
    const page = await webhooks.deliveries(id, q);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.get('/threats', documented({ summary: 'Threats the shield found (redacted excerpts only)', querystring: threatQuery, responses: { 200: threatPageSchema } }), async (req) => {
    const q = parseWith(threatQuery, req.query);
    const page = await ctx.repos.threats.query({ category: q.category, action: q.action, keyId: q.key_id, clientId: q.client_id, requestId: q.request_id, from: q.from, to: q.to, before: q.cursor ?? q.before, limit: q.limit });
    const data = page.items.map((t) => ({ ...t, categories: t.categories.split(','), findings: JSON.parse(t.findings) as unknown }));
    return { data, nextCursor: page.nextBefore === null ? null : String(page.nextBefore), nextBefore: page.nextBefore };
  });
}
