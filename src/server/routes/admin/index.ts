/**
 * The admin API, in its own encapsulated scope under /admin: nothing registered here is
 * reachable without passing this scope's hooks, in this order:
 *   1. the address guard (client address only, never the Host header): a locked-out or
 *      too-busy address is refused before its credential is even looked at;
 *   2. authentication with a keygate key or token (never a provider key), then the `admin`
 *      scope; each failure counts towards the address's lockout.
 * The lockout is counted where the limits are: in Redis when they are shared, so replicas add
 * up; if Redis cannot be reached the admin API fails closed (503) rather than stop counting.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError, errors } from '../../../core/errors.js';
import { makeAuthenticate, requireScope } from '../../authenticate.js';
import type { GatewayContext } from '../../context.js';
import { sendError } from '../../error-handler.js';
import { AdminGuard } from './guard.js';
import { RedisLockout } from './lockout-redis.js';
import { identityRoutes } from './identities.js';
import { ipRuleRoutes } from './ip-rules.js';
import { keyRoutes } from './keys.js';
import { tokenRoutes } from './tokens.js';
import { analyticsAdminRoutes } from './analytics.js';
import { operationsRoutes } from './operations.js';
import { guardPolicyRoutes } from './guard-policies.js';

const lockedOut = (retryAfter: number) =>
  new GatewayError(429, 'rate_limit_error', 'admin_locked_out', 'Too many failed admin authentications from this address; try again later.', {
    headers: { 'retry-after': String(retryAfter) },
  });

const tooBusy = (retryAfter: number) =>
  new GatewayError(429, 'rate_limit_error', 'rate_limit_exceeded', 'Too many admin requests from this address; slow down.', {
    headers: { 'retry-after': String(retryAfter) },
  });

export async function adminRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const { adminRpm, adminLockout } = ctx.config.auth;
  const shared = ctx.limits.shared;
  const guard = new AdminGuard({ rpm: adminRpm, ...adminLockout }, shared ? new RedisLockout(shared, adminLockout) : undefined);
  const authenticate = makeAuthenticate(ctx, { allowProviderKeys: false });
  // A failure that cannot be counted is still refused (the caller throws the auth error).
  const countFailure = (req: FastifyRequest) =>
    guard.fail(req.clientIp).catch((err: unknown) => {
      req.log.error({ err }, 'admin API: a failed authentication could not be counted (lockout store unreachable)');
      return false;
    });

  app.addHook('onRequest', async (req: FastifyRequest) => {
    let decision;
    try {
      decision = await guard.admit(req.clientIp);
    } catch (err) {
      req.log.error({ err }, 'admin API: lockout store unreachable; admin requests are refused until it answers');
      throw errors.unavailable('The admin API cannot check its lockout right now; try again shortly.');
    }
    if (!decision.ok) throw decision.reason === 'locked' ? lockedOut(decision.retryAfterSeconds) : tooBusy(decision.retryAfterSeconds);
    // With gateway auth off there is no one to trust with the admin API: it stays shut.
    if (!ctx.config.auth.enabled) throw errors.forbidden('The admin API needs gateway auth (auth.enabled: true).', 'admin_disabled');
    try {
      await authenticate(req);
      requireScope(req, 'admin');
    } catch (err) {
      if (err instanceof GatewayError && (err.status === 400 || err.status === 401 || err.status === 403) && (await countFailure(req))) {
        ctx.events.emit({
          type: 'admin.lockout',
          actor: req.principal?.keyId ?? 'anonymous',
          clientId: req.principal?.clientId ?? null,
          outcome: 'denied',
          address: req.clientIp,
          requestId: String(req.id),
          details: { maxFailures: adminLockout.maxFailures, windowSeconds: adminLockout.windowSeconds, lockSeconds: adminLockout.lockSeconds },
        });
        req.log.warn({ address: req.clientIp }, 'admin API: address locked out after repeated failed authentications');
      }
      throw err;
    }
  });
  // Unknown admin paths answer 404 only past the hooks above, so probing them reveals nothing.
  app.setNotFoundHandler((_req, reply) => sendError(reply, errors.notFound()));

  await keyRoutes(app, ctx);
  await identityRoutes(app, ctx, 'users');
  await identityRoutes(app, ctx, 'apps');
  await ipRuleRoutes(app, ctx);
  await tokenRoutes(app, ctx);
  await analyticsAdminRoutes(app, ctx);
  await operationsRoutes(app, ctx);
  await guardPolicyRoutes(app, ctx);
  await (await import('./provider-keys.js')).providerKeyAdminRoutes(app, ctx);
}
