/**
 * The authentication step of the public API: who is calling (a keygate key, or nobody when
 * gateway auth is off) and which provider key, if any, the client brought for passthrough.
 * Scopes, signed tokens and limits slot in after this step and read `request.principal`.
 */
import type { FastifyRequest } from 'fastify';
import { readCredentials } from '../auth/credentials.js';
import type { Principal } from '../auth/key-authenticator.js';
import { errors } from '../core/errors.js';
import type { GatewayContext } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    clientProviderKey: string | null;
  }
}

export function makeAuthenticate(ctx: GatewayContext) {
  const authOn = ctx.config.auth.enabled;
  return async function authenticate(req: FastifyRequest): Promise<void> {
    const creds = readCredentials(req.headers);
    req.clientProviderKey = ctx.config.keyMode === 'server' ? null : creds.clientProviderKey;
    if (!authOn) {
      req.principal = null;
      return;
    }
    if (!creds.keygateKey) throw errors.missingCredential();
    req.principal = await ctx.keys.authenticate(creds.keygateKey);
  };
}

export function requireScope(req: FastifyRequest, scope: 'read' | 'write' | 'admin'): void {
  if (req.principal && !req.principal.scopes.includes(scope)) {
    throw errors.forbidden(`This key lacks the '${scope}' scope.`, 'insufficient_scope');
  }
}
