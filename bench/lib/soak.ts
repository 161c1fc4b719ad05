/** --soak: keygate's RSS after 100k and after 300k requests; flat means within 10%. */
import type { Loader } from './load-client.js';
import { soakSpec } from './scenarios.js';
import type { RunningTarget } from './targets.js';

export interface SoakResult {
  rssMbAt100k: number | null;
  rssMbAt300k: number | null;
  growthPct: number | null;
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
  log(`soak: RSS at 100k = ${at100k?.toFixed(1)} MB; 200k more...`);
  const b = await loader.run({ ...base, ...soakSpec(200_000) });
  await settle();
  const at300k = t.rssMb();
  const growthPct = at100k && at300k ? ((at300k - at100k) / at100k) * 100 : null;
  const failed = [a, b].reduce((n, r) => n + r.errors + Object.values(r.non2xx).reduce((x, y) => x + y, 0), 0);
  return { rssMbAt100k: at100k, rssMbAt300k: at300k, growthPct, flat: growthPct === null ? null : Math.abs(growthPct) <= 10, rps: (a.requests + b.requests) / (a.seconds + b.seconds), failed };
}
