import { describe, expect, it } from 'vitest';
import { assertTimeZone, WindowClock } from './windows.js';

const iso = (ms: number) => new Date(ms).toISOString();
const hours = (w: { startMs: number; endMs: number }) => (w.endMs - w.startMs) / 3_600_000;

describe('calendar windows', () => {
  it('Paris: a spring-forward day lasts 23 h, a fall-back day 25 h, both from local midnight', () => {
    const c = new WindowClock('Europe/Paris');
    const spring = c.dayWindow(Date.UTC(2026, 2, 29, 12));
    expect(spring.id).toBe('2026-03-29');
    expect(iso(spring.startMs)).toBe('2026-03-28T23:00:00.000Z'); // 00:00 CET
    expect(iso(spring.endMs)).toBe('2026-03-29T22:00:00.000Z'); // 00:00 CEST
    expect(hours(spring)).toBe(23);
    const fall = c.dayWindow(Date.UTC(2026, 9, 25, 12));
    expect(fall.id).toBe('2026-10-25');
    expect(hours(fall)).toBe(25);
  });

  it('the window id changes exactly at local midnight', () => {
    const c = new WindowClock('Europe/Paris');
    const midnight = Date.UTC(2026, 10, 22, 23, 0, 0); // 2026-11-23 00:00 CET
    expect(c.dayWindow(midnight - 1).id).toBe('2026-11-22');
    expect(c.dayWindow(midnight).id).toBe('2026-11-23');
    expect(c.dayWindow(midnight - 1).endMs).toBe(midnight);
  });

  it('months follow the local calendar across DST and year ends', () => {
    const c = new WindowClock('Europe/Paris');
    const march = c.monthWindow(Date.UTC(2026, 2, 15));
    expect(march.id).toBe('2026-03');
    expect(iso(march.startMs)).toBe('2026-02-28T23:00:00.000Z');
    expect(iso(march.endMs)).toBe('2026-03-31T22:00:00.000Z');
    const dec = new WindowClock('UTC').monthWindow(Date.UTC(2026, 11, 31, 23, 59));
    expect(dec.id).toBe('2026-12');
    expect(iso(dec.endMs)).toBe('2027-01-01T00:00:00.000Z');
  });

  it('a zone whose DST starts at midnight begins that day at 01:00 (Santiago 2022-09-11)', () => {
    const w = new WindowClock('America/Santiago').dayWindow(Date.UTC(2022, 8, 11, 12));
    expect(w.id).toBe('2022-09-11');
    expect(iso(w.startMs)).toBe('2022-09-11T04:00:00.000Z');
    expect(hours(w)).toBe(23);
  });

  it('a skipped calendar day (Apia, 2011-12-30) does not break the next one', () => {
    const w = new WindowClock('Pacific/Apia').dayWindow(Date.UTC(2011, 11, 30, 12));
    expect(w.id).toBe('2011-12-31');
    expect(iso(w.startMs)).toBe('2011-12-30T10:00:00.000Z');
  });

  it('half-hour offsets (Asia/Kolkata)', () => {
    const w = new WindowClock('Asia/Kolkata').dayWindow(Date.UTC(2026, 0, 1, 12));
    expect(iso(w.startMs)).toBe('2025-12-31T18:30:00.000Z');
  });

  it('caches the window while now stays inside it', () => {
    const c = new WindowClock('UTC');
    const a = c.dayWindow(Date.UTC(2026, 0, 1, 1));
    expect(c.dayWindow(Date.UTC(2026, 0, 1, 23))).toBe(a);
    expect(c.dayWindow(Date.UTC(2026, 0, 2, 0))).not.toBe(a);
  });

  it('refuses an unknown zone with a readable message', () => {
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => new WindowClock('Europe/Pariss')).toThrow(RangeError);
  });
});
