/** Liveness and readiness. Neither needs auth, and neither says anything secret. */
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { healthSchema, readySchema } from '../api-schemas.js';
import { documented } from '../openapi.js';

export async function healthRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.get('/healthz', documented({ summary: 'Liveness', public: true, responses: { 200: healthSchema } }), async () => ({ status: 'ok' }));

  app.get('/readyz', documented({ summary: 'Readiness: store, providers, secret backend', public: true, responses: { 200: readySchema, 503: readySchema } }), async (_req, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    try {
      await ctx.store.ping();
      checks.store = { ok: true };
    } catch {
      checks.store = { ok: false, detail: 'the database is not reachable' };
    }
    const usable = ctx.registry.all().filter((p) => ctx.providerKeys.has(p.id) || ctx.config.keyMode !== 'server' || p.adapter.keyOptional);
    checks.providers = usable.length > 0 ? { ok: true, detail: `${usable.length} usable` } : { ok: false, detail: 'no provider is usable' };
    // A secret backend that is down is reported, not fatal: its last good keys are still served.
    const secrets = ctx.providerKeys.status();
    checks.secrets = secrets.healthy
      ? { ok: true, detail: `${secrets.backend} backend` }
      : { ok: true, detail: `degraded: the ${secrets.backend} backend is failing since ${secrets.staleSince ?? 'now'}; the last good keys are still served (${secrets.lastError ?? 'unknown error'})` };
    // A usage worker that stopped is reported, not fatal: its batches are written on the event loop.
    const sink = ctx.usage.sinkMode;
    if (sink) checks.usage = { ok: true, detail: sink === 'event-loop' ? 'degraded: the usage worker stopped; usage batches are written on the event loop' : `usage worker: ${sink}` };
    const ok = Object.values(checks).every((c) => c.ok);
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not_ready', checks };
  });
}
