/**
 * Applying redactions inside the same parts they were found in, so the body keeps its shape
 * (OpenAI, Anthropic or Gemini) and tool-call JSON stays valid (replacements contain no quotes).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { getAt, parsePath, setAt } from './path.js';
import type { Redaction, RedactionStyle } from './policy.js';

export interface RedactOptions {
  /** HMAC key for the `hash` style; a per-process random key by default (hashes then match only within one process). */
  hashKey?: string | Buffer;
  /** Token table shared across calls (e.g. request and answer of one exchange); filled in place. */
  tokens?: Map<string, string>;
}

export interface RedactedBody<T> {
  body: T;
  /** token -> original value, for the `tokenize` style; keep it in memory only. */
  tokens: Map<string, string>;
  applied: number;
}

const PROCESS_KEY = randomBytes(32);

/** `secret.openai` -> `OPENAI`, `pii.credit_card` -> `CREDIT_CARD`. */
function kindOf(detector: string): string {
  const last = detector.split('.').pop() ?? 'DATA';
  return last.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

function replacement(value: string, r: Pick<Redaction, 'detector' | 'style'>, opts: RedactOptions, tokens: Map<string, string>, reverse: Map<string, string>): string {
  const kind = kindOf(r.detector);
  if (r.style === 'hash') {
    const h = createHmac('sha256', opts.hashKey ?? PROCESS_KEY).update(value).digest('hex').slice(0, 12);
    return `[${kind}:${h}]`;
  }
  if (r.style === 'tokenize') {
    const known = reverse.get(value);
    if (known) return known;
    const token = `[${kind}_${tokens.size + 1}]`;
    tokens.set(token, value);
    reverse.set(value, token);
    return token;
  }
  return `[REDACTED_${kind}]`;
}

interface Span {
  start: number;
  end: number;
  detector: string;
  style: RedactionStyle;
}

/** Merges overlapping spans (keeping the first detector's label) and orders them. */
function merge(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Redacts spans of one string. */
export function redactString(text: string, spans: readonly Span[], opts: RedactOptions = {}, tokens = opts.tokens ?? new Map<string, string>()): string {
  if (spans.length === 0) return text;
  const reverse = new Map<string, string>();
  for (const [t, v] of tokens) reverse.set(v, t);
  let out = '';
  let at = 0;
  for (const s of merge(spans)) {
    const start = Math.max(s.start, at);
    const end = Math.min(s.end, text.length);
    if (end <= start) continue;
    out += text.slice(at, start) + replacement(text.slice(start, end), s, opts, tokens, reverse);
    at = end;
  }
  return out + text.slice(at);
}

/** Returns a redacted copy of `body`; the input is not modified. */
export function applyRedactions<T>(body: T, redactions: readonly Redaction[], opts: RedactOptions = {}): RedactedBody<T> {
  const tokens = opts.tokens ?? new Map<string, string>();
  if (redactions.length === 0) return { body, tokens, applied: 0 };
  if (typeof body === 'string') {
    return { body: redactString(body, redactions, opts, tokens) as T, tokens, applied: redactions.length };
  }
  const copy = structuredClone(body);
  const byPath = new Map<string, Redaction[]>();
  for (const r of redactions) {
    const g = byPath.get(r.path);
    if (g) g.push(r);
    else byPath.set(r.path, [r]);
  }
  let applied = 0;
  for (const [path, group] of byPath) {
    const segs = parsePath(path);
    const current = getAt(copy, segs);
    if (typeof current !== 'string') continue;
    if (setAt(copy, segs, redactString(current, group, opts, tokens))) applied += group.length;
  }
  return { body: copy, tokens, applied };
}

/** Puts tokenised values back (e.g. in an answer that quotes a token). */
export function detokenize(text: string, tokens: ReadonlyMap<string, string>): string {
  if (tokens.size === 0 || !text.includes('[')) return text;
  return text.replace(/\[[A-Z0-9_]+_\d+\]/g, (t) => tokens.get(t) ?? t);
}
