/**
 * /admin/provider-keys: the gateway's provider keys in service. GET lists providers, key ids
 * and states (masks only; a key can never be read back); POST .../:provider/rotate takes a new
 * key, writes it to the secret backend and rotates it in at once (the old key drains).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SecretString } from '../../../crypto/secret-string.js';
import { errors } from '../../../core/errors.js';
import type { GatewayContext } from '../../context.js';
import { providerKeyRotatedSchema, providerKeysSchema } from '../../api-schemas.js';
import { documented } from '../../openapi.js';
import { adminEvent, conflict } from './common.js';
import { parseWith } from './validation.js';

const params = z.object({ provider: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/) }).strict();
const rotateBody = z.object({ key: z.string().trim().min(8).max(4096) }).strict();

export async function providerKeyAdminRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.get('/provider-keys', documented({ summary: 'Provider keys in service: ids, states and masks (never key material)', responses: { 200: providerKeysSchema } }), async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { backend: ctx.providerKeys.status(), providers: ctx.providerKeys.snapshot() };
  });

  app.post('/provider-keys/:provider/rotate', documented({ summary: "Rotate a provider's key in (the old one drains)", params, body: rotateBody, responses: { 200: providerKeyRotatedSchema }, errors: [404, 409] }), async (req, reply) => {
    const { provider } = parseWith(params, req.params);
    if (!ctx.registry.get(provider)) throw errors.unknownProvider(provider);
    const key = SecretString.from(parseWith(rotateBody, req.body).key);
    const backend = ctx.providerKeys.backend;
    if (!backend || !backend.capabilities.write) {
      throw conflict(`The ${backend?.name ?? 'env'} secret backend is read-only: set secrets.backend to a writable backend (store, vault, aws, azure, keyring) to rotate from the API.`, 'backend_read_only');
    }
    const r = await ctx.providerKeys.rotate(provider, key);
    adminEvent(ctx, req, 'admin.action', `${provider}/${r.keyId}`, { action: 'provider_key.rotate', provider, keyId: r.keyId, draining: r.draining });
    reply.header('cache-control', 'no-store');
    return { provider, keyId: r.keyId, draining: r.draining };
  });
}
