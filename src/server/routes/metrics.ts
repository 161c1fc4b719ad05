/** Prometheus exposition. Needs an admin credential unless `metrics.public` is set. */
import type { FastifyInstance } from 'fastify';
import { makeAuthenticate, requireScope } from '../authenticate.js';
import type { GatewayContext } from '../context.js';
import { documented } from '../openapi.js';

export async function metricsRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  if (!ctx.config.metrics.enabled) return;
  if (!ctx.config.metrics.public) {
    app.addHook('onRequest', makeAuthenticate(ctx, { allowProviderKeys: false }));
    app.addHook('onRequest', async (req) => requireScope(req, 'admin'));
  }
  app.get('/metrics', documented({ summary: 'Prometheus metrics (admin credential unless metrics.public)', public: ctx.config.metrics.public, responses: { 200: { description: 'Prometheus text exposition', content: { 'text/plain': null } } } }), async (_req, reply) => {
    reply.header('content-type', ctx.metrics.contentType);
    return ctx.metrics.exposition();
  });
}
