/**
 * GET /v1/usage: a caller's own usage (totals, optional groups and time series), for any
 * credential with the `read` scope. The filter is the caller's key (or, for an app token,
 * its app) and cannot be widened: admins use /admin/analytics for everyone's.
 * This scope also runs the retention job (records and rollups pruned in small batches).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { UsageAnalytics, type AnalyticsFilter } from '../../usage/analytics.js';
import { analyticsQueryDoc, parseAnalyticsQuery, type QuerySpec } from '../../usage/analytics-query.js';
import { RetentionJob } from '../../usage/retention.js';
import { makeAuthenticateHook, requireScope } from '../authenticate.js';
import type { GatewayContext } from '../context.js';
import { ownUsageSchema } from '../api-schemas.js';
import { documented } from '../openapi.js';

export async function usageRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const analytics = new UsageAnalytics(ctx.store);
  const retention = new RetentionJob(ctx.store, {
    retentionDays: ctx.config.usage.retentionDays,
    rollupRetentionDays: ctx.config.usage.rollupRetentionDays,
    onError: (err) => ctx.logger.error({ err }, 'usage retention run failed'),
  });
  app.addHook('onReady', async () => retention.start());
  app.addHook('onClose', async () => retention.stop());
  app.addHook('onRequest', makeAuthenticateHook(ctx, { allowProviderKeys: false }));

  const own = (req: FastifyRequest, filter: AnalyticsFilter): AnalyticsFilter => {
    requireScope(req, 'read');
    const p = req.principal;
    if (p?.keyId) return { ...filter, key_id: p.keyId };
    if (p?.appId) return { ...filter, app_id: p.appId };
    throw errors.forbidden('Usage is reported per key: call with a keygate key or token.', 'no_usage_owner');
  };

  const spec: QuerySpec = { extra: ['group_by', 'bucket'], filters: ['provider', 'model'], dimensions: ['provider', 'model', 'status'] };
  app.get('/v1/usage', documented({ summary: "The caller's own usage", querystring: analyticsQueryDoc(spec), responses: { 200: ownUsageSchema } }), async (req) => {
    requireScope(req, 'read');
    const q = parseAnalyticsQuery(req.query, spec);
    const filter = own(req, q.filter);
    const hasBucket = (req.query as Record<string, unknown> | undefined)?.bucket !== undefined;
    return {
      from: filter.from,
      to: filter.to,
      ...(filter.key_id ? { keyId: filter.key_id } : { appId: filter.app_id }),
      ...(await analytics.summary(filter, q.groupBy)),
      ...(hasBucket && q.bucket ? { bucket: q.bucket, series: await analytics.timeseries(filter, q.bucket, q.groupBy) } : {}),
    };
  });
}
