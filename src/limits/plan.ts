/**
 * Turns subjects and their limits into a flat list of checks that both stores execute the
 * same way, so the memory and Redis stores cannot drift apart in semantics.
 */
import type { LimitName, Limits } from './schema.js';
import type { LimitUnit, SubjectLimits } from './types.js';
import type { WindowClock, WindowKind } from './windows.js';

/** Bucket: leaky bucket over one minute. Parallel: leased slots. Quota: calendar counter. */
export type CheckKind = 'b' | 'p' | 'q';
export type QuotaField = 'req' | 'tok' | 'usd';

export interface Check {
  kind: CheckKind;
  subject: string;
  limit: LimitName;
  unit: LimitUnit;
  key: string;
  /** Quota hash field; empty for other kinds. */
  field: QuotaField | '';
  limitValue: number;
  amount: number;
  /** Bucket drain rate, units per ms. */
  ratePerMs: number;
  /** Quota window end (epoch ms) and id. */
  windowEndMs: number;
  windowId: string;
}

export const MICROS_PER_USD = 1_000_000;
const MINUTE_MS = 60_000;

export const usdToMicros = (usd: number): number => Math.round(usd * MICROS_PER_USD);

export interface PlanInput {
  subjects: readonly SubjectLimits[];
  tokens: number;
  costMicros: number;
  nowMs: number;
}

/** Key strings of one subject, built once: fresh strings would be re-hashed on every Map lookup. */
interface SubjectKeys {
  rpm: string;
  tpm: string;
  par: string;
  dayId: string;
  day: string;
  monthId: string;
  month: string;
}

const KEY_CACHE_MAX = 10_000;

export class Planner {
  private readonly keys = new Map<string, SubjectKeys>();

  constructor(
    private readonly prefix: string,
    private readonly clock: WindowClock,
  ) {}

  private keysOf(subject: string, nowMs: number): SubjectKeys {
    const dayId = this.clock.dayWindow(nowMs).id;
    const monthId = this.clock.monthWindow(nowMs).id;
    let k = this.keys.get(subject);
    if (k === undefined) {
      if (this.keys.size >= KEY_CACHE_MAX) this.keys.clear();
      const p = this.prefix;
      k = { rpm: `${p}rate:${subject}:rpm`, tpm: `${p}rate:${subject}:tpm`, par: `${p}par:${subject}`, dayId: '', day: '', monthId: '', month: '' };
      this.keys.set(subject, k);
    }
    if (k.dayId !== dayId) {
      k.dayId = dayId;
      k.day = `${this.prefix}quota:${subject}:day:${dayId}`;
    }
    if (k.monthId !== monthId) {
      k.monthId = monthId;
      k.month = `${this.prefix}quota:${subject}:month:${monthId}`;
    }
    return k;
  }

  plan(input: PlanInput): Check[] {
    const checks: Check[] = [];
    const seen = input.subjects.length > 1 ? new Set<string>() : undefined;
    for (const s of input.subjects) {
      // A subject listed twice would be counted twice.
      if (seen !== undefined) {
        if (seen.has(s.subject)) continue;
        seen.add(s.subject);
      }
      this.planSubject(checks, s.subject, s.limits, input);
    }
    return checks;
  }

  private planSubject(out: Check[], subject: string, l: Limits, input: PlanInput): void {
    const k = this.keysOf(subject, input.nowMs);
    if (l.rpm !== undefined) out.push(bucket(k.rpm, subject, 'rpm', 'requests', l.rpm, 1));
    if (l.tpm !== undefined) out.push(bucket(k.tpm, subject, 'tpm', 'tokens', l.tpm, input.tokens));
    if (l.maxParallel !== undefined) {
      out.push(make('p', k.par, '', subject, 'maxParallel', 'parallel', l.maxParallel, 1, 0, 0, ''));
    }
    const hasDay = l.dailyRequests !== undefined || l.dailyTokens !== undefined || l.dailyBudgetUsd !== undefined;
    if (hasDay) {
      const key = k.day;
      if (l.dailyRequests !== undefined) out.push(this.quota(key, 'req', subject, 'dailyRequests', 'requests', l.dailyRequests, 1, 'day', input.nowMs));
      if (l.dailyTokens !== undefined) out.push(this.quota(key, 'tok', subject, 'dailyTokens', 'tokens', l.dailyTokens, input.tokens, 'day', input.nowMs));
      if (l.dailyBudgetUsd !== undefined) {
        out.push(this.quota(key, 'usd', subject, 'dailyBudgetUsd', 'micros', usdToMicros(l.dailyBudgetUsd), input.costMicros, 'day', input.nowMs));
      }
    }
    const hasMonth = l.monthlyRequests !== undefined || l.monthlyTokens !== undefined || l.monthlyBudgetUsd !== undefined;
    if (hasMonth) {
      const key = k.month;
      if (l.monthlyRequests !== undefined) out.push(this.quota(key, 'req', subject, 'monthlyRequests', 'requests', l.monthlyRequests, 1, 'month', input.nowMs));
      if (l.monthlyTokens !== undefined) out.push(this.quota(key, 'tok', subject, 'monthlyTokens', 'tokens', l.monthlyTokens, input.tokens, 'month', input.nowMs));
      if (l.monthlyBudgetUsd !== undefined) {
        out.push(this.quota(key, 'usd', subject, 'monthlyBudgetUsd', 'micros', usdToMicros(l.monthlyBudgetUsd), input.costMicros, 'month', input.nowMs));
      }
    }
  }

  private quota(
    key: string,
    field: QuotaField,
    subject: string,
    limit: LimitName,
    unit: LimitUnit,
    limitValue: number,
    amount: number,
    kind: WindowKind,
    nowMs: number,
  ): Check {
    const w = this.clock.window(kind, nowMs);
    return make('q', key, field, subject, limit, unit, limitValue, amount, 0, w.endMs, w.id);
  }
}

function bucket(key: string, subject: string, limit: LimitName, unit: LimitUnit, perMinute: number, amount: number): Check {
  return make('b', key, '', subject, limit, unit, perMinute, amount, perMinute / MINUTE_MS, 0, '');
}

// One constructor keeps every Check the same shape (monomorphic property access on the hot path).
function make(
  kind: CheckKind,
  key: string,
  field: QuotaField | '',
  subject: string,
  limit: LimitName,
  unit: LimitUnit,
  limitValue: number,
  amount: number,
  ratePerMs: number,
  windowEndMs: number,
  windowId: string,
): Check {
  return { kind, subject, limit, unit, key, field, limitValue, amount, ratePerMs, windowEndMs, windowId };
}

/** The admission rule shared by both stores (and mirrored in the Lua script). */
export function admits(used: number, amount: number, limitValue: number): boolean {
  // `used < limit` too, so a zero-token estimate cannot slip past an exhausted counter.
  return used < limitValue && used + amount <= limitValue;
}
