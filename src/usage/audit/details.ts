/**
 * Details are small and never carry a secret: string leaves go through redactText, fields
 * whose name says "secret" are replaced outright, and the whole is capped in size.
 */
import { redactText } from '../../core/redact.js';
import { canonicalJson } from './hash.js';

const SECRET_NAME = /secret|password|passwd|authorization|api[_-]?key|private[_-]?key|^token$|access[_-]?token|refresh[_-]?token|cookie/i;
const MAX_STRING = 256;
const MAX_DEPTH = 4;
const MAX_KEYS = 32;
export const MAX_DETAILS_BYTES = 2048;

export function sanitizeDetails(details: Record<string, unknown> | null | undefined): string | null {
  if (!details) return null;
  const clean = scrub(details, 0);
  let json = canonicalJson(clean);
  if (Buffer.byteLength(json) > MAX_DETAILS_BYTES) {
    json = canonicalJson({ truncated: true, excerpt: json.slice(0, 512) });
  }
  return json;
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[nested]';
  if (Array.isArray(value)) return value.slice(0, MAX_KEYS).map((v) => scrub(v, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, MAX_KEYS)) {
      out[k] = SECRET_NAME.test(k) && v !== null && v !== undefined ? '[redacted]' : scrub(v, depth + 1);
    }
    return out;
  }
  return undefined; // functions, symbols, bigint, undefined: dropped by JSON
}

/** Free-text fields (target, address, actor) may echo input: redact and bound them too. */
export function cleanField(value: string | null | undefined, max = 256): string | null {
  if (value === null || value === undefined || value === '') return null;
  return redactText(value.length > max ? value.slice(0, max) : value);
}
