/**
 * Rate limits and quotas behind one interface, with an in-process store (default) and a
 * Redis store shared by several gateway processes. See docs/limits.md.
 */
import type { Redis } from 'ioredis';
import { CoreLimitStore } from './core.js';
import { MemoryBackend } from './memory-store.js';
import { RedisBackend } from './redis-store.js';
import type { LimitStore } from './types.js';
import { WindowClock } from './windows.js';

export { limitsSchema, limitsSettingsSchema, timeZoneSchema, LIMIT_NAMES } from './schema.js';
export type { Limits, LimitName, LimitsSettings } from './schema.js';
export type {
  LimitState,
  LimitStore,
  LimitUnit,
  QuotaEvent,
  Refusal,
  Reservation,
  ReserveRequest,
  ReserveResult,
  SettleResult,
  SharedRedis,
  SubjectLimits,
  Usage,
  Violation,
} from './types.js';
export { LimitStoreError } from './types.js';
export { buildRateLimitHeaders, formatDuration } from './headers.js';
export type { RateLimitHeaders } from './headers.js';
export { WindowClock, assertTimeZone, isValidTimeZone } from './windows.js';
export type { CalendarWindow, WindowKind } from './windows.js';
export { MICROS_PER_USD, usdToMicros } from './plan.js';

export interface LimitStoreOptions {
  /** Redis URL (`redis://` or `rediss://`): counters shared across processes. Absent: in-process. */
  redisUrl?: string;
  /** Use this ioredis client instead of connecting (close() leaves it open). Wins over redisUrl. */
  redis?: Redis;
  /** IANA zone of the daily and monthly windows, e.g. `UTC`, `Europe/Paris`. */
  timeZone: string;
  /** Prefix of every Redis key (and memory key). Default `keygate:`. */
  keyPrefix?: string;
  /** Quota fractions reported as events. Default [0.8, 1]. */
  thresholds?: readonly number[];
  /** A parallel slot not released within this is reclaimed (crashed process). Default 15 min. */
  leaseSeconds?: number;
  /** Redis command timeout. Default 2000 ms. */
  commandTimeoutMs?: number;
}

const DEFAULT_PREFIX = 'keygate:';
// Quota counters outlive their window by a day so late settles (long streams) still land.
const GRACE_MS = 24 * 3_600_000;

export function createLimitStore(opts: LimitStoreOptions): LimitStore {
  const clock = new WindowClock(opts.timeZone);
  const keyPrefix = opts.keyPrefix ?? DEFAULT_PREFIX;
  const thresholds = opts.thresholds ?? [0.8, 1];
  for (const t of thresholds) {
    if (!(t > 0 && t <= 1)) throw new RangeError(`limits: threshold ${t} must be in (0, 1]`);
  }
  const leaseSeconds = opts.leaseSeconds ?? 15 * 60;
  if (!(leaseSeconds > 0)) throw new RangeError('limits: leaseSeconds must be > 0');
  const leaseMs = Math.round(leaseSeconds * 1000);
  const redis = opts.redis ?? opts.redisUrl;
  if (redis !== undefined) {
    if (typeof redis === 'string' && !/^rediss?:\/\//.test(redis)) {
      throw new RangeError('limits: redisUrl must start with redis:// or rediss://');
    }
    const backend = new RedisBackend({ redis, leaseMs, graceMs: GRACE_MS, commandTimeoutMs: opts.commandTimeoutMs ?? 2000 });
    return new CoreLimitStore(backend, { kind: 'redis', clock, keyPrefix, thresholds, shared: { redis: backend.redis, keyPrefix } });
  }
  let n = 0;
  const backend = new MemoryBackend({ leaseMs, graceMs: GRACE_MS });
  // Ids only need to be unique inside this process.
  return new CoreLimitStore(backend, { kind: 'memory', clock, keyPrefix, thresholds, newId: () => `r${++n}` });
}
