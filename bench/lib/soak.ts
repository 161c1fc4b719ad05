/**
 * --soak: keygate's memory after 100k and after 300k requests; flat means within 10%.
 * Read twice each time: RSS as it stands (V8 keeps heap it has grown into, so this moves with
 * load, not only with leaks), and RSS and heap in use after a full GC in the process, which is
 * what a leak would grow. Flat is judged on RSS after GC when the process can tell it.
 */
import type { Loader } from './load-client.js';
import { soakSpec } from './scenarios.js';
import type { RunningTarget } from './targets.js';

export interface SoakResult {
  rssMbAt100k: number | null;
  rssMbAt300k: number | null;
  /** Growth of the RSS the judgement is made on (after GC when available). */
  growthPct: number | null;
  afterGc: { at100k: { rssMb: number; heapUsedMb: number }; at300k: { rssMb: number; heapUsedMb: number }; rssGrowthPct: number; heapGrowthPct: number } | null;
  flat: boolean | null;
  rps: number;
  failed: number;
}

const settle = () => new Promise((r) => setTimeout(r, 2000));

export async function soak(loader: Loader, t: RunningTarget, log: (s: string) => void): Promise<SoakResult> {
  const base = { origin: t.origin, path: t.path, headers: t.headers };
  log('soak: first 100k requests...');
  const a = await loader.run({ ...base, ...soakSpec(100_000) });
  await settle();
  const at100k = t.rssMb();
  const gc100k = (await t.memoryAfterGc?.()) ?? null;
  log(`soak: RSS at 100k = ${at100k?.toFixed(1)} MB${gc100k ? ` (after GC ${gc100k.rssMb.toFixed(1)} MB, heap ${gc100k.heapUsedMb.toFixed(1)} MB)` : ''}; 200k more...`);
  const b = await loader.run({ ...base, ...soakSpec(200_000) });
  await settle();
  const at300k = t.rssMb();
  const gc300k = (await t.memoryAfterGc?.()) ?? null;
  const pct = (a: number, b: number) => ((b - a) / a) * 100;
  const afterGc = gc100k && gc300k ? { at100k: gc100k, at300k: gc300k, rssGrowthPct: pct(gc100k.rssMb, gc300k.rssMb), heapGrowthPct: pct(gc100k.heapUsedMb, gc300k.heapUsedMb) } : null;
  const growthPct = afterGc ? afterGc.rssGrowthPct : at100k && at300k ? pct(at100k, at300k) : null;
  const failed = [a, b].reduce((n, r) => n + r.errors + Object.values(r.non2xx).reduce((x, y) => x + y, 0), 0);
  return { rssMbAt100k: at100k, rssMbAt300k: at300k, growthPct, afterGc, flat: growthPct === null ? null : Math.abs(growthPct) <= 10, rps: (a.requests + b.requests) / (a.seconds + b.seconds), failed };
}
