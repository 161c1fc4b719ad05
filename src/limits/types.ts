/** Public types of the limits module. */
import type { Redis } from 'ioredis';
import type { LimitName, Limits } from './schema.js';

/** One party a request is counted against (a key, a user, an app...) with its own limits. */
export interface SubjectLimits {
  /** Stable id, namespaced by kind so kinds never collide: `key:123`, `user:alice`, `app:web`. */
  subject: string;
  limits: Limits;
}

export interface ReserveRequest {
  /** All are checked at once; if any refuses, nothing is reserved on any (the tightest applies). */
  subjects: readonly SubjectLimits[];
  /** Reserved against tpm and token quotas: the request's max tokens, or an estimate. */
  estimatedTokens: number;
  /** Reserved against spend quotas, in micro-dollars (1 USD = 1,000,000). */
  estimatedCostMicros: number;
  /** Epoch ms; defaults to Date.now(). For tests and replays. */
  now?: number;
}

/** `requests` and `tokens` feed the OpenAI headers; spend is counted in micro-dollars. */
export type LimitUnit = 'requests' | 'tokens' | 'micros' | 'parallel';

/** The state of one limit of one subject, after a reservation (or before a refusal). */
export interface LimitState {
  subject: string;
  limit: LimitName;
  unit: LimitUnit;
  /** The limit in its unit (budgets in micro-dollars). */
  limitValue: number;
  used: number;
  remaining: number;
  /** Seconds until the counter is back to zero (rate limits) or the window ends (quotas). */
  resetSeconds: number;
  /** Quota windows only: `2026-11-22` or `2026-11`. */
  windowId?: string;
}

export interface Violation {
  subject: string;
  limit: LimitName;
  unit: LimitUnit;
  limitValue: number;
  /** Usage before this request. */
  used: number;
  /** What this request asked for (1 request, its estimated tokens or cost). */
  requested: number;
  /** When this limit will admit the request (for `Retry-After`). */
  retryAfterSeconds: number;
  /** The request alone is bigger than the limit: retrying will not help until the limit changes. */
  tooLarge: boolean;
  windowId?: string;
}

/** A quota crossing a configured fraction (e.g. 0.8, 1): fire `quota.threshold` / `quota.exceeded`. */
export interface QuotaEvent {
  type: 'quota.threshold' | 'quota.exceeded';
  subject: string;
  limit: LimitName;
  unit: LimitUnit;
  /** The fraction crossed, e.g. 0.8. */
  threshold: number;
  used: number;
  limitValue: number;
  windowId: string;
}

export interface Usage {
  /** Real tokens (prompt + completion). */
  tokens: number;
  /** Real cost in micro-dollars. */
  costMicros: number;
  now?: number;
}

export interface SettleResult {
  /** Crossings caused by real usage exceeding the estimate. */
  quotaEvents: QuotaEvent[];
}

export interface Reservation {
  readonly ok: true;
  readonly id: string;
  /** States after this reservation, for the rate-limit headers. */
  readonly states: readonly LimitState[];
  /** Crossings caused by this reservation (at most once per crossing across all replicas). */
  readonly quotaEvents: readonly QuotaEvent[];
  /** Replace the estimate with real usage and free the parallel slot. Later calls are no-ops. */
  settle(usage: Usage): Promise<SettleResult>;
  /** Refund everything (the request failed and costs nothing) and free the slot. Later calls are no-ops. */
  release(): Promise<void>;
}

export interface Refusal extends Violation {
  readonly ok: false;
  /** Every limit that refused, the primary one (longest wait) first. */
  violations: Violation[];
  /** States of all checked limits (nothing was reserved), for the headers of the 429. */
  states: LimitState[];
}

export type ReserveResult = Reservation | Refusal;

export interface LimitStore {
  readonly kind: 'memory' | 'redis';
  readonly timeZone: string;
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Current usage of one subject's limits, without reserving (usage endpoints, admin). */
  usage(subject: SubjectLimits, now?: number): Promise<LimitState[]>;
  /** Redis stores only: where other counters that must be shared the same way live (the admin lockout). */
  readonly shared?: SharedRedis;
  close(): Promise<void>;
}

/** The store's Redis client (it lives as long as the store) and its key prefix. */
export interface SharedRedis {
  readonly redis: Redis;
  readonly keyPrefix: string;
}

/** The counter store could not be reached (Redis down); the caller decides to fail open or closed. */
export class LimitStoreError extends Error {
  override readonly name = 'LimitStoreError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
