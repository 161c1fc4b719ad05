/** Plain-text (and Markdown-compatible) tables for the terminal and docs/performance.md. */
import type { Goal, Ratios, Row, TargetReport } from './report.js';
import type { MicroRow } from './micro.js';

function table(head: readonly string[], body: readonly (readonly string[])[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  return [line(head), `|${w.map((n, i) => (i === 0 ? ':' : '') + '-'.repeat(n + 1) + (i === 0 ? '' : ':')).join('|')}|`, ...body.map(line)].join('\n');
}

const us = (v: number | null) => (v === null ? '-' : v.toFixed(0));
const ms = (v: number | null) => (v === null ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(2)}`);

export function mainTable(rs: readonly Row[]): string {
  const head = ['gateway', 'req/s c=16', 'added p50 c=1', 'added p99 c=1', 'added p50 c=16', 'added p99 c=16', 'TTFT overhead p50', 'TTFT overhead p99', 'CPU us/req c=16', 'CPU us/stream', 'RSS MB', 'failed'];
  const body = rs.map((r) =>
    r.status === 'skipped'
      ? [r.label, `skipped: ${r.reason ?? ''}`.slice(0, 110), '', '', '', '', '', '', '', '']
      : [r.label, r.rpsC16 === null ? '-' : r.rpsC16.toFixed(0), ms(r.addedP50C1), ms(r.addedP99C1), ms(r.addedP50C16), ms(r.addedP99C16), ms(r.ttftOverheadP50), ms(r.ttftOverheadP99), us(r.cpuUsC16), us(r.cpuUsStream), r.rssMb === null ? '-' : r.rssMb.toFixed(0), String(r.failed)],
  );
  return `${table(head, body)}\n(latencies in ms, added over the direct upstream in the same run; CPU: the server process's user+system time per request, from /proc)`;
}

export function directLine(direct: TargetReport | undefined): string {
  const s = direct?.scenarios;
  if (!s) return '';
  const f = (v: number | null | undefined) => (v == null ? '-' : v.toFixed(2));
  return `direct upstream: c=1 p50 ${f(s['json-c1']?.latencyMs.p50)} ms, p99 ${f(s['json-c1']?.latencyMs.p99)} ms; c=16 ${f(s['json-c16']?.rps)} req/s; stream TTFT p50 ${f(s['stream-c16']?.ttfbMs.p50)} ms`;
}

export function ratioLines(r: Ratios): string {
  return Object.entries(r)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `throughput ${k}: ${(v as number).toFixed(2)}x`)
    .join('\n');
}

export function goalTable(gs: readonly Goal[]): string {
  return table(
    ['target', 'gateway', 'this run', 'met'],
    gs.map((g) => [g.target, g.gateway, g.value, g.met === null ? 'n/a' : g.met ? 'yes' : 'NO']),
  );
}

export function featureLines(ts: readonly TargetReport[]): string {
  return ts
    .filter((t) => Object.keys(t.features).length)
    .map((t) => `${t.label}: ${Object.entries(t.features).map(([k, v]) => `${k}=${v}`).join(', ')}`)
    .join('\n');
}

export function microTable(rows: readonly MicroRow[]): string {
  if (!rows.length) return '(no bench/micro/*.ts)';
  return table(
    ['micro-benchmark', 'mean us', 'ops/s'],
    rows.map((r) => [`${r.file}: ${r.name}`, r.meanUs.toFixed(2), r.opsPerSec.toFixed(0)]),
  );
}

/** Scenarios in which a gateway answered nothing successfully, with what it answered instead. */
export function failureLines(ts: readonly TargetReport[]): string {
  const out: string[] = [];
  for (const t of ts) {
    for (const [sc, r] of Object.entries(t.scenarios)) {
      if (r.requests > 0) continue;
      const statuses = Object.entries(r.non2xx).map(([code, n]) => `${n} x HTTP ${code}`);
      out.push(`${t.label}, ${sc}: no successful response (${[...statuses, r.errors ? `${r.errors} connection errors` : ''].filter(Boolean).join(', ')}); see bench/results/logs/${t.id}.log`);
    }
  }
  return out.join('\n');
}
