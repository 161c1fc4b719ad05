/**
 * POST /auth/token and POST /auth/revoke.
 *
 * A token is issued only to a caller that proves who it is: with a keygate key in
 * Authorization (the token gets at most that key's scopes), or with an app id/name AND that
 * app's secret. Naming a user, a client id or an app without its secret gets nothing: that
 * is exactly the hole of gateways whose token endpoint signs whatever it is asked.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isSignedToken, readCredentials } from '../../auth/credentials.js';
import { hasScope } from '../../auth/scopes.js';
import { GatewayError, errors } from '../../core/errors.js';
import { makeAuthenticate } from '../authenticate.js';
import type { GatewayContext } from '../context.js';
import { issuedTokenSchema, revokedSchema } from '../api-schemas.js';
import { documented } from '../openapi.js';
import { appSecretMatches } from './admin/app-secrets.js';
import { holderClientId, issueFor, revocationTarget, type TokenHolder } from './admin/token-ops.js';
import { parseWith } from './admin/validation.js';

const tokenBody = z
  .object({
    scopes: z.union([z.array(z.string().max(20)).max(10), z.string().max(100)]).optional(),
    /** OAuth spelling, space separated. */
    scope: z.string().max(100).optional(),
    ttl_seconds: z.number().int().positive().optional(),
    client_id: z.string().max(200).optional(),
    app: z.string().min(1).max(100).optional(),
    app_secret: z.string().min(1).max(200).optional(),
  })
  .strict();

const revokeBody = z.object({ token: z.string().max(4096).optional(), jti: z.string().max(256).optional() }).strict();

const noProof = () =>
  new GatewayError(
    401,
    'authentication_error',
    'missing_credential',
    'Prove who you are: send Authorization: Bearer kg-... or {"app": "...", "app_secret": "..."}. A token is never issued on a name alone.',
    { headers: { 'www-authenticate': 'Bearer realm="keygate", error="invalid_request", error_description="missing credential"' } },
  );

const badAppSecret = () =>
  new GatewayError(401, 'authentication_error', 'invalid_client', 'The app or its secret is not valid.', {
    headers: { 'www-authenticate': 'Bearer realm="keygate", error="invalid_token", error_description="invalid client"' },
  });

export async function authTokenRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  // Getting or revoking a token is never refused by a key's route list: the token carries the same list.
  const authenticate = makeAuthenticate(ctx, { allowProviderKeys: false, checkRoute: false });

  const rejected = (req: FastifyRequest, code: string) =>
    ctx.events.emit({ type: 'credential.rejected', actor: 'anonymous', outcome: 'denied', address: req.clientIp, requestId: String(req.id), details: { code, route: '/auth/token' } });

  /** The proven holder: a keygate key (never a token: tokens are not exchanged for tokens) or an app. */
  async function holderOf(req: FastifyRequest, body: z.infer<typeof tokenBody>): Promise<TokenHolder> {
    const creds = readCredentials(req.headers);
    if (creds.keygateKey !== null) {
      if (body.app !== undefined || body.app_secret !== undefined) throw errors.invalidBody("Invalid request: prove yourself with a key or with an app secret, not both.", 'app');
      if (isSignedToken(creds.keygateKey)) throw errors.forbidden('A token cannot be exchanged for another token; use a keygate key.', 'token_exchange_not_allowed');
      await authenticate(req);
      const keyId = req.principal?.keyId;
      const record = keyId ? await ctx.repos.keys.findById(keyId) : undefined;
      if (!record) throw errors.invalidCredential();
      return { kind: 'key', record };
    }
    if (body.app !== undefined && body.app_secret !== undefined) {
      const row = await ctx.repos.apps.get(body.app);
      // Same work whether or not the app exists (the compare runs against a dummy hash).
      const ok = appSecretMatches(body.app_secret, row?.secret_hash ?? null);
      if (!row || !ok) {
        rejected(req, 'invalid_client');
        throw badAppSecret();
      }
      if (row.disabled_at !== null) throw errors.forbidden('This app is disabled.', 'identity_disabled');
      return { kind: 'app', row };
    }
    rejected(req, 'missing_credential');
    throw noProof();
  }

  app.post('/auth/token', documented({ summary: 'A signed token for a key (Authorization) or an app and its secret', public: true, body: tokenBody, responses: { 200: issuedTokenSchema }, errors: [401, 403] }), async (req: FastifyRequest, reply: FastifyReply) => {
    const body = parseWith(tokenBody, req.body);
    if (body.scopes !== undefined && body.scope !== undefined) throw errors.invalidBody("Invalid request: give 'scopes' or 'scope', not both.", 'scope');
    const holder = await holderOf(req, body);
    // A holder speaks for itself only: its own client id, or one under it (`ios-app/device-42`),
    // so the audit trail cannot be made to name another client.
    const own = holderClientId(holder);
    if (body.client_id !== undefined && body.client_id !== own && !body.client_id.startsWith(`${own}/`)) {
      throw errors.forbidden(`This credential may only name its own client id: '${own}' or '${own}/<anything>'.`, 'client_id_not_allowed');
    }
    const t = await issueFor(ctx.tokens, ctx.config.auth.tokens.ttlSeconds, holder, { scopes: body.scopes ?? body.scope, ttlSeconds: body.ttl_seconds, clientId: body.client_id });
    const subject = holder.kind === 'key' ? `key:${holder.record.id}` : `app:${holder.row.id}`;
    ctx.events.emit({
      type: 'token.issued',
      actor: holder.kind === 'key' ? holder.record.id : subject,
      clientId: body.client_id ?? null,
      target: t.jti,
      outcome: 'success',
      address: req.clientIp,
      requestId: String(req.id),
      details: { subject, scopes: t.scopes, expiresAt: t.expiresAt },
    });
    // RFC 6749 5.1: token responses are never cached.
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return { access_token: t.token, token_type: 'Bearer', expires_in: t.expiresAt - t.issuedAt, scope: t.scopes.join(' '), jti: t.jti };
  });

  /**
   * An admin may revoke any token; a token may revoke itself (the body may then be empty);
   * a key may revoke a token it obtained, by giving that token.
   */
  app.post('/auth/revoke', documented({ summary: 'Revoke a token (your own, or any with the admin scope)', body: revokeBody, responses: { 200: revokedSchema } }), async (req: FastifyRequest) => {
    await authenticate(req);
    const p = req.principal;
    if (!p) throw errors.forbidden('Revocation needs gateway auth.', 'forbidden');
    const body = parseWith(revokeBody, req.body);
    if (body.token !== undefined && body.jti !== undefined) throw errors.invalidBody("Invalid request: give 'token' or 'jti', not both.", 'jti');
    const self = p.kind === 'token' && p.jti !== undefined && body.token === undefined && (body.jti === undefined || body.jti === p.jti);
    const target = self ? { jti: p.jti as string, expiresAtMs: p.tokenExp ? p.tokenExp * 1000 : Date.now() + ctx.tokens.maxTtlSeconds * 1000, sub: null } : await revocationTarget(ctx.tokens, body);
    const isAdmin = hasScope(p.scopes, 'admin');
    const ownsIt = self || (p.kind === 'token' && target.jti === p.jti) || (p.kind === 'key' && p.keyId !== null && target.sub === `key:${p.keyId}`);
    if (!isAdmin && !ownsIt) throw errors.forbidden('You may revoke only your own token (or hold the admin scope).', 'insufficient_scope');
    await ctx.repos.revokedTokens.add(target.jti, target.expiresAtMs);
    ctx.access.markRevoked(target.jti);
    ctx.events.emit({
      type: 'token.revoked',
      actor: p.keyId ?? (p.appId ? `app:${p.appId}` : 'anonymous'),
      clientId: p.clientId,
      target: target.jti,
      outcome: 'success',
      address: req.clientIp,
      requestId: String(req.id),
      details: { by: isAdmin && !ownsIt ? 'admin' : 'holder' },
    });
    return { revoked: true, jti: target.jti };
  });
}
