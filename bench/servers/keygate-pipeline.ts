/**
 * Which parts of keygate's pipeline the bench turns on through the config file. Limits and the
 * guard are wired later by others: this probes the config schema, so they are switched on and
 * measured automatically as soon as the config accepts them, and reported as absent until then.
 * If their final config shape differs from the candidates below, add it here.
 */
import { configSchema, type ConfigInput } from '../../src/config/schema.js';

/** Limits far above the bench's load, so they are checked on every call but never refuse. */
const huge = { rpm: 1_000_000_000, tpm: 1_000_000_000_000, maxParallel: 1_000_000, dailyRequests: 1_000_000_000, monthlyRequests: 1_000_000_000 };

export interface Pipeline {
  config: Record<string, unknown>;
  features: Record<string, string>;
}

function firstAccepted(base: Record<string, unknown>, section: string, candidates: readonly unknown[]): unknown {
  for (const c of candidates) {
    if (configSchema.safeParse({ ...base, [section]: c } as ConfigInput).success) return c;
  }
  return undefined;
}

export function benchPipeline(opts: { redisUrl?: string }): Pipeline {
  if (!opts.redisUrl) opts = {};
  const shape = configSchema.shape as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  const features: Record<string, string> = { auth: 'keygate key', usage: 'batched' };

  if ('limits' in shape) {
    const store = opts.redisUrl ? { redisUrl: opts.redisUrl } : {};
    // REDIS_URL (passed in the env by the runner) selects the Redis store where supported.
    const limits = firstAccepted(config, 'limits', [
      { defaultKeyLimits: huge },
      { enabled: true, ...store, defaults: huge },
      { ...store, defaults: huge },
      { ...store, default: huge },
      { ...store, ...huge },
      { enabled: true, ...store },
    ]);
    if (limits !== undefined) config.limits = limits;
    features.limits = limits === undefined ? 'config rejected bench limits' : `on (defaultKeyLimits far above the load; ${opts.redisUrl ? 'Redis store' : 'in-process store'})`;
  } else features.limits = 'not wired (no limits section in config)';

  if ('guard' in shape) {
    const guard = firstAccepted(config, 'guard', [{ enabled: true }, { mode: 'block' }, {}]);
    if (guard !== undefined) config.guard = guard;
    features.guard = guard === undefined ? 'config rejected bench guard' : 'on';
  } else features.guard = 'not wired (no guard section in config)';

  return { config, features };
}
