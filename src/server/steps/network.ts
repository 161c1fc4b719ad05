/**
 * First step of every request: the client's address (X-Forwarded-For only from trusted
 * proxies), the HTTPS requirement, and the global IP allow/deny rules. Runs before any
 * authentication, so a refused address learns nothing else.
 */
import type { FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import type { GatewayContext } from '../context.js';

declare module 'fastify' {
  interface FastifyRequest {
    clientIp: string;
  }
}

export function isHttpsRequest(ctx: GatewayContext, req: FastifyRequest): boolean {
  if ((req.raw.socket as { encrypted?: boolean }).encrypted) return true;
  return ctx.trustProxy.isForwardedHttps(req.headers, req.raw.socket.remoteAddress);
}

/**
 * The step, without a promise when none is needed: it throws a refusal, returns undefined
 * when the request may go on, or the promise to wait for while the access cache reloads
 * (another process changed keys or rules).
 */
export function makeNetworkStep(ctx: GatewayContext) {
  const requireHttps = ctx.config.server.requireHttps;
  const checkRules = (req: FastifyRequest): void => {
    const rules = ctx.access.ipRules;
    if (!rules.empty && !rules.check(req.clientIp).allowed) {
      ctx.events.emit({ type: 'ip.denied', actor: 'anonymous', outcome: 'denied', address: req.clientIp, requestId: String(req.id) });
      throw errors.forbidden('Requests from this address are not allowed.', 'ip_not_allowed');
    }
  };
  return function network(req: FastifyRequest): Promise<void> | undefined {
    req.clientIp = ctx.trustProxy.clientIp(req.raw.socket.remoteAddress, req.headers);
    if (requireHttps && !isHttpsRequest(ctx, req)) {
      throw errors.forbidden('This gateway accepts HTTPS only.', 'https_required');
    }
    const reloading = ctx.access.refresh();
    if (reloading) return reloading.then(() => checkRules(req));
    checkRules(req);
    return undefined;
  };
}
