/**
 * Raw records as CSV or a JSON array, streamed page by page: the whole range is never in
 * memory, and a slow client slows the queries down instead of piling rows up.
 */
import { Readable } from 'node:stream';
import type { StoredRequestRecord } from '../store/repositories/requests.js';
import type { AnalyticsFilter, UsageAnalytics } from './analytics.js';

export const EXPORT_COLUMNS = [
  'id', 'request_id', 'ts', 'key_id', 'user_id', 'app_id', 'provider', 'model', 'endpoint', 'status', 'latency_ms',
  'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_micros', 'price_known', 'usage_estimated', 'stream', 'custody', 'error_code',
] as const satisfies ReadonlyArray<keyof StoredRequestRecord>;

export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  // A cell starting with = + - @ is a formula to a spreadsheet: defused with a quote mark.
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function pick(r: StoredRequestRecord): Record<string, unknown> {
  return Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, r[c] === null || r[c] === undefined ? null : typeof r[c] === 'string' ? r[c] : Number(r[c])]));
}

async function* lines(analytics: UsageAnalytics, filter: AnalyticsFilter, format: 'csv' | 'json', pageSize: number): AsyncGenerator<string> {
  if (format === 'csv') yield `${EXPORT_COLUMNS.join(',')}\r\n`;
  else yield '[';
  let first = true;
  for await (const page of analytics.exportPages(filter, pageSize)) {
    if (format === 'csv') {
      yield page.map((r) => `${EXPORT_COLUMNS.map((c) => csvField(r[c])).join(',')}\r\n`).join('');
    } else {
      let text = '';
      for (const r of page) {
        text += `${first ? '' : ','}\n${JSON.stringify(pick(r))}`;
        first = false;
      }
      yield text;
    }
  }
  if (format === 'json') yield '\n]\n';
}

export function exportStream(analytics: UsageAnalytics, filter: AnalyticsFilter, format: 'csv' | 'json', pageSize = 1000): Readable {
  return Readable.from(lines(analytics, filter, format, pageSize), { objectMode: false });
}
