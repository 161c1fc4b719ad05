/**
 * Audit excerpts: a short window of the text around the first finding, with every secret,
 * personal datum and exfiltration URL in the window replaced by its category. Never the raw
 * secret, never the full prompt (at most MAX_AUDIT characters).
 */
import { redactText } from '../core/redact.js';
import type { Finding } from './types.js';

export const MAX_AUDIT = 160;

export function auditExcerpt(text: string, findings: readonly Finding[], maxLen = MAX_AUDIT): string {
  const max = Math.max(16, maxLen);
  const first = findings.length ? Math.min(...findings.map((f) => f.span.start)) : 0;
  const from = Math.max(0, Math.min(first - 20, text.length - max));
  const to = Math.min(text.length, from + max);
  // Spans to hide, clipped to the window; injection text stays (it is the evidence).
  const hide = findings
    .filter((f) => f.category !== 'prompt_injection' && f.span.end > from && f.span.start < to)
    .map((f) => ({ start: Math.max(from, f.span.start), end: Math.min(to, f.span.end), label: `[${f.category}]` }))
    .sort((a, b) => a.start - b.start);
  let out = '';
  let at = from;
  for (const h of hide) {
    if (h.start < at) {
      at = Math.max(at, h.end);
      continue;
    }
    out += text.slice(at, h.start) + h.label;
    at = h.end;
  }
  out += text.slice(at, to);
  // A finding that starts before the window could still leak its tail; the core redactor
  // catches credential shapes that no finding covered.
  out = redactText(out).replace(/\s+/g, ' ').trim();
  return `${from > 0 ? '...' : ''}${out}${to < text.length ? '...' : ''}`;
}
