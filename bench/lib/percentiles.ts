/** Exact percentiles over all samples (no histogram buckets: the targets are sub-millisecond). */
import type { Percentiles } from '../load/protocol.js';

export function percentiles(samples: Float64Array): Percentiles {
  if (samples.length === 0) return { mean: null, p50: null, p90: null, p99: null };
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of s) sum += v;
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { mean: sum / s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/** The middle value, ignoring nulls (rounds of one scenario are combined by their median). */
export function median(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && !Number.isNaN(x)).sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : null;
}
