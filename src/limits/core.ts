/**
 * The store-independent half of a LimitStore: planning, refusals, states, threshold events
 * and the Reservation object. A Backend only executes checks atomically.
 */
import { randomUUID } from 'node:crypto';
import { admits, Planner, type Check } from './plan.js';
import type {
  LimitState,
  LimitStore,
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
import type { WindowClock } from './windows.js';

export interface ReserveOutcome {
  ok: boolean;
  /** Per check: usage after the reservation if ok, before it otherwise. */
  used: number[];
}

/** Executes checks atomically: all admitted and applied, or nothing applied. */
export interface Backend {
  reserve(checks: Check[], nowMs: number, id: string): Promise<ReserveOutcome>;
  /** Adds deltas (parallel checks: frees the slot of `id`); returns usage after, per check. */
  adjust(checks: Check[], deltas: number[], nowMs: number, id: string): Promise<number[]>;
  read(checks: Check[], nowMs: number): Promise<number[]>;
  close(): Promise<void>;
}

export interface CoreOptions {
  kind: 'memory' | 'redis';
  clock: WindowClock;
  keyPrefix: string;
  thresholds: readonly number[];
  /** Makes reservation ids; the memory store uses a cheap counter, Redis needs global uniqueness. */
  newId?: () => string;
  shared?: SharedRedis;
}

export class CoreLimitStore implements LimitStore {
  readonly kind: 'memory' | 'redis';
  readonly timeZone: string;
  readonly shared?: SharedRedis;
  private readonly planner: Planner;
  private readonly thresholds: readonly number[];
  private readonly newId: () => string;

  constructor(
    private readonly backend: Backend,
    opts: CoreOptions,
  ) {
    this.kind = opts.kind;
    this.timeZone = opts.clock.timeZone;
    this.shared = opts.shared;
    this.planner = new Planner(opts.keyPrefix, opts.clock);
    this.thresholds = [...opts.thresholds].sort((a, b) => a - b);
    this.newId = opts.newId ?? randomUUID;
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const nowMs = req.now ?? Date.now();
    const tokens = wholeAmount(req.estimatedTokens, 'estimatedTokens');
    const costMicros = wholeAmount(req.estimatedCostMicros, 'estimatedCostMicros');
    const checks = this.planner.plan({ subjects: req.subjects, tokens, costMicros, nowMs });
    const id = this.newId();
    if (checks.length === 0) return new LiveReservation(this, checks, [], nowMs, id, NO_EVENTS);
    const out = await this.backend.reserve(checks, nowMs, id);
    if (!out.ok) return refusal(checks, out.used, nowMs);
    const events = this.crossings(checks, out.used, amountsOf(checks));
    return new LiveReservation(this, checks, out.used, nowMs, id, events);
  }

  async usage(subject: SubjectLimits, now?: number): Promise<LimitState[]> {
    const nowMs = now ?? Date.now();
    const checks = this.planner.plan({ subjects: [subject], tokens: 0, costMicros: 0, nowMs });
    if (checks.length === 0) return [];
    return states(checks, await this.backend.read(checks, nowMs), nowMs);
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  /** @internal Applies deltas for a reservation; returns threshold crossings. */
  async adjust(checks: Check[], deltas: number[], nowMs: number, id: string): Promise<QuotaEvent[]> {
    // Only send what changes (and parallel slots, which must be freed).
    const cs: Check[] = [];
    const ds: number[] = [];
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      if (c.kind === 'p' || deltas[i] !== 0) {
        cs.push(c);
        ds.push(deltas[i]);
      }
    }
    if (cs.length === 0) return NO_EVENTS;
    const after = await this.backend.adjust(cs, ds, nowMs, id);
    return this.crossings(cs, after, ds);
  }

  private crossings(checks: Check[], after: number[], deltas: number[]): QuotaEvent[] {
    let events: QuotaEvent[] | undefined;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      const d = deltas[i];
      if (c.kind !== 'q' || d <= 0) continue;
      const used = after[i];
      const before = used - d;
      for (const t of this.thresholds) {
        const mark = t * c.limitValue;
        if (before < mark && used >= mark) {
          (events ??= []).push({
            type: t >= 1 ? 'quota.exceeded' : 'quota.threshold',
            subject: c.subject,
            limit: c.limit,
            unit: c.unit,
            threshold: t,
            used,
            limitValue: c.limitValue,
            windowId: c.windowId,
          });
        }
      }
    }
    return events ?? NO_EVENTS;
  }
}

const NO_EVENTS: QuotaEvent[] = [];

type Phase = 'open' | 'settled' | 'released';

class LiveReservation implements Reservation {
  readonly ok = true as const;
  private phase: Phase = 'open';
  private cachedStates: LimitState[] | undefined;

  constructor(
    private readonly store: CoreLimitStore,
    private readonly checks: Check[],
    private readonly usedAfter: number[],
    private readonly reservedAt: number,
    readonly id: string,
    readonly quotaEvents: readonly QuotaEvent[],
  ) {}

  // Built on first read: most callers on the hot path read them only for headers.
  get states(): readonly LimitState[] {
    return (this.cachedStates ??= states(this.checks, this.usedAfter, this.reservedAt));
  }

  async settle(usage: Usage): Promise<SettleResult> {
    if (this.phase !== 'open') return { quotaEvents: [] };
    this.phase = 'settled';
    const tokens = wholeAmount(usage.tokens, 'tokens');
    const cost = wholeAmount(usage.costMicros, 'costMicros');
    const cs = this.checks;
    const deltas = new Array<number>(cs.length);
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      if (c.kind === 'p') deltas[i] = -1;
      else if (c.unit === 'tokens') deltas[i] = tokens - c.amount;
      else if (c.unit === 'micros') deltas[i] = cost - c.amount;
      else deltas[i] = 0;
    }
    const events = await this.store.adjust(cs, deltas, usage.now ?? Date.now(), this.id);
    return { quotaEvents: events === NO_EVENTS ? [] : events };
  }

  async release(): Promise<void> {
    if (this.phase !== 'open') return;
    this.phase = 'released';
    const cs = this.checks;
    const deltas = cs.map((c) => (c.kind === 'p' ? -1 : -c.amount));
    await this.store.adjust(cs, deltas, Date.now(), this.id);
  }
}

function amountsOf(checks: Check[]): number[] {
  return checks.map((c) => c.amount);
}

function wholeAmount(v: number, name: string): number {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  return Math.ceil(v);
}

function resetSeconds(c: Check, used: number, nowMs: number): number {
  if (c.kind === 'b') return used / c.ratePerMs / 1000;
  if (c.kind === 'q') return Math.max(0, (c.windowEndMs - nowMs) / 1000);
  return 0;
}

export function states(checks: Check[], used: number[], nowMs: number): LimitState[] {
  const out: LimitState[] = new Array<LimitState>(checks.length);
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i];
    const u = used[i];
    const s: LimitState = {
      subject: c.subject,
      limit: c.limit,
      unit: c.unit,
      limitValue: c.limitValue,
      used: c.kind === 'b' ? roundUsed(u) : u,
      remaining: Math.max(0, Math.floor(c.limitValue - u)),
      resetSeconds: resetSeconds(c, u, nowMs),
    };
    if (c.kind === 'q') s.windowId = c.windowId;
    out[i] = s;
  }
  return out;
}

// Bucket levels drain continuously; show them to a thousandth.
const roundUsed = (u: number): number => Math.round(u * 1000) / 1000;

function violation(c: Check, used: number, nowMs: number): Violation {
  const tooLarge = c.amount > c.limitValue;
  let retryAfterSeconds: number;
  if (c.kind === 'b') {
    // Wait until enough has drained for this request; a too-large one gets a full drain as a hint.
    const excess = tooLarge ? c.limitValue : Math.max(used + c.amount - c.limitValue, used - c.limitValue, 0);
    retryAfterSeconds = Math.max(0.001, excess / c.ratePerMs / 1000);
  } else if (c.kind === 'q') {
    retryAfterSeconds = Math.max(0.001, (c.windowEndMs - nowMs) / 1000);
  } else {
    // A slot frees when some request ends; nobody knows when.
    retryAfterSeconds = 1;
  }
  const v: Violation = {
    subject: c.subject,
    limit: c.limit,
    unit: c.unit,
    limitValue: c.limitValue,
    used: c.kind === 'b' ? roundUsed(used) : used,
    requested: c.amount,
    retryAfterSeconds,
    tooLarge,
  };
  if (c.kind === 'q') v.windowId = c.windowId;
  return v;
}

function refusal(checks: Check[], used: number[], nowMs: number): Refusal {
  const violations: Violation[] = [];
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i];
    if (!admits(used[i], c.amount, c.limitValue)) violations.push(violation(c, used[i], nowMs));
  }
  // The request passes only when every limit admits it, so the longest wait is the answer.
  violations.sort((a, b) => b.retryAfterSeconds - a.retryAfterSeconds);
  const primary = violations[0];
  if (primary === undefined) throw new Error('limits: store refused but no limit is exceeded');
  return { ok: false, ...primary, violations, states: states(checks, used, nowMs) };
}
