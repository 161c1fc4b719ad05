/** Analytics queries over the rollup, on both dialects, checked against the raw records. */
import { afterAll, describe, expect, it } from 'vitest';
import { RequestRepository } from '../store/repositories/requests.js';
import { csvField } from './analytics-export.js';
import { parseAnalyticsQuery } from './analytics-query.js';
import { DAY_MS, UsageAnalytics, histogramPercentile } from './analytics.js';
import { T0, dialectTargets, mixedRecords } from './__tests__/analytics-support.js';

const { targets, cleanup } = await dialectTargets('analytics');
afterAll(cleanup);

describe('percentiles from the histogram (approximate)', () => {
  it('interpolates within the bucket and caps the last one at its bound', () => {
    // 10 requests <= 50 ms, 10 in (50, 100]: the median is at the first bucket's top.
    expect(histogramPercentile([10, 10, 0, 0, 0, 0, 0, 0, 0], 0.5)).toBe(50);
    expect(histogramPercentile([10, 10, 0, 0, 0, 0, 0, 0, 0], 0.75)).toBe(75);
    expect(histogramPercentile([0, 0, 0, 0, 0, 0, 0, 0, 4], 0.95)).toBe(10_000);
    expect(histogramPercentile([0, 0, 0, 0, 0, 0, 0, 0, 0], 0.5)).toBeNull();
  });
});

describe('query parameters', () => {
  it('defaults to the last 7 days and refuses what it does not know, naming it', () => {
    const q = parseAnalyticsQuery({}, { extra: ['group_by'] }, 1_000 * DAY_MS);
    expect(q.filter).toEqual({ from: 993 * DAY_MS, to: 1_000 * DAY_MS });
    expect(parseAnalyticsQuery({ from: '2030-01-01', to: '2030-02-01', group_by: 'key,model' }, { extra: ['group_by'] }).groupBy).toEqual(['key', 'model']);
    const param = (query: Record<string, unknown>) => {
      try {
        parseAnalyticsQuery(query, { extra: ['group_by', 'bucket'], filters: ['model'], dimensions: ['model'] });
        return null;
      } catch (e) {
        return (e as { param?: string }).param;
      }
    };
    expect(param({ key_id: 'key_x' })).toBe('key_id');
    expect(param({ group_by: 'key' })).toBe('group_by');
    expect(param({ to: ['1', '2'] })).toBe('to');
  });

  it('defuses spreadsheet formulas and quotes CSV fields', () => {
    expect([csvField('=HYPERLINK("x")'), csvField('a,b'), csvField(null), csvField(-5)]).toEqual([`"'=HYPERLINK(""x"")"`, '"a,b"', '', '-5']);
  });
});

describe.each(targets)('analytics on $name', (target) => {
  it('summary, day series, top and paged export agree with the raw records', async () => {
    const store = await target.open();
    try {
      const records = mixedRecords(500);
      await new RequestRepository(store).insertMany(records);
      const a = new UsageAnalytics(store);
      const range = { from: T0 - DAY_MS, to: T0 + DAY_MS };

      const { totals, groups } = await a.summary(range, ['provider', 'status']);
      expect(totals.requests).toBe(500);
      expect(totals.costMicros).toBe(records.reduce((s, r) => s + (r.cost_micros ?? 0), 0));
      expect(totals.errors).toBe(records.filter((r) => r.status !== 499 && (r.status >= 400 || r.error_code)).length);
      expect(groups?.reduce((s, g) => s + g.requests, 0)).toBe(500);
      expect(groups?.find((g) => g.provider === 'groq' && g.status === '499')?.requests).toBe(records.filter((r) => r.provider === 'groq' && r.status === 499).length);

      const series = await a.timeseries(range, 'day');
      expect(series.map((p) => [p.t, p.requests])).toEqual([[Math.floor(T0 / DAY_MS) * DAY_MS, 500]]);

      const byKey = await a.summary({ ...range, key_id: 'key_1' });
      expect(byKey.totals.requests).toBe(records.filter((r) => r.key_id === 'key_1').length);
      const noUser = await a.summary(range, ['user']);
      expect(noUser.groups?.find((g) => g.user === null)?.requests).toBe(records.filter((r) => !r.user_id).length);

      const top = await a.top(range, 'tokens', 'model', 1);
      expect(top).toHaveLength(1);

      const seen: string[] = [];
      let pages = 0;
      for await (const page of a.exportPages(range, 7)) {
        pages++;
        seen.push(...page.map((r) => r.request_id));
      }
      expect(pages).toBe(Math.ceil(500 / 7));
      expect(new Set(seen).size).toBe(500);
      const sorted = [...records].sort((x, y) => x.ts - y.ts || Number(x.request_id.slice(2)) - Number(y.request_id.slice(2)));
      expect(seen).toEqual(sorted.map((r) => r.request_id));
    } finally {
      await store.close();
    }
  });
});
