/**
 * /admin/users and /admin/apps: create, list, show, update (disable with `{disabled: true}`),
 * delete; and /admin/apps/:id/secret, which returns a new app secret once and keeps its hash.
 */
import type { FastifyInstance } from 'fastify';
import type { Limits } from '../../../limits/index.js';
import { identityView, type IdentityKind } from '../../../store/repositories/identities.js';
import type { GatewayContext } from '../../context.js';
import { appSecretSchema, appViewSchema, pageOf, userViewSchema } from '../../api-schemas.js';
import { documented } from '../../openapi.js';
import { adminEvent, conflict, findIdentity, idParam, idParams, pageQuery, paginate } from './common.js';
import { newAppSecret } from './app-secrets.js';
import { resolveOwners } from './owners.js';
import { identityCreateSchema, identityUpdateSchema, parseWith } from './validation.js';

export async function identityRoutes(app: FastifyInstance, ctx: GatewayContext, kind: IdentityKind): Promise<void> {
  // One code path for both kinds; the repository types differ only in a column or two.
  const repo = kind === 'users' ? ctx.repos.users : (ctx.repos.apps as unknown as typeof ctx.repos.users);
  const what = kind === 'users' ? 'user' : 'app';
  // Apps belong to no app: for them `appId` is an unknown field like any other.
  const createSchema = kind === 'users' ? identityCreateSchema : identityCreateSchema.omit({ appId: true });
  const updateSchema = kind === 'users' ? identityUpdateSchema : identityUpdateSchema.omit({ appId: true });

  const viewSchema = kind === 'users' ? userViewSchema : appViewSchema;
  const byId = { params: idParams, errors: [404] };

  const uniqueName = async (name: string): Promise<void> => {
    if (await repo.get(name)) throw conflict(`A ${what} named '${name}' already exists.`, 'name_taken');
  };

  app.post(`/${kind}`, documented({ summary: `Create a ${what}`, body: createSchema, responses: { 201: viewSchema }, errors: [409] }), async (req, reply) => {
    const body: { name: string; limits?: Limits | null; appId?: string | null } = parseWith(createSchema, req.body);
    const { appId } = await resolveOwners(ctx.repos, { appId: body.appId });
    await uniqueName(body.name);
    const row = await repo.create({ name: body.name, limits: body.limits ?? null, appId: appId ?? null });
    ctx.access.invalidate();
    adminEvent(ctx, req, 'admin.action', row.id, { action: `${what}.created`, name: row.name, limits: body.limits ?? null, appId: appId ?? null });
    reply.code(201);
    return identityView(kind, row);
  });

  app.get(`/${kind}`, documented({ summary: `List ${kind}`, querystring: pageQuery, responses: { 200: pageOf(viewSchema) } }), async (req) => paginate(await repo.list(), req.query as Record<string, unknown>, (r) => identityView(kind, r)));

  app.get(`/${kind}/:id`, documented({ summary: `Show a ${what}`, ...byId, responses: { 200: viewSchema } }), async (req) => identityView(kind, await findIdentity(repo, what, idParam(req))));

  app.patch(`/${kind}/:id`, documented({ summary: `Update or disable a ${what}`, ...byId, body: updateSchema, responses: { 200: viewSchema }, errors: [404, 409] }), async (req) => {
    const row = await findIdentity(repo, what, idParam(req));
    const body: { name?: string; limits?: Limits | null; appId?: string | null; disabled?: boolean } = parseWith(updateSchema, req.body);
    if (body.name !== undefined && body.name !== row.name) await uniqueName(body.name);
    const { appId } = await resolveOwners(ctx.repos, { appId: body.appId });
    const updated = await repo.update(row.id, { ...body, appId });
    ctx.access.invalidate();
    adminEvent(ctx, req, 'admin.action', row.id, { action: `${what}.updated`, ...body });
    return identityView(kind, updated ?? row);
  });

  app.delete(`/${kind}/:id`, documented({ summary: `Delete a ${what} that owns nothing`, ...byId, responses: { 204: null }, errors: [404, 409] }), async (req, reply) => {
    const row = await findIdentity(repo, what, idParam(req));
    // Refuse to orphan keys or users: their limits and owner would silently vanish.
    const keys = await ctx.repos.keys.list(kind === 'users' ? { userId: row.id } : { appId: row.id });
    const users = kind === 'apps' ? (await ctx.repos.users.list()).filter((u) => u.app_id === row.id) : [];
    if (keys.length > 0 || users.length > 0) {
      throw conflict(`This ${what} still has ${keys.length} key(s)${kind === 'apps' ? ` and ${users.length} user(s)` : ''}; delete or move them first, or disable the ${what} instead.`, 'in_use');
    }
    await repo.delete(row.id);
    ctx.access.invalidate();
    adminEvent(ctx, req, 'admin.action', row.id, { action: `${what}.deleted`, name: row.name });
    return reply.code(204).send();
  });

  if (kind !== 'apps') return;

  app.post('/apps/:id/secret', documented({ summary: 'Set a new app secret (in this response only)', ...byId, responses: { 201: appSecretSchema } }), async (req, reply) => {
    const row = await findIdentity(ctx.repos.apps, 'app', idParam(req));
    const { secret, hash } = newAppSecret();
    await ctx.repos.apps.update(row.id, { secretHash: hash });
    ctx.access.invalidate();
    adminEvent(ctx, req, 'admin.action', row.id, { action: 'app.secret_rotated', name: row.name });
    // Shown once, like a key: never cached, never stored in plain text.
    reply.code(201).header('cache-control', 'no-store');
    return { appId: row.id, name: row.name, secret };
  });
}
