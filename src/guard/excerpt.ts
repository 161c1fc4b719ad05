/**
 * Safe excerpts of matched text: secrets and personal data are masked, attacker text is
 * truncated and passed through the core redactor so nothing credential-shaped survives.
 */
import { maskSecret, redactText } from '../core/redact.js';
import type { Category } from './types.js';

const MAX_EXCERPT = 80;

export function truncate(s: string, max = MAX_EXCERPT): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** Masks personal data but keeps its shape: `4***11`, `j***om`. */
export function maskPii(value: string): string {
  if (value.length <= 6) return '***';
  return `${value[0]}***${value.slice(-2)}`;
}

export function excerptOf(category: Category, matched: string): string {
  switch (category) {
    case 'secret':
      return maskSecret(matched.trim());
    case 'pii':
      return maskPii(matched.trim());
    case 'exfiltration': {
      const url = /https?:\/\/[^\s/)"'>]+/.exec(matched)?.[0] ?? '';
      return `${url}/... (data-carrying URL)`;
    }
    default:
      return truncate(redactText(matched));
  }
}
