/**
 * Scans one text part: secrets and personal data on the raw text (exact spans), injection on
 * normalised text (spans mapped back), then the same on decoded layers (span = the encoded
 * region). Work per part is bounded: decoding has a depth and a character budget.
 */
import { INJECTION_PATTERNS, ROT13_HINT } from './detectors/injection.js';
import { SECRET_PATTERNS, SECRET_PREFILTER } from './detectors/secrets.js';
import { PII_PATTERNS, PII_PREFILTER } from './detectors/pii.js';
import { EXFIL_PREFILTER, exfiltrationPatterns, type ExfilOptions } from './detectors/exfiltration.js';
import { excerptOf } from './excerpt.js';
import { decodeLayers, mapSpan, normalizeText, type Normalized } from './normalize.js';
import type { Finding, PartSource, Pattern } from './types.js';

export interface ScanTextOptions {
  /** JSON path of the part, reported in each finding's span. Default `text`. */
  path?: string;
  source?: PartSource;
  /** `answer` adds exfiltration checks and skips injection checks. */
  direction?: 'request' | 'answer';
  /** Compiled custom patterns from the policy. */
  customPatterns?: readonly Pattern[];
  /** Scan system/developer messages for injection too (off: they are written by the app). */
  injectionInSystem?: boolean;
  exfil?: ExfilOptions;
  /** Decode nested encodings (default true) up to this depth (default 2). */
  decodeDepth?: number;
}

const DECODE_BUDGET = 32_768;
const DECODED_INJECTION_BONUS = 5; // hiding an instruction in an encoding is itself a signal
const INDIRECT_BONUS = 10; // instructions inside tool output were not written by the user

const defaultExfil = exfiltrationPatterns();

interface Ctx {
  path: string;
  out: Finding[];
}

/** Runs patterns over `text`; `place` turns a match range into a span in the original part. */
function run(
  patterns: readonly Pattern[],
  text: string,
  ctx: Ctx,
  place: (start: number, end: number) => { start: number; end: number },
  extra: { encoding?: string; bonus?: number } = {},
): void {
  for (const pat of patterns) {
    const re = pat.re;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      if (pat.validate && !pat.validate(m)) continue;
      const reported = pat.group !== undefined ? (m[pat.group] ?? m[0]) : m[0];
      const offset = pat.group !== undefined ? Math.max(0, m[0].lastIndexOf(reported)) : 0;
      const start = m.index + offset;
      const span = place(start, start + reported.length);
      ctx.out.push({
        category: pat.category,
        detector: pat.id,
        score: Math.min(100, pat.score + (extra.bonus ?? 0)),
        span: { path: ctx.path, start: span.start, end: span.end },
        excerpt: excerptOf(pat.category, reported),
        ...(extra.encoding ? { encoding: extra.encoding } : {}),
      });
    }
    re.lastIndex = 0;
  }
}

function runInjection(text: string, ctx: Ctx, place: (s: number, e: number) => { start: number; end: number }, extra: { encoding?: string; bonus?: number }): void {
  const n: Normalized = normalizeText(text);
  run(INJECTION_PATTERNS, n.text, ctx, (s, e) => {
    const m = mapSpan(n, s, e);
    return place(m.start, m.end);
  }, extra);
}

export function scanText(text: string, opts: ScanTextOptions = {}): Finding[] {
  const ctx: Ctx = { path: opts.path ?? 'text', out: [] };
  if (text.length === 0) return ctx.out;
  const answer = opts.direction === 'answer';
  const source = opts.source ?? (answer ? 'assistant' : 'user');
  const injection = !answer && (source !== 'system' || opts.injectionInSystem === true);
  const indirect = source === 'tool_result' || source === 'other' ? INDIRECT_BONUS : 0;
  const identity = (start: number, end: number) => ({ start, end });

  if (SECRET_PREFILTER.test(text)) run(SECRET_PATTERNS, text, ctx, identity);
  if (PII_PREFILTER.test(text)) run(PII_PATTERNS, text, ctx, identity);
  if (opts.customPatterns?.length) run(opts.customPatterns, text, ctx, identity);
  if (answer && EXFIL_PREFILTER.test(text)) run(opts.exfil ? exfiltrationPatterns(opts.exfil) : defaultExfil, text, ctx, identity);
  if (injection) runInjection(text, ctx, identity, { bonus: indirect });

  const depth = opts.decodeDepth ?? 2;
  if (depth > 0) {
    const budget = { left: DECODE_BUDGET };
    scanLayers(text, ctx, depth, null, '', budget, injection, indirect);
  }
  return dedupe(ctx.out);
}

function scanLayers(
  text: string,
  ctx: Ctx,
  depthLeft: number,
  region: { start: number; end: number } | null,
  chain: string,
  budget: { left: number },
  injection: boolean,
  indirect: number,
): void {
  if (depthLeft <= 0 || budget.left <= 0) return;
  const layers = decodeLayers(text, { maxChars: budget.left, maxTokens: 64 }, { rot13: injection && ROT13_HINT.test(text) });
  for (const layer of layers) {
    budget.left -= layer.text.length;
    const outer = region ?? { start: layer.start, end: layer.end };
    const place = () => outer;
    const encoding = chain ? `${chain}>${layer.encoding}` : layer.encoding;
    if (SECRET_PREFILTER.test(layer.text)) run(SECRET_PATTERNS, layer.text, ctx, place, { encoding });
    if (injection) runInjection(layer.text, ctx, place, { encoding, bonus: DECODED_INJECTION_BONUS + indirect });
    scanLayers(layer.text, ctx, depthLeft - 1, outer, encoding, budget, injection, indirect);
  }
}

/** One finding per detector and overlapping span; the highest score wins. */
function dedupe(findings: Finding[]): Finding[] {
  if (findings.length < 2) return findings;
  findings.sort((a, b) => a.span.start - b.span.start || b.score - a.score);
  const out: Finding[] = [];
  for (const f of findings) {
    const dup = out.find(
      (o) => o.detector === f.detector && o.span.path === f.span.path && f.span.start < o.span.end && o.span.start < f.span.end,
    );
    if (!dup) out.push(f);
    else if (f.score > dup.score) Object.assign(dup, f);
  }
  return out;
}
