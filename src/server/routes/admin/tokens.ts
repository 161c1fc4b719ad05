/** /admin/tokens: issue a token for a key or an app (what `keygate tokens issue` does), revoke any token. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errors } from '../../../core/errors.js';
import type { GatewayContext } from '../../context.js';
import { adminRevokedSchema, issuedTokenSchema, tokenSecretRotatedSchema } from '../../api-schemas.js';
import { documented } from '../../openapi.js';
import { adminEvent, conflict, findIdentity, notFound } from './common.js';
import { SigningKeyring } from '../../../auth/signing-keys.js';
import { loadTokenKeyring, rotateTokenKeyring } from '../../../auth/token-keyring-source.js';
import { issueFor, revocationTarget, type TokenHolder } from './token-ops.js';
import { parseWith } from './validation.js';

const issueSchema = z
  .object({
    keyId: z.string().min(1).max(100).optional(),
    app: z.string().min(1).max(100).optional(),
    scopes: z.union([z.array(z.string().max(20)).max(10), z.string().max(100)]).optional(),
    ttlSeconds: z.number().int().positive().optional(),
    clientId: z.string().max(200).optional(),
  })
  .strict();

const revokeSchema = z
  .object({
    token: z.string().max(4096).optional(),
    jti: z.string().max(256).optional(),
    expiresAt: z.union([z.number().int().positive(), z.string().max(40)]).optional(),
  })
  .strict();

const rotateSecretSchema = z.object({ overlapSeconds: z.number().int().min(0).max(30 * 86_400).optional() }).strict();

export async function tokenRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  // What `keygate tokens rotate-secret` does; this gateway signs with the new key at once, others after SIGHUP.
  app.post('/tokens/rotate-secret', documented({ summary: 'Make a new token signing secret current (the old one verifies for the overlap)', body: rotateSecretSchema, responses: { 200: tokenSecretRotatedSchema }, errors: [409] }), async (req) => {
    const body = parseWith(rotateSecretSchema, req.body);
    const overlap = body.overlapSeconds ?? ctx.config.auth.tokens.rotationOverlapSeconds;
    if (process.env.KEYGATE_TOKEN_SECRETS) throw conflict('Token secrets come from KEYGATE_TOKEN_SECRETS: rotate them there (the new kid:secret first, the old one after it).', 'secrets_from_env');
    const kid = rotateTokenKeyring(ctx.dataDir, process.env, overlap);
    ctx.tokens.setKeyring(new SigningKeyring(loadTokenKeyring(ctx.dataDir, process.env)));
    adminEvent(ctx, req, 'admin.action', kid, { action: 'token_secret.rotated', overlapSeconds: overlap });
    return { kid, overlapSeconds: overlap, note: 'This gateway signs with the new key now; send SIGHUP to (or restart) the other replicas.' };
  });

  app.post('/tokens', documented({ summary: 'Issue a token for a key or an app (the token is in this response only)', body: issueSchema, responses: { 201: issuedTokenSchema }, errors: [404] }), async (req, reply) => {
    const body = parseWith(issueSchema, req.body);
    if ((body.keyId === undefined) === (body.app === undefined)) throw errors.invalidBody("Invalid request: give exactly one of 'keyId' and 'app'.", 'keyId');
    let holder: TokenHolder;
    if (body.keyId !== undefined) {
      const record = await ctx.repos.keys.findById(body.keyId);
      if (!record) throw notFound('key', body.keyId);
      if (record.revoked_at !== null) throw errors.invalidBody('Invalid request: this key is revoked.', 'keyId');
      holder = { kind: 'key', record };
    } else {
      const row = await findIdentity(ctx.repos.apps, 'app', body.app as string);
      if (row.disabled_at !== null) throw errors.invalidBody('Invalid request: this app is disabled.', 'app');
      holder = { kind: 'app', row };
    }
    const t = await issueFor(ctx.tokens, ctx.config.auth.tokens.ttlSeconds, holder, { scopes: body.scopes, ttlSeconds: body.ttlSeconds, clientId: body.clientId });
    adminEvent(ctx, req, 'token.issued', t.jti, { subject: holder.kind === 'key' ? `key:${holder.record.id}` : `app:${holder.row.id}`, scopes: t.scopes, expiresAt: t.expiresAt });
    reply.code(201).header('cache-control', 'no-store');
    return { access_token: t.token, token_type: 'Bearer', expires_in: t.expiresAt - t.issuedAt, scope: t.scopes.join(' '), jti: t.jti };
  });

  app.post('/tokens/revoke', documented({ summary: 'Revoke any token, by token or jti', body: revokeSchema, responses: { 200: adminRevokedSchema } }), async (req) => {
    const body = parseWith(revokeSchema, req.body);
    if (body.token !== undefined && body.jti !== undefined) throw errors.invalidBody("Invalid request: give 'token' or 'jti', not both.", 'jti');
    const target = await revocationTarget(ctx.tokens, body);
    await ctx.repos.revokedTokens.add(target.jti, target.expiresAtMs);
    ctx.access.markRevoked(target.jti);
    adminEvent(ctx, req, 'token.revoked', target.jti, { subject: target.sub });
    return { revoked: true, jti: target.jti, until: new Date(target.expiresAtMs).toISOString() };
  });
}
