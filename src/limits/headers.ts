/**
 * OpenAI's rate-limit headers. Each trio reports the tightest limit of its unit across all
 * subjects and windows (rpm or daily/monthly requests; tpm or daily/monthly tokens), i.e.
 * the one with the least remaining.
 */
import type { LimitState, LimitUnit, ReserveResult } from './types.js';

export type RateLimitHeaders = Record<string, string>;

/**
 * Headers for a reservation (success) or a refusal (429, with `retry-after` in whole
 * seconds). Limits not configured produce no header.
 */
export function buildRateLimitHeaders(result: ReserveResult): RateLimitHeaders {
  const h: RateLimitHeaders = {};
  const req = tightest(result.states, 'requests');
  const tok = tightest(result.states, 'tokens');
  if (req !== undefined) {
    h['x-ratelimit-limit-requests'] = String(req.limitValue);
    h['x-ratelimit-remaining-requests'] = String(req.remaining);
    h['x-ratelimit-reset-requests'] = formatDuration(req.resetSeconds);
  }
  if (tok !== undefined) {
    h['x-ratelimit-limit-tokens'] = String(tok.limitValue);
    h['x-ratelimit-remaining-tokens'] = String(tok.remaining);
    h['x-ratelimit-reset-tokens'] = formatDuration(tok.resetSeconds);
  }
  if (!result.ok) h['retry-after'] = String(Math.max(1, Math.ceil(result.retryAfterSeconds)));
  return h;
}

function tightest(states: readonly LimitState[], unit: LimitUnit): LimitState | undefined {
  let best: LimitState | undefined;
  for (const s of states) {
    if (s.unit !== unit) continue;
    // Least remaining wins; on a tie, the one that takes longer to reset.
    if (best === undefined || s.remaining < best.remaining || (s.remaining === best.remaining && s.resetSeconds > best.resetSeconds)) best = s;
  }
  return best;
}

/**
 * Go's duration format, as OpenAI sends it: `20ms`, `1s`, `1.5s`, `6m0s`, `26h3m0s`.
 */
export function formatDuration(seconds: number): string {
  if (!(seconds > 0)) return '0s';
  const ms = Math.ceil(seconds * 1000);
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}
