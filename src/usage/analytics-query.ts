/**
 * Query-string parameters of the analytics endpoints, checked once here for the admin and
 * the public routes alike: an unknown or malformed parameter is a 400 that names it.
 */
import { z } from 'zod';
import { errors } from '../core/errors.js';
import { DAY_MS, DIMENSIONS, type AnalyticsFilter, type Dimension } from './analytics.js';
import { HOUR_MS } from './rollup.js';

const FILTERS = ['key_id', 'user_id', 'app_id', 'provider', 'model'] as const;
const DEFAULT_RANGE_MS = 7 * DAY_MS;
/** A time series longer than this many points is refused (ask for day buckets instead). */
const MAX_POINTS = 10_000;

export interface ParsedQuery {
  filter: AnalyticsFilter;
  groupBy: Dimension[];
  bucket?: 'hour' | 'day';
  by?: 'cost' | 'tokens' | 'requests';
  limit?: number;
  format?: 'csv' | 'json';
}

export interface QuerySpec {
  /** Parameters this endpoint accepts beyond from, to and the filters. */
  extra: ReadonlyArray<'group_by' | 'bucket' | 'by' | 'limit' | 'format'>;
  /** Filters and group_by dimensions the caller may use (the public route allows fewer). */
  filters?: readonly (typeof FILTERS)[number][];
  dimensions?: readonly Dimension[];
}

const bad = (param: string, message: string) => errors.invalidBody(`Invalid request: '${param}' ${message}.`, param);

function time(param: string, v: string): number {
  const ms = /^\d{1,15}$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw bad(param, 'must be epoch milliseconds or an ISO date such as 2030-01-31T00:00:00Z');
  return ms;
}

function oneOf<T extends string>(param: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw bad(param, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function parseAnalyticsQuery(raw: unknown, spec: QuerySpec, now = Date.now()): ParsedQuery {
  const q = (raw ?? {}) as Record<string, unknown>;
  const filters = spec.filters ?? FILTERS;
  const dims = spec.dimensions ?? (Object.keys(DIMENSIONS) as Dimension[]);
  const allowed = new Set<string>(['from', 'to', ...filters, ...spec.extra]);
  const str: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (!allowed.has(k)) throw bad(k.slice(0, 40), 'is not a parameter of this endpoint');
    if (typeof v !== 'string') throw bad(k, 'must be given once');
    if (v.length > 200) throw bad(k, 'must be at most 200 characters');
    str[k] = v;
  }
  const to = str.to !== undefined ? time('to', str.to) : now;
  const from = str.from !== undefined ? time('from', str.from) : to - DEFAULT_RANGE_MS;
  if (from >= to) throw bad('from', "must be before 'to'");
  const filter: AnalyticsFilter = { from, to };
  for (const f of filters) if (str[f] !== undefined) filter[f] = str[f];

  const out: ParsedQuery = { filter, groupBy: [] };
  if (str.group_by !== undefined && str.group_by !== '') {
    const list = str.group_by.split(',').map((s) => s.trim());
    out.groupBy = [...new Set(list.map((d) => oneOf('group_by', d, dims)))];
  }
  if (spec.extra.includes('bucket')) {
    out.bucket = str.bucket === undefined ? 'day' : oneOf('bucket', str.bucket, ['hour', 'day'] as const);
    if ((to - from) / (out.bucket === 'hour' ? HOUR_MS : DAY_MS) > MAX_POINTS) throw bad('bucket', `gives more than ${MAX_POINTS} points for this range; use a larger bucket or a shorter range`);
  }
  if (spec.extra.includes('by')) out.by = str.by === undefined ? 'cost' : oneOf('by', str.by, ['cost', 'tokens', 'requests'] as const);
  if (spec.extra.includes('limit')) {
    out.limit = str.limit === undefined ? 10 : Number(str.limit);
    if (!/^\d{1,4}$/.test(str.limit ?? '10') || out.limit < 1 || out.limit > 1000) throw bad('limit', 'must be a whole number from 1 to 1000');
  }
  if (spec.extra.includes('format')) out.format = str.format === undefined ? 'json' : oneOf('format', str.format, ['csv', 'json'] as const);
  return out;
}

/**
 * The same parameters as a zod object, for the OpenAPI document only (parseAnalyticsQuery
 * above stays the check, with its own messages).
 */
export function analyticsQueryDoc(spec: QuerySpec): z.ZodObject {
  const time = z.string().describe('epoch milliseconds or an ISO date');
  const dims = (spec.dimensions ?? (Object.keys(DIMENSIONS) as Dimension[])).join(',');
  const shape: Record<string, z.ZodType> = { from: time.optional().describe('default: 7 days before to'), to: time.optional().describe('default: now') };
  for (const f of spec.filters ?? FILTERS) shape[f] = z.string().max(200).optional();
  const extra: Record<QuerySpec['extra'][number], z.ZodType> = {
    group_by: z.string().optional().describe(`comma-separated dimensions: ${dims}`),
    bucket: z.enum(['hour', 'day']).optional(),
    by: z.enum(['cost', 'tokens', 'requests']).optional(),
    limit: z.string().regex(/^\d{1,4}$/).optional().describe('1 to 1000, default 10'),
    format: z.enum(['csv', 'json']).optional(),
  };
  for (const e of spec.extra) shape[e] = extra[e];
  return z.object(shape).strict();
}
