/**
 * When to try an upstream call again, and how long to wait: connection failures, 429 and
 * 5xx, with exponential backoff and full jitter, honouring Retry-After (capped). Only
 * before the first byte reached the client: a started answer is never replayed.
 */
import type { GatewayError } from '../core/errors.js';

export interface RetryOptions {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504, 529]);

export function isRetryable(err: GatewayError): boolean {
  // The gateway's own key refused: another attempt with the same key cannot help.
  if (err.code === 'upstream_auth_failed') return false;
  return RETRYABLE.has(err.status);
}

/** Delay before attempt `attempt` (1 = first retry). */
export function retryDelayMs(attempt: number, opts: RetryOptions, retryAfter?: string, random = Math.random): number {
  const fromHeader = parseRetryAfter(retryAfter);
  if (fromHeader !== null) return Math.min(fromHeader, opts.maxDelayMs);
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

/** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}
