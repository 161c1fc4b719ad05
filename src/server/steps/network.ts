/**
 * First step of every request: the client's address (X-Forwarded-For only from trusted
 * proxies), the HTTPS requirement, and the global IP allow/deny rules. Runs before any
 * authentication, so a refused address learns nothing else.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
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

export function makeNetworkStep(ctx: GatewayContext) {
  const requireHttps = ctx.config.server.requireHttps;
  return async function network(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    req.clientIp = ctx.trustProxy.clientIp(req.raw.socket.remoteAddress, req.headers);
    if (requireHttps && !isHttpsRequest(ctx, req)) {
      throw errors.forbidden('This gateway accepts HTTPS only.', 'https_required');
    }
    await ctx.access.refresh();
    const rules = ctx.access.ipRules;
    if (!rules.empty && !rules.check(req.clientIp).allowed) {
      ctx.events.emit({ type: 'ip.denied', actor: 'anonymous', outcome: 'denied', address: req.clientIp, requestId: String(req.id) });
      throw errors.forbidden('Requests from this address are not allowed.', 'ip_not_allowed');
    }
  };
}
