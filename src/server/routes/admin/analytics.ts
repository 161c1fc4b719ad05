/**
 * /admin/analytics: usage over every key, user and app (the admin scope is checked by the
 * admin scope's hook in index.ts). Totals, time series and top spenders read the hourly
 * rollup; the export streams raw records page by page.
 */
import type { FastifyInstance } from 'fastify';
import { errors } from '../../../core/errors.js';
import type { GatewayContext } from '../../context.js';
import { UsageAnalytics } from '../../../usage/analytics.js';
import { exportStream } from '../../../usage/analytics-export.js';
import { parseAnalyticsQuery } from '../../../usage/analytics-query.js';

export async function analyticsAdminRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const analytics = new UsageAnalytics(ctx.store);

  app.get('/analytics/summary', async (req) => {
    const q = parseAnalyticsQuery(req.query, { extra: ['group_by'] });
    return { from: q.filter.from, to: q.filter.to, ...(await analytics.summary(q.filter, q.groupBy)) };
  });

  app.get('/analytics/timeseries', async (req) => {
    const q = parseAnalyticsQuery(req.query, { extra: ['group_by', 'bucket'] });
    const bucket = q.bucket ?? 'day';
    return { from: q.filter.from, to: q.filter.to, bucket, data: await analytics.timeseries(q.filter, bucket, q.groupBy) };
  });

  app.get('/analytics/top', async (req) => {
    const q = parseAnalyticsQuery(req.query, { extra: ['group_by', 'by', 'limit'] });
    if (q.groupBy.length > 1) throw errors.invalidBody("Invalid request: 'group_by' takes one dimension here.", 'group_by');
    const dim = q.groupBy[0] ?? 'key';
    return { from: q.filter.from, to: q.filter.to, by: q.by, groupBy: dim, data: await analytics.top(q.filter, q.by ?? 'cost', dim, q.limit ?? 10) };
  });

  app.get('/analytics/export', async (req, reply) => {
    const q = parseAnalyticsQuery(req.query, { extra: ['format'] });
    const format = q.format ?? 'json';
    const name = `keygate-usage-${new Date(q.filter.from).toISOString().slice(0, 10)}-${new Date(q.filter.to).toISOString().slice(0, 10)}.${format}`;
    reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store');
    return reply.send(exportStream(analytics, q.filter, format));
  });
}

