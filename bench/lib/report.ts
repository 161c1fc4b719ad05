/**
 * Turns raw load results into the numbers the issue asks for: throughput, latency added over
 * the direct upstream, streaming time-to-first-token overhead, RSS, the ratios and the targets.
 */
import type { LoadResult } from '../load/protocol.js';
import type { ScenarioId } from './scenarios.js';
import { TARGET_LABELS, type TargetId } from './targets.js';

export interface TargetReport {
  id: TargetId;
  label: string;
  status: 'ok' | 'skipped';
  reason?: string;
  features: Record<string, string>;
  rssMb: number | null;
  scenarios: Partial<Record<ScenarioId, LoadResult>>;
}

export interface Row {
  id: TargetId;
  label: string;
  status: 'ok' | 'skipped';
  reason?: string;
  rpsC16: number | null;
  addedP50C1: number | null;
  addedP99C1: number | null;
  addedP50C16: number | null;
  addedP99C16: number | null;
  ttftOverheadP50: number | null;
  ttftOverheadP99: number | null;
  rssMb: number | null;
  /** Server CPU per request (user + system), µs, at c=16 JSON and in the stream scenario. */
  cpuUsC16: number | null;
  cpuUsStream: number | null;
  failed: number;
}

export interface Goal {
  target: string;
  gateway: TargetId;
  value: string;
  met: boolean | null;
}

const sub = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? null : a - b);

export function rows(targets: readonly TargetReport[]): Row[] {
  const direct = targets.find((t) => t.id === 'direct')?.scenarios ?? {};
  return targets.map((t) => {
    const s = t.scenarios;
    const failed = Object.values(s).reduce((n, r) => n + r.errors + Object.values(r.non2xx).reduce((a, b) => a + b, 0), 0);
    return {
      id: t.id,
      label: t.label,
      status: t.status,
      reason: t.reason,
      rpsC16: s['json-c16']?.rps ?? null,
      addedP50C1: sub(s['json-c1']?.latencyMs.p50, direct['json-c1']?.latencyMs.p50),
      addedP99C1: sub(s['json-c1']?.latencyMs.p99, direct['json-c1']?.latencyMs.p99),
      addedP50C16: sub(s['json-c16']?.latencyMs.p50, direct['json-c16']?.latencyMs.p50),
      addedP99C16: sub(s['json-c16']?.latencyMs.p99, direct['json-c16']?.latencyMs.p99),
      ttftOverheadP50: sub(s['stream-c16']?.ttfbMs.p50, direct['stream-c16']?.ttfbMs.p50),
      ttftOverheadP99: sub(s['stream-c16']?.ttfbMs.p99, direct['stream-c16']?.ttfbMs.p99),
      rssMb: t.rssMb,
      cpuUsC16: s['json-c16']?.cpuUsPerRequest ?? null,
      cpuUsStream: s['stream-c16']?.cpuUsPerRequest ?? null,
      failed,
    };
  });
}

export interface Ratios {
  [pair: string]: number | null;
}

export function ratios(rs: readonly Row[]): Ratios {
  const rps = (id: TargetId) => rs.find((r) => r.id === id && r.status === 'ok')?.rpsC16 ?? null;
  const div = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
  const out: Ratios = {};
  for (const kg of ['keygate-sqlite', 'keygate-pg'] as const) {
    out[`${kg}/floor`] = div(rps(kg), rps('floor'));
    out[`${kg}/portkey`] = div(rps(kg), rps('portkey'));
  }
  return out;
}

/** The issue's targets for keygate with the full pipeline, judged on this run only. */
export function goals(rs: readonly Row[], r: Ratios, soakFlat: boolean | null): Goal[] {
  const floor = rs.find((x) => x.id === 'floor' && x.status === 'ok');
  const out: Goal[] = [];
  const f = (v: number | null, unit = ' ms') => (v === null ? 'n/a' : `${v.toFixed(2)}${unit}`);
  // Auth + limits, measured as the difference from the same gateway with them off (issue: access control).
  const open = rs.find((x) => x.id === 'keygate-open' && x.status === 'ok');
  const overOpen = (id: TargetId, target: string, judge: (cpuUs: number) => boolean | null) => {
    const row = rs.find((x) => x.id === id && x.status === 'ok');
    if (!row || !open) return;
    const d = row.addedP50C1 !== null && open.addedP50C1 !== null ? row.addedP50C1 - open.addedP50C1 : null;
    const cpu = row.cpuUsC16 !== null && open.cpuUsC16 !== null ? row.cpuUsC16 - open.cpuUsC16 : null;
    out.push({ gateway: id, target, value: `CPU ${cpu === null ? 'n/a' : `${(cpu / 1000).toFixed(3)} ms`}/req; p50 c=1 ${f(d)}`, met: cpu === null ? null : judge(cpu) });
  };
  // Judged on CPU time per request (steady on a shared machine); the latency difference is shown too.
  overOpen('keygate-sqlite', 'auth + in-process limits add < 0.1 ms per request (vs auth off)', (cpu) => cpu < 100);
  // Reported, not judged: a Redis round trip per request is the price of limits shared by replicas.
  overOpen('keygate-redis', 'auth + Redis limits, added per request (vs auth off; reported)', () => null);
  for (const kg of rs.filter((x) => x.id.startsWith('keygate') && x.id !== 'keygate-open' && x.id !== 'keygate-redis' && x.status === 'ok')) {
    const tf = r[`${kg.id}/floor`];
    const tp = r[`${kg.id}/portkey`];
    const d50 = kg.addedP50C1 !== null && floor?.addedP50C1 != null ? kg.addedP50C1 - floor.addedP50C1 : null;
    const d99 = kg.addedP99C1 !== null && floor?.addedP99C1 != null ? kg.addedP99C1 - floor.addedP99C1 : null;
    out.push(
      { gateway: kg.id, target: 'throughput >= 50% of the floor', value: tf === null ? 'n/a' : `${(tf * 100).toFixed(0)}%`, met: tf === null ? null : tf >= 0.5 },
      { gateway: kg.id, target: "throughput >= 4x Portkey's", value: tp === null ? 'n/a' : `${tp.toFixed(2)}x`, met: tp === null ? null : tp >= 4 },
      { gateway: kg.id, target: 'added p50 at c=1 within 0.25 ms of the floor', value: f(d50), met: d50 === null ? null : d50 <= 0.25 },
      { gateway: kg.id, target: 'added p99 at c=1 within 1 ms of the floor', value: f(d99), met: d99 === null ? null : d99 <= 1 },
      { gateway: kg.id, target: 'stream TTFT overhead (p50) under 1 ms', value: f(kg.ttftOverheadP50), met: kg.ttftOverheadP50 === null ? null : kg.ttftOverheadP50 < 1 },
    );
  }
  out.push({ gateway: 'keygate-sqlite', target: 'RSS flat (within 10%) from 100k to 300k requests', value: soakFlat === null ? 'run --soak' : soakFlat ? 'flat' : 'grew', met: soakFlat });
  return out;
}

export { TARGET_LABELS };
