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
import { analyticsQueryDoc, parseAnalyticsQuery, type QuerySpec } from '../../../usage/analytics-query.js';
import { summarySchema, timeseriesSchema, topSchema, usageExportSchema } from '../../api-schemas.js';
import { documented } from '../../openapi.js';

const SPECS = {
  summary: { extra: ['group_by'] },
  timeseries: { extra: ['group_by', 'bucket'] },
  top: { extra: ['group_by', 'by', 'limit'] },
  export: { extra: ['format'] },
} as const satisfies Record<string, QuerySpec>;

export async function analyticsAdminRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const analytics = new UsageAnalytics(ctx.store);

  app.get('/analytics/summary', documented({ summary: 'Totals, optionally grouped', querystring: analyticsQueryDoc(SPECS.summary), responses: { 200: summarySchema } }), async (req) => {
    const q = parseAnalyticsQuery(req.query, SPECS.summary);
    return { from: q.filter.from, to: q.filter.to, ...(await analytics.summary(q.filter, q.groupBy)) };
  });

  app.get('/analytics/timeseries', documented({ summary: 'A time series by hour or day', querystring: analyticsQueryDoc(SPECS.timeseries), responses: { 200: timeseriesSchema } }), async (req) => {
    const q = parseAnalyticsQuery(req.query, SPECS.timeseries);
    const bucket = q.bucket ?? 'day';
    return { from: q.filter.from, to: q.filter.to, bucket, data: await analytics.timeseries(q.filter, bucket, q.groupBy) };
  });

  app.get('/analytics/top', documented({ summary: 'Top spenders by cost, tokens or requests', querystring: analyticsQueryDoc(SPECS.top), responses: { 200: topSchema } }), async (req) => {
    const q = parseAnalyticsQuery(req.query, SPECS.top);
    if (q.groupBy.length > 1) throw errors.invalidBody("Invalid request: 'group_by' takes one dimension here.", 'group_by');
    const dim = q.groupBy[0] ?? 'key';
    return { from: q.filter.from, to: q.filter.to, by: q.by, groupBy: dim, data: await analytics.top(q.filter, q.by ?? 'cost', dim, q.limit ?? 10) };
  });

  app.get('/analytics/export', documented({ summary: 'Raw records as CSV or a JSON array', querystring: analyticsQueryDoc(SPECS.export), responses: { 200: { description: 'The records, streamed', content: { 'application/json': usageExportSchema, 'text/csv': null } } } }), async (req, reply) => {
    const q = parseAnalyticsQuery(req.query, SPECS.export);
    const format = q.format ?? 'json';
    const name = `keygate-usage-${new Date(q.filter.from).toISOString().slice(0, 10)}-${new Date(q.filter.to).toISOString().slice(0, 10)}.${format}`;
    reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store');
    return reply.send(exportStream(analytics, q.filter, format));
  });
}

