/** /admin/keys: create (the key is in that one response only), list, show, update, revoke, delete, usage. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { keyView, type ApiKeyRecord } from '../../../store/repositories/api-keys.js';
import type { GatewayContext } from '../../context.js';
import { createdKeySchema, keyUsageSchema, keyViewSchema, pageOf } from '../../api-schemas.js';
import { documented } from '../../openapi.js';
import { adminEvent, idParam, idParams, notFound, pageQuery, paginate } from './common.js';
import { resolveOwners } from './owners.js';
import { checkKeyFields, keyFieldsSchema, parseWith, type KeyFields } from './validation.js';

const listFilter = z.object({ userId: z.string().max(100).optional(), appId: z.string().max(100).optional() }).passthrough();

/** What changed, for the audit trail: field names and non-secret values. */
function changed(fields: KeyFields): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

export async function keyRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const { keys } = ctx.repos;

  const load = async (req: FastifyRequest): Promise<ApiKeyRecord> => {
    const id = idParam(req);
    const record = await keys.findById(id);
    if (!record) throw notFound('key', id);
    return record;
  };

  const byId = { params: idParams, errors: [404] };

  app.post('/keys', documented({ summary: 'Create a key (the key is in this response only)', body: keyFieldsSchema, responses: { 201: createdKeySchema } }), async (req, reply) => {
    const fields = await resolveOwners(ctx.repos, checkKeyFields(req.body, 'create'));
    const { record, key } = await keys.create({ ...fields, name: fields.name as string });
    ctx.access.invalidate();
    adminEvent(ctx, req, 'key.created', record.id, changed(fields));
    // The only response that ever carries a key: never cached, never logged.
    reply.code(201).header('cache-control', 'no-store');
    return { key, ...keyView(record) };
  });

  app.get('/keys', documented({ summary: 'List keys', querystring: pageQuery.extend({ userId: z.string().max(100).optional(), appId: z.string().max(100).optional() }), responses: { 200: pageOf(keyViewSchema) } }), async (req) => {
    const { userId, appId, ...page } = parseWith(listFilter, req.query);
    const owners = await resolveOwners(ctx.repos, { userId, appId });
    const rows = await keys.list({ userId: owners.userId ?? undefined, appId: owners.appId ?? undefined });
    return paginate(rows, page, (r) => keyView(r));
  });

  app.get('/keys/:id', documented({ summary: 'Show a key', ...byId, responses: { 200: keyViewSchema } }), async (req) => keyView(await load(req)));

  app.patch('/keys/:id', documented({ summary: 'Update a key', ...byId, body: keyFieldsSchema, responses: { 200: keyViewSchema } }), async (req) => {
    const record = await load(req);
    const fields = await resolveOwners(ctx.repos, checkKeyFields(req.body, 'update'));
    const updated = (await keys.update(record.id, fields)) ?? record;
    ctx.access.invalidate();
    adminEvent(ctx, req, 'key.updated', record.id, changed(fields));
    return keyView(updated);
  });

  app.post('/keys/:id/revoke', documented({ summary: 'Revoke a key (idempotent)', ...byId, responses: { 200: keyViewSchema } }), async (req) => {
    const record = await load(req);
    if (record.revoked_at === null) {
      await keys.revoke(record.id);
      ctx.access.invalidate();
      adminEvent(ctx, req, 'key.revoked', record.id, { name: record.name });
    }
    return keyView((await keys.findById(record.id)) ?? record);
  });

  app.delete('/keys/:id', documented({ summary: 'Delete a key', ...byId, responses: { 204: null } }), async (req, reply) => {
    const record = await load(req);
    await keys.delete(record.id);
    ctx.access.invalidate();
    adminEvent(ctx, req, 'key.deleted', record.id, { name: record.name });
    return reply.code(204).send();
  });

  app.get('/keys/:id/usage', documented({ summary: "A key's limits and what is used of them", ...byId, responses: { 200: keyUsageSchema } }), async (req) => {
    const record = await load(req);
    // The same subjects the request path counts against (key, user, app, the user's app).
    const { subjects } = await ctx.access.limitSubjects(record);
    const usage = await Promise.all(subjects.map(async (s) => ({ subject: s.subject, limits: s.limits, states: await ctx.limits.usage(s) })));
    return { keyId: record.id, subjects: usage };
  });
}
