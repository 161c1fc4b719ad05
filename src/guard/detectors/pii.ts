/**
 * Personal data patterns. Look-behinds pin each match to the start of a token so the engine
 * never retries inside a long run, and checksums (Luhn, mod-97) drop look-alike numbers.
 */
import { isIPv6 } from 'node:net';
import type { TextProfile } from '../profile.js';
import type { Pattern } from '../types.js';

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

// Lengths per country (ISO 13616 registry); unknown countries fall back to 15-34.
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20, ES: 24, FI: 18, FR: 27,
  GB: 22, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26, IT: 27, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MT: 31, NL: 18,
  NO: 15, PL: 28, PT: 25, RO: 24, SA: 24, SE: 24, SI: 19, SK: 24, SM: 27, TR: 26, UA: 29,
};

export function ibanValid(raw: string): boolean {
  const iban = raw.replace(/\s+/g, '').toUpperCase();
  const want = IBAN_LENGTHS[iban.slice(0, 2)];
  if (want ? iban.length !== want : iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

const digitsOf = (s: string): string => s.replace(/\D/g, '');

const p = (id: string, score: number, src: string, gate: (t: TextProfile) => boolean, validate?: Pattern['validate'], extra: Partial<Pattern> = {}): Pattern => ({
  id: `pii.${id}`,
  category: 'pii',
  score,
  re: new RegExp(src, 'g'),
  gate,
  validate,
  maxSpan: 80,
  ...extra,
});

const LOCAL_PART = /[A-Za-z0-9._%+\-]/;

/** The e-mail regex starts at the `@` (fast to find); the local part is walked leftwards here. */
function emailLocate(text: string, m: RegExpExecArray): { start: number; end: number } | null {
  let i = m.index;
  while (i > 0 && m.index - i < 64 && LOCAL_PART.test(text[i - 1])) i--;
  if (i === m.index || (i > 0 && LOCAL_PART.test(text[i - 1]))) return null;
  return { start: i, end: m.index + m[0].length };
}

export const PII_PATTERNS: Pattern[] = [
  p('email', 50, String.raw`@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}\b`, (t) => t.at, (m) => !/^@(?:example|test)\./i.test(m[0]), { locate: emailLocate }),
  p('credit_card', 70, String.raw`(?<![\d\-.])[3-6]\d{3}(?:[ \-]?\d){9,15}(?![\d\-])`, (t) => t.maxDigitRun >= 13, (m) => {
    const d = digitsOf(m[0]);
    return d.length >= 13 && d.length <= 19 && luhnValid(d) && !/^(\d)\1+$/.test(d);
  }),
  p('iban', 60, String.raw`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`, (t) => t.ibanStart, (m) => ibanValid(m[0])),
  p('us_ssn', 65, String.raw`(?<![\d\-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d\-])`, (t) => t.maxDigitRun >= 9),
  p('phone_intl', 45, String.raw`(?<![\w+])(?:\+|00)[1-9][\d ().\-]{6,18}\d(?!\w)`, (t) => t.maxDigitRun >= 8, (m) => {
    const n = digitsOf(m[0]).length;
    return n >= 8 && n <= 15;
  }),
  p('phone_us', 40, String.raw`(?<![\w\-.])\(?[2-9]\d{2}\)?[ .\-]?[2-9]\d{2}[ .\-]\d{4}(?![\w\-])`, (t) => t.maxDigitRun >= 10),
  p('ipv4', 30, String.raw`(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)`, (t) => t.maxDigitRun >= 4, (m) =>
    // Loopback, unspecified and broadcast addresses identify nobody.
    !/^(?:127\.|0\.0\.0\.0$|255\.255\.255\.)/.test(m[0]),
  ),
  p('ipv6', 30, String.raw`(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,7}:?(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?(?![\w:])`, (t) => t.colons >= 2, (m) =>
    // Needs a digit and three groups so C++ scopes (std::vector) and times (12:30) do not count.
    isIPv6(m[0]) && /\d/.test(m[0]) && m[0].split(':').filter(Boolean).length >= 3,
  ),
];

