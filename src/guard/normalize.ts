/**
 * Text normalisation before detection: attackers hide trigger words behind compatibility
 * characters, zero-width joiners, look-alike letters and encodings. Normalised text keeps a
 * map back to the original offsets so findings still point at the right span.
 */
import { profileText, type TextProfile } from './profile.js';

// Cyrillic and Greek letters that render like Latin ones (the confusables attackers use most).
const HOMOGLYPHS: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', һ: 'h', ԛ: 'q', ԝ: 'w', ɡ: 'g', ӏ: 'l',
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', Х: 'X', У: 'Y',
  І: 'I', Ј: 'J', Ѕ: 'S', Ԁ: 'D', Ԛ: 'Q', Ԝ: 'W',
  α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y', ϲ: 'c',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
};

// Invisible code points: zero-width space/joiners, bidi marks, word joiner, BOM, soft hyphen,
// variation selectors. Unicode tag characters (U+E0000 block) are mapped to ASCII separately.
const INVISIBLE = /[\u00AD\u034F\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF\uFE00-\uFE0F]/;
const SPECIAL = new RegExp(`${INVISIBLE.source}|[\\uDB40][\\uDC00-\\uDC7F]|[${Object.keys(HOMOGLYPHS).join('')}]`);

// Same set as INVISIBLE, as a code check (a regex test per character is far slower).
function invisible(c: number): boolean {
  return (
    c === 0xad || c === 0x34f || c === 0x180e || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2060 && c <= 0x2064) || c === 0xfeff || (c >= 0xfe00 && c <= 0xfe0f)
  );
}
const NON_ASCII = /[^\x00-\x7F]/;

export interface Normalized {
  text: string;
  /** map[i] = offset in the original of normalised char i; map[text.length] = original length. Null when identical. */
  map: number[] | null;
}

export function normalizeText(input: string): Normalized {
  if (!NON_ASCII.test(input)) return { text: input, map: null };
  const nfkc = input.normalize('NFKC');
  // Same length: treat NFKC as 1:1 (fullwidth -> ASCII and the like); otherwise map char by char.
  const base = nfkc.length === input.length ? { text: nfkc, map: null } : perCharNfkc(input);
  if (!SPECIAL.test(base.text)) return base;
  return fold(base);
}

function perCharNfkc(input: string): Normalized {
  let out = '';
  const map: number[] = [];
  for (let i = 0; i < input.length; ) {
    const cp = input.codePointAt(i) ?? 0;
    const w = cp > 0xffff ? 2 : 1;
    const ch = input.slice(i, i + w);
    const n = cp < 0x80 ? ch : ch.normalize('NFKC');
    for (let k = 0; k < n.length; k++) map.push(i);
    out += n;
    i += w;
  }
  map.push(input.length);
  return { text: out, map };
}

function fold(base: Normalized): Normalized {
  const src = base.text;
  const origin = (i: number): number => (base.map ? base.map[i] : i);
  const parts: string[] = [];
  const map: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const code = src.charCodeAt(i);
    if (code < 0x80) {
      parts.push(src[i]);
      map.push(origin(i));
      continue;
    }
    const c = src[i];
    if (code === 0xdb40 && i + 1 < src.length) {
      const lo = src.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdc7f) {
        // Tag characters smuggle ASCII invisibly: U+E0041 is a hidden "A".
        const ascii = lo - 0xdc00;
        if (ascii >= 0x20 && ascii < 0x7f) {
          parts.push(String.fromCharCode(ascii));
          map.push(origin(i));
        }
        i++;
        continue;
      }
    }
    if (invisible(code)) continue;
    parts.push(HOMOGLYPHS[c] ?? c);
    map.push(origin(i));
  }
  map.push(base.map ? base.map[src.length] : src.length);
  return { text: parts.join(''), map };
}

/** Maps a [start, end) span of normalised text back to the original. */
export function mapSpan(n: Normalized, start: number, end: number): { start: number; end: number } {
  if (!n.map) return { start, end };
  const s = n.map[start] ?? n.map[n.map.length - 1];
  // The end maps to just after the original char of the last normalised char.
  const last = n.map[Math.max(start, end - 1)] ?? s;
  let e = n.map[end] ?? n.map[n.map.length - 1];
  if (e <= last) e = last + 1;
  return { start: s, end: e };
}

// ---- nested encodings -------------------------------------------------------------------

/** A decoded region: `text` is the decoded content of the original range [start, end). */
export interface DecodedLayer {
  encoding: 'url' | 'base64' | 'hex' | 'unicode_escape' | 'html_entity' | 'rot13';
  text: string;
  start: number;
  end: number;
}

export interface DecodeLimits {
  /** Total decoded characters per call; keeps the work linear in the input. */
  maxChars: number;
  /** Candidate tokens examined per call. */
  maxTokens: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxChars: 32_768, maxTokens: 64 };

const SPACED_HEX = /(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :,]){7,4096}[0-9A-Fa-f]{2}(?![0-9A-Fa-f])/g;
const URL_ESCAPE = /%[0-9A-Fa-f]{2}/g;
const UNICODE_ESCAPE = /\\u(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{4}))|\\x([0-9A-Fa-f]{2})/g;
const HTML_ENTITY = /&#(?:[xX]([0-9A-Fa-f]{1,6})|(\d{1,7}));/g;
const HEX_ONLY = /^(?:[0-9A-Fa-f]{2})+$/;
const MAX_TOKEN = 8192;

/** True when decoded bytes look like text rather than binary (so a hash is not "decoded"). */
function looksLikeText(s: string): boolean {
  if (s.length < 4 || s.includes('\uFFFD')) return false;
  let printable = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13 || c >= 0xa0) printable++;
  }
  return printable / s.length >= 0.95 && /[A-Za-z]{2}/.test(s);
}

function countMatches(re: RegExp, s: string, atLeast: number): boolean {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(s)) if (++n >= atLeast) break;
  re.lastIndex = 0;
  return n >= atLeast;
}

function safeCodePoint(cp: number): string {
  return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
}

export function rot13(s: string): string {
  return s.replace(/[A-Za-z]/g, (c) => {
    const b = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - b + 13) % 26) + b);
  });
}

/**
 * Finds encoded regions and returns their decoded text. One level only; the scanner calls it
 * again on decoded text for the next level, so depth and total size stay bounded.
 */
export function decodeLayers(
  text: string,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  opts: { rot13?: boolean; profile?: TextProfile; tokens?: ReadonlyArray<readonly [number, number]> } = {},
): DecodedLayer[] {
  const profile = opts.profile ?? profileText(text);
  // The caller may pick which of the profile's long tokens to decode (without copying the profile).
  const longTokens = opts.tokens ?? profile.longTokens;
  const layers: DecodedLayer[] = [];
  let budget = limits.maxChars;
  let tokens = 0;
  const push = (layer: DecodedLayer): void => {
    if (budget <= 0) return;
    const t = layer.text.length > budget ? layer.text.slice(0, budget) : layer.text;
    budget -= t.length;
    layers.push({ ...layer, text: t });
  };

  // Whole-text decodings: escapes are usually sprinkled through a sentence.
  if (profile.percents >= 3 && countMatches(URL_ESCAPE, text, 3)) {
    const decoded = text.replace(/\+/g, ' ').replace(URL_ESCAPE, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
    push({ encoding: 'url', text: decoded, start: 0, end: text.length });
  }
  if (profile.backslashes >= 3 && countMatches(UNICODE_ESCAPE, text, 3)) {
    const decoded = text.replace(UNICODE_ESCAPE, (_m, braced?: string, u4?: string, x2?: string) =>
      safeCodePoint(parseInt(braced ?? u4 ?? x2 ?? '0', 16)),
    );
    push({ encoding: 'unicode_escape', text: decoded, start: 0, end: text.length });
  }
  if (profile.ampHash && countMatches(HTML_ENTITY, text, 3)) {
    const decoded = text.replace(HTML_ENTITY, (_m, hex?: string, dec?: string) => safeCodePoint(hex ? parseInt(hex, 16) : Number(dec)));
    push({ encoding: 'html_entity', text: decoded, start: 0, end: text.length });
  }
  if (opts.rot13) push({ encoding: 'rot13', text: rot13(text), start: 0, end: text.length });

  // Token decodings: base64 and hex blobs, found by the profile pass (runs of 16+ characters).
  for (const [s, e] of longTokens) {
    if (tokens >= limits.maxTokens || budget <= 0) break;
    tokens++;
    const raw = text.slice(s, Math.min(e, s + MAX_TOKEN));
    let decoded: string;
    let encoding: DecodedLayer['encoding'];
    if (HEX_ONLY.test(raw)) {
      encoding = 'hex';
      decoded = Buffer.from(raw, 'hex').toString('utf8');
    } else if (/[0-9+/=_]|[a-z][A-Z]|[A-Z][a-z]/.test(raw) && /^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) {
      encoding = 'base64';
      decoded = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    } else continue;
    if (looksLikeText(decoded)) push({ encoding, text: decoded, start: s, end: s + raw.length });
  }
  if (profile.spacedHex) {
    SPACED_HEX.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = SPACED_HEX.exec(text)) && tokens++ < limits.maxTokens && budget > 0) {
      const decoded = Buffer.from(m[0].replace(/[ :,]/g, ''), 'hex').toString('utf8');
      if (looksLikeText(decoded)) push({ encoding: 'hex', text: decoded, start: m.index, end: m.index + m[0].length });
    }
    SPACED_HEX.lastIndex = 0;
  }
  return layers;
}
