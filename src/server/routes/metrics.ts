/** Prometheus exposition. Needs an admin credential unless `metrics.public` is set. */
import type { FastifyInstance } from 'fastify';
import { makeAuthenticateHook, requireScope } from '../authenticate.js';
import type { GatewayContext } from '../context.js';
import { documented } from '../openapi.js';

export async function metricsRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  if (!ctx.config.metrics.enabled) return;
  if (!ctx.config.metrics.public) {
    app.addHook('onRequest', makeAuthenticateHook(ctx, { allowProviderKeys: false }));
    app.addHook('onRequest', async (req) => requireScope(req, 'admin'));
  }
  const providerOf = new Map(ctx.registry.all().map((p) => [p.origin, p.id]));
  app.get('/metrics', documented({ summary: 'Prometheus metrics (admin credential unless metrics.public)', public: ctx.config.metrics.public, responses: { 200: { description: 'Prometheus text exposition', content: { 'text/plain': null } } } }), async (_req, reply) => {
    // Read at scrape time: the pools' own counters, nothing kept per request.
    for (const { origin, ratio } of ctx.upstream.saturation()) {
      const provider = providerOf.get(origin);
      if (provider) ctx.metrics.poolSaturation(provider, ratio);
    }
    reply.header('content-type', ctx.metrics.contentType);
    return ctx.metrics.exposition();
  });
}
