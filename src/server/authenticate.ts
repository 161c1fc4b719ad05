/**
 * The authentication step of the public API: who is calling (a keygate key or a signed
 * token; nobody when gateway auth is off), which provider key the client brought for
 * passthrough, whether the caller's own IP allow-list admits this address, and whether its
 * route allow-list admits the route that matched (the router's pattern, never the raw URL).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { refusedCredential, type Principal } from '../auth/access-control.js';
import { isSignedToken, readCredentials } from '../auth/credentials.js';
import { hasScope, type Scope } from '../auth/scopes.js';
import { GatewayError, errors } from '../core/errors.js';
import type { GatewayContext } from './context.js';
import { runStep, type HookDone } from './hook-done.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    clientProviderKey: string | null;
  }
}

export interface AuthenticateOptions {
  /** Whether a client's own provider key is read (passthrough/auto); default true. */
  allowProviderKeys?: boolean;
  /**
   * Whether the key's route allow-list is checked here against the matched route pattern
   * (default true). The native routes check it later, against the whitelisted endpoint
   * (`/anthropic/v1/messages`), since their router pattern is only `/anthropic/*`.
   */
  checkRoute?: boolean;
}

/** The step as an async function of the request (an onRequest hook as it is). */
export function makeAuthenticate(ctx: GatewayContext, opts: AuthenticateOptions = {}) {
  const step = makeAuthStep(ctx, opts);
  return async function authenticate(req: FastifyRequest): Promise<void> {
    await step(req);
  };
}

/** The step as an onRequest hook in callback style: Fastify makes no promise for a cached key. */
export function makeAuthenticateHook(ctx: GatewayContext, opts: AuthenticateOptions = {}) {
  const step = makeAuthStep(ctx, opts);
  return function authenticateHook(req: FastifyRequest, _reply: FastifyReply, done: HookDone): void {
    runStep(step, req, done);
  };
}

/**
 * The step itself: undefined when it is done (a cached key, the usual case: no promise), else
 * the promise of the store lookup or token check; refusals are thrown (or rejected).
 */
function makeAuthStep(ctx: GatewayContext, opts: AuthenticateOptions) {
  const authOn = ctx.config.auth.enabled;
  const allowProviderKeys = opts.allowProviderKeys !== false;
  const checkRoute = opts.checkRoute !== false;

  const refused = (req: FastifyRequest, err: unknown): never => {
    if (err instanceof GatewayError && err.status === 401) {
      // A known key or a verified token: its ids (never the secret) say whose credential it was.
      const who = refusedCredential(err);
      ctx.events.emit({
        type: err.code === 'revoked_api_key' || (err as { reason?: string }).reason === 'revoked' ? 'credential.revoked_used' : 'credential.rejected',
        actor: who?.keyId ?? (who?.appId ? `app:${who.appId}` : 'anonymous'),
        clientId: who?.clientId ?? null,
        target: who?.jti ?? who?.keyId ?? undefined,
        outcome: 'denied',
        address: req.clientIp,
        requestId: String(req.id),
        details: { code: err.code, ...(who?.keyId ? { keyId: who.keyId } : {}), ...(who?.jti ? { jti: who.jti } : {}) },
      });
    }
    throw err;
  };

  const admit = (req: FastifyRequest, principal: Principal): void => {
    req.principal = principal;
    const ipAllow = principal.ipAllow;
    if (ipAllow && !ipAllow.check(req.clientIp).allowed) {
      ctx.events.emit({ type: 'ip.denied', actor: principal.keyId ?? 'anonymous', clientId: principal.clientId, outcome: 'denied', address: req.clientIp, requestId: String(req.id) });
      throw errors.forbidden('This key may not be used from this address.', 'ip_not_allowed');
    }
    // No matched route (a 404 to come): nothing to allow.
    const route = req.routeOptions.url;
    if (checkRoute && route !== undefined) requireRoute(req, route);
  };

  return function authenticate(req: FastifyRequest): Promise<void> | undefined {
    const creds = readCredentials(req.headers);
    req.clientProviderKey = ctx.config.keyMode === 'server' || !allowProviderKeys ? null : creds.clientProviderKey;
    if (!authOn) {
      req.principal = null;
      return undefined;
    }
    const key = creds.keygateKey;
    if (!key) throw errors.missingCredential();
    if (isSignedToken(key)) {
      return ctx.access.authenticateToken(key).then((p) => admit(req, p), (err: unknown) => refused(req, err));
    }
    let cached: Principal | null;
    try {
      cached = ctx.access.cachedKey(key);
    } catch (err) {
      return refused(req, err);
    }
    if (!cached) return ctx.access.authenticateKey(key).then((p) => admit(req, p), (err: unknown) => refused(req, err));
    admit(req, cached);
    return undefined;
  };
}

/** The key's route allow-list, against a route pattern (`/v1/embeddings`, `/anthropic/v1/messages`). */
export function requireRoute(req: FastifyRequest, route: string): void {
  const routes = req.principal?.routes;
  if (routes && !routes.allows(route)) {
    throw errors.forbidden(`This credential may not use the route '${route.slice(0, 200)}'.`, 'route_not_allowed');
  }
}

/** The key's provider allow-list, for calls that name no model (a model list, a batch, moderations). */
export function requireProvider(req: FastifyRequest, provider: string): void {
  const providers = req.principal?.providers;
  if (providers && !providers.allows(provider)) {
    throw errors.forbidden(`This credential may not use the provider '${provider}'.`, 'provider_not_allowed');
  }
}

export function requireScope(req: FastifyRequest, scope: Scope): void {
  if (req.principal && !hasScope(req.principal.scopes, scope)) {
    throw errors.forbidden(`This credential lacks the '${scope}' scope.`, 'insufficient_scope');
  }
}

export function modelAllowed(req: FastifyRequest, provider: string, model: string): boolean {
  const p = req.principal;
  if (!p) return true;
  if (p.providers && !p.providers.allows(provider)) return false;
  return !p.models || p.models.allows(model, provider);
}

/** The key's model/provider allow-list, checked once the model is resolved. */
export function requireModel(req: FastifyRequest, provider: string, model: string): void {
  if (!modelAllowed(req, provider, model)) {
    throw errors.forbidden(`This credential may not use the model '${provider}/${model.slice(0, 100)}'.`, 'model_not_allowed');
  }
}
