/**
 * Calendar windows for quotas, derived from the clock alone (no cron): the window id is a
 * pure function of the instant and the IANA time zone, so every replica agrees on it and
 * a new day or month simply starts using a new counter key.
 */

export type WindowKind = 'day' | 'month';

export interface CalendarWindow {
  kind: WindowKind;
  /** `2026-11-22` for a day, `2026-11` for a month (local calendar of the time zone). */
  id: string;
  /** Inclusive start, epoch ms (local midnight of the first day, DST-correct). */
  startMs: number;
  /** Exclusive end, epoch ms (start of the next window). */
  endMs: number;
}

/** Throws a RangeError with a readable message if `timeZone` is not a known IANA zone. */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new RangeError(`unknown time zone "${timeZone}" (use an IANA name such as "UTC" or "Europe/Paris")`);
  }
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    assertTimeZone(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface LocalDate {
  y: number;
  m: number; // 1-12
  d: number;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * Computes and caches the current day and month windows of one time zone. Formatting a
 * date in a zone costs microseconds, so the hot path only compares `now` with the cached
 * bounds and recomputes once per window.
 */
export class WindowClock {
  readonly timeZone: string;
  private readonly fmt: Intl.DateTimeFormat;
  private day: CalendarWindow | undefined;
  private month: CalendarWindow | undefined;

  constructor(timeZone: string) {
    assertTimeZone(timeZone);
    this.timeZone = timeZone;
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
    });
  }

  dayWindow(nowMs: number): CalendarWindow {
    const c = this.day;
    if (c !== undefined && nowMs >= c.startMs && nowMs < c.endMs) return c;
    const w = this.compute('day', nowMs);
    this.day = w;
    return w;
  }

  monthWindow(nowMs: number): CalendarWindow {
    const c = this.month;
    if (c !== undefined && nowMs >= c.startMs && nowMs < c.endMs) return c;
    const w = this.compute('month', nowMs);
    this.month = w;
    return w;
  }

  window(kind: WindowKind, nowMs: number): CalendarWindow {
    return kind === 'day' ? this.dayWindow(nowMs) : this.monthWindow(nowMs);
  }

  /** The local calendar date of an instant in this zone. */
  localDate(ms: number): LocalDate {
    let y = 0;
    let m = 0;
    let d = 0;
    for (const p of this.fmt.formatToParts(ms)) {
      if (p.type === 'year') y = Number(p.value);
      else if (p.type === 'month') m = Number(p.value);
      else if (p.type === 'day') d = Number(p.value);
    }
    return { y, m, d };
  }

  /**
   * First instant whose local date is on or after y-m-d. A binary search rather than
   * offset arithmetic, so zones whose DST switch happens at midnight (the day then starts
   * at 01:00) are still right. Only runs when a window rolls over.
   */
  startOfLocalDay(y: number, m: number, d: number): number {
    const target = Date.UTC(y, m - 1, d); // normalizes overflow (d = 32, m = 13)
    const t = new Date(target);
    const key = t.getUTCFullYear() * 10000 + (t.getUTCMonth() + 1) * 100 + t.getUTCDate();
    const before = (ms: number): boolean => {
      const l = this.localDate(ms);
      return l.y * 10000 + l.m * 100 + l.d < key;
    };
    // UTC offsets lie within ±14 h; widen a little for historical oddities.
    let lo = target - 15 * 3_600_000; // local date still before the target
    let hi = target + 15 * 3_600_000; // local date on or after the target
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (before(mid)) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  private compute(kind: WindowKind, nowMs: number): CalendarWindow {
    const { y, m, d } = this.localDate(nowMs);
    if (kind === 'day') {
      return {
        kind,
        id: `${y}-${pad2(m)}-${pad2(d)}`,
        startMs: this.startOfLocalDay(y, m, d),
        endMs: this.startOfLocalDay(y, m, d + 1),
      };
    }
    return {
      kind,
      id: `${y}-${pad2(m)}`,
      startMs: this.startOfLocalDay(y, m, 1),
      endMs: this.startOfLocalDay(y, m + 1, 1),
    };
  }
}
