/**
 * /v1/split-keys: a caller's own BYOK split keys. Create (the client part is in that one
 * response only), list, rotate, revoke. Keys and client parts are never echoed or listed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ownerOf, splitKeyErrors, splitKeyView, SplitKeyService, type CreatedKey, type SplitKeyRow } from '../../byok/index.js';
import { isSplitKeyId, SecretString } from '../../crypto/index.js';
import { errors } from '../../core/errors.js';
import { makeAuthenticateHook, requireScope } from '../authenticate.js';
import type { GatewayContext } from '../context.js';
import { createdSplitKeySchema, rotatedSplitKeySchema, splitKeyListSchema, splitKeyViewSchema } from '../api-schemas.js';
import { documented } from '../openapi.js';
import { adminEvent } from './admin/common.js';
import { parseWith } from './admin/validation.js';

// Printable ASCII without spaces: a key travels in an Authorization header upstream.
const providerKey = z.string().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters').regex(/^[\x21-\x7e]+$/, 'must be printable characters without spaces');
const createBody = z.object({ provider: z.string().min(1).max(64), key: providerKey }).strict();
const rotateBody = z.object({ key: providerKey }).strict();
const idParams = z.object({ id: z.string().max(100) }).strict();

export async function splitKeyRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const service = ctx.splitKeys instanceof SplitKeyService ? ctx.splitKeys : null;
  app.addHook('onRequest', makeAuthenticateHook(ctx, { allowProviderKeys: false }));
  // Uses counted during the last moments are written before the store closes.
  app.addHook('onClose', async () => service?.close());

  /** The service and the caller's owner id, after the scope check. */
  const caller = (req: FastifyRequest): { svc: SplitKeyService; owner: string } => {
    requireScope(req, 'write');
    if (!service) throw splitKeyErrors.disabled();
    if (!req.principal) throw splitKeyErrors.noCaller();
    const owner = ownerOf(req.principal);
    if (!owner) throw splitKeyErrors.noOwner();
    return { svc: service, owner };
  };

  /** The caller's own key by id; someone else's reads as not found. */
  const ownKey = async (svc: SplitKeyService, owner: string, req: FastifyRequest): Promise<SplitKeyRow> => {
    const { id } = parseWith(idParams, req.params);
    const row = isSplitKeyId(id) ? await svc.keys.find(id) : undefined;
    if (!row || row.owner_id !== owner) throw splitKeyErrors.notFound();
    return row;
  };

  const shownOnce = (reply: FastifyReply, made: CreatedKey, status: number) => {
    // The only responses that carry a client part: never cached.
    reply.code(status).header('cache-control', 'no-store');
    return { id: made.row.key_id, client_part: made.clientPart, provider: made.row.provider, created_at: new Date(made.row.created_at).toISOString() };
  };

  app.post('/v1/split-keys', documented({ summary: 'Split a provider key (the client part is in this response only)', body: createBody, responses: { 201: createdSplitKeySchema }, errors: [503] }), async (req, reply) => {
    const { svc, owner } = caller(req);
    const body = parseWith(createBody, req.body);
    if (!ctx.registry.get(body.provider)) {
      const known = ctx.registry.all().map((p) => p.id).join(', ');
      throw errors.invalidBody(`Invalid request: 'provider' must be a provider this gateway serves (${known}).`, 'provider');
    }
    const made = await svc.create({ ownerId: owner, provider: body.provider, key: SecretString.from(body.key) });
    adminEvent(ctx, req, 'admin.action', made.row.key_id, { action: 'split_key.created', provider: made.row.provider, owner });
    return shownOnce(reply, made, 201);
  });

  app.get('/v1/split-keys', documented({ summary: "The caller's split keys", responses: { 200: splitKeyListSchema }, errors: [503] }), async (req) => {
    const { svc, owner } = caller(req);
    const rows = await svc.keys.list(owner);
    return { object: 'list', data: rows.map(splitKeyView) };
  });

  app.post('/v1/split-keys/:id/rotate', documented({ summary: 'Replace a split key with a new one', params: idParams, body: rotateBody, responses: { 201: rotatedSplitKeySchema }, errors: [404, 409, 503] }), async (req, reply) => {
    const { svc, owner } = caller(req);
    const row = await ownKey(svc, owner, req);
    const body = parseWith(rotateBody, req.body);
    const made = await svc.rotate(row, SecretString.from(body.key));
    if (!made) throw splitKeyErrors.notActive();
    adminEvent(ctx, req, 'admin.action', row.key_id, { action: 'split_key.rotated', provider: row.provider, owner, replacedBy: made.row.key_id });
    return { ...shownOnce(reply, made, 201), replaces: row.key_id };
  });

  app.delete('/v1/split-keys/:id', documented({ summary: 'Revoke a split key', params: idParams, responses: { 200: splitKeyViewSchema }, errors: [404, 503] }), async (req) => {
    const { svc, owner } = caller(req);
    const row = await ownKey(svc, owner, req);
    if (await svc.keys.revoke(row.key_id)) adminEvent(ctx, req, 'admin.action', row.key_id, { action: 'split_key.revoked', provider: row.provider, owner });
    return splitKeyView((await svc.keys.find(row.key_id)) ?? row);
  });
}
