/**
 * Limit configuration, shared by the config file (global defaults, apps, users) and the
 * keys table. Every field is optional: an absent field means "no limit of that kind".
 */
import { z } from 'zod';
import { isValidTimeZone } from './windows.js';

const rate = (what: string) =>
  z
    .number({ error: `must be a number of ${what}` })
    .int(`must be a whole number of ${what}`)
    .positive(`must be 1 or more ${what}; leave it out for no limit`);

const count = (what: string) =>
  z
    .number({ error: `must be a number of ${what}` })
    .int(`must be a whole number of ${what}`)
    .nonnegative(`cannot be negative; 0 blocks all ${what}, leave it out for no limit`);

const usd = z
  .number({ error: 'must be an amount in USD, such as 25 or 0.5' })
  .nonnegative('cannot be negative; 0 blocks all spend, leave it out for no limit')
  .max(1e9, 'must be at most 1,000,000,000 USD')
  .refine((v) => Number.isFinite(v), 'must be a finite amount in USD');

export const limitsSchema = z
  .object({
    /** Requests per minute (continuous refill, like OpenAI's). */
    rpm: rate('requests per minute').optional(),
    /** Tokens per minute, reserved from the request's max tokens, settled with real usage. */
    tpm: rate('tokens per minute').optional(),
    /** Requests in flight at once. */
    maxParallel: rate('parallel requests').optional(),
    dailyRequests: count('requests per day').optional(),
    monthlyRequests: count('requests per month').optional(),
    dailyTokens: count('tokens per day').optional(),
    monthlyTokens: count('tokens per month').optional(),
    dailyBudgetUsd: usd.optional(),
    monthlyBudgetUsd: usd.optional(),
  })
  .strict();

export type Limits = z.infer<typeof limitsSchema>;
export type LimitName = keyof Limits;

export const LIMIT_NAMES: readonly LimitName[] = [
  'rpm',
  'tpm',
  'maxParallel',
  'dailyRequests',
  'monthlyRequests',
  'dailyTokens',
  'monthlyTokens',
  'dailyBudgetUsd',
  'monthlyBudgetUsd',
];

/** IANA time zone name, checked against the runtime's zone database. */
export const timeZoneSchema = z
  .string()
  .min(1)
  .refine(isValidTimeZone, { message: 'must be an IANA time zone such as "UTC" or "Europe/Paris"' });

/** Optional section for the config file: where counters live and which calendar applies. */
export const limitsSettingsSchema = z
  .object({
    /** Time zone of the daily and monthly quota windows. */
    timeZone: timeZoneSchema.default('UTC'),
    /** Redis URL for counters shared by several replicas; REDIS_URL overrides. Absent: in-process. */
    redisUrl: z
      .string()
      .refine((u) => /^rediss?:\/\//.test(u), { message: 'must start with redis:// or rediss://' })
      .optional(),
    /** Fractions of a quota at which a `quota.threshold` event is reported (1 = `quota.exceeded`). */
    thresholds: z.array(z.number().gt(0, 'must be above 0').max(1, 'must be at most 1')).default([0.8, 1]),
  })
  .strict();

export type LimitsSettings = z.infer<typeof limitsSettingsSchema>;
