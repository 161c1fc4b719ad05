import { describe, expect, it } from 'vitest';
import { limitsSchema, limitsSettingsSchema } from './schema.js';

const messages = (input: unknown) => {
  const r = limitsSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('limitsSchema', () => {
  it('accepts every limit, all optional', () => {
    expect(limitsSchema.parse({})).toEqual({});
    const all = {
      rpm: 60,
      tpm: 100_000,
      maxParallel: 4,
      dailyRequests: 1000,
      monthlyRequests: 20_000,
      dailyTokens: 1e6,
      monthlyTokens: 2e7,
      dailyBudgetUsd: 2.5,
      monthlyBudgetUsd: 50,
    };
    expect(limitsSchema.parse(all)).toEqual(all);
  });

  it('names the field and the fix', () => {
    expect(messages({ rpm: 0 })).toEqual(['rpm: must be 1 or more requests per minute; leave it out for no limit']);
    expect(messages({ tpm: 1.5 })).toEqual(['tpm: must be a whole number of tokens per minute']);
    expect(messages({ dailyRequests: 'ten' })).toEqual(['dailyRequests: must be a number of requests per day']);
    expect(messages({ monthlyBudgetUsd: -1 })).toEqual(['monthlyBudgetUsd: cannot be negative; 0 blocks all spend, leave it out for no limit']);
    expect(messages({ rpmm: 5 })[0]).toMatch(/rpmm/);
  });

  it('allows 0 for quotas (blocks) but not for rates', () => {
    expect(messages({ dailyRequests: 0, monthlyBudgetUsd: 0 })).toEqual([]);
    expect(messages({ maxParallel: 0 })).toHaveLength(1);
  });
});

describe('limitsSettingsSchema', () => {
  it('defaults to UTC and 80%/100% thresholds', () => {
    expect(limitsSettingsSchema.parse({})).toEqual({ timeZone: 'UTC', thresholds: [0.8, 1] });
  });

  it('checks the time zone and Redis URL', () => {
    const r = limitsSettingsSchema.safeParse({ timeZone: 'Europe/Pariss', redisUrl: 'http://x' });
    expect(r.success).toBe(false);
    const paths = r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    expect(paths.sort()).toEqual(['redisUrl', 'timeZone']);
  });
});
