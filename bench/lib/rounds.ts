/**
 * A shared, busy machine drifts over minutes. Each scenario is therefore run in rounds that
 * go round-robin over all gateways, and the rounds are combined by their median: a burst of
 * someone else's work hits every gateway alike instead of whichever happened to be running.
 */
import type { LoadResult, Percentiles } from '../load/protocol.js';
import { median } from './percentiles.js';

function medianPercentiles(ps: readonly Percentiles[]): Percentiles {
  return { mean: median(ps.map((p) => p.mean)), p50: median(ps.map((p) => p.p50)), p90: median(ps.map((p) => p.p90)), p99: median(ps.map((p) => p.p99)) };
}

export function combineRounds(rounds: readonly LoadResult[]): LoadResult {
  const non2xx: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.non2xx)) non2xx[k] = (non2xx[k] ?? 0) + v;
  return {
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    completed: rounds.reduce((n, r) => n + r.completed, 0),
    cpuUsPerRequest: median(rounds.map((r) => r.cpuUsPerRequest ?? null)),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    non2xx,
    seconds: rounds.reduce((n, r) => n + r.seconds, 0),
    rps: median(rounds.map((r) => r.rps)) ?? 0,
    latencyMs: medianPercentiles(rounds.map((r) => r.latencyMs)),
    ttfbMs: medianPercentiles(rounds.map((r) => r.ttfbMs)),
    chunksPerResponse: median(rounds.map((r) => r.chunksPerResponse)) ?? 0,
  };
}
