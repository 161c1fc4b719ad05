import { describe, expect, it } from 'vitest';
import { buildRateLimitHeaders, formatDuration } from './headers.js';
import type { LimitState, Refusal } from './types.js';

describe('formatDuration (Go duration format, as OpenAI sends it)', () => {
  it.each([
    [0, '0s'],
    [0.02, '20ms'],
    [1, '1s'],
    [1.5, '1.5s'],
    [6, '6s'],
    [360, '6m0s'],
    [3723.25, '1h2m3.25s'],
    [93_780, '26h3m0s'],
  ])('%s s -> %s', (s, out) => {
    expect(formatDuration(s)).toBe(out);
  });
});

const st = (p: Partial<LimitState> & Pick<LimitState, 'limit' | 'unit' | 'remaining'>): LimitState => ({
  subject: 'key:x',
  limitValue: 100,
  used: 0,
  resetSeconds: 1,
  ...p,
});

describe('buildRateLimitHeaders', () => {
  it('picks the limit with the least remaining per unit, ignores spend and parallel', () => {
    const states = [
      st({ limit: 'rpm', unit: 'requests', remaining: 50, limitValue: 60, resetSeconds: 2 }),
      st({ limit: 'dailyRequests', unit: 'requests', remaining: 7, limitValue: 10, resetSeconds: 3600 }),
      st({ limit: 'tpm', unit: 'tokens', remaining: 10, limitValue: 1000, resetSeconds: 59 }),
      st({ limit: 'maxParallel', unit: 'parallel', remaining: 0 }),
      st({ limit: 'dailyBudgetUsd', unit: 'micros', remaining: 0 }),
    ];
    const refusal: Refusal = {
      ok: false,
      subject: 'key:x',
      limit: 'tpm',
      unit: 'tokens',
      limitValue: 1000,
      used: 990,
      requested: 100,
      retryAfterSeconds: 5.4,
      tooLarge: false,
      violations: [],
      states,
    };
    expect(buildRateLimitHeaders(refusal)).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '7',
      'x-ratelimit-reset-requests': '1h0m0s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '10',
      'x-ratelimit-reset-tokens': '59s',
      'retry-after': '6',
    });
  });
});
