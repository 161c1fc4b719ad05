/**
 * Scans one text part: secrets and personal data on the raw text (exact spans), injection on
 * normalised text (spans mapped back), then the same on decoded layers (span = the encoded
 * region). Work per part is bounded: decoding has a depth and a character budget.
 */
import { activeInjectionPatterns, ROT13_HINT } from './detectors/injection.js';
import { classifyInjection } from './detectors/classifier.js';
import { SECRET_PATTERNS } from './detectors/secrets.js';
import { PII_PATTERNS } from './detectors/pii.js';
import { exfiltrationPatterns, type ExfilOptions } from './detectors/exfiltration.js';
import { excerptOf } from './excerpt.js';
import { decodeLayers, mapSpan, normalizeText, type Normalized } from './normalize.js';
import { profileText, type TextProfile } from './profile.js';
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
  /** Run the trained injection classifier on text scanned for injection (default true; never on tool descriptions). */
  classifier?: boolean;
}

const DECODE_BUDGET = 32_768;
const DECODE_TOKENS = 64;
// Text that needs more decoding than the budget allows hides what it carries: that is a signal
// of its own (below the default block threshold alone; with anything else it tips the risk).
const BUDGET_EXHAUSTED_SCORE = 55;
const DECODED_INJECTION_BONUS = 5; // hiding an instruction in an encoding is itself a signal
const INDIRECT_BONUS = 10; // instructions inside tool output were not written by the user

const defaultExfil = exfiltrationPatterns();

interface Ctx {
  path: string;
  out: Finding[];
  classifier: boolean;
}

/** Runs patterns over `text`; `place` turns a match range into a span in the original part. */
function run(
  patterns: readonly Pattern[],
  text: string,
  profile: TextProfile,
  ctx: Ctx,
  place: (start: number, end: number) => { start: number; end: number },
  extra: { encoding?: string; bonus?: number } = {},
): void {
  for (const pat of patterns) {
    if (pat.gate && !pat.gate(profile)) continue;
    if (pat.literals && !pat.literals.some((l) => text.includes(l))) continue;
    const re = pat.re;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      if (pat.validate && !pat.validate(m)) continue;
      const at = locate(pat, text, m);
      if (!at) continue;
      const reported = text.slice(at.start, at.end);
      const span = place(at.start, at.end);
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

/** The reported range of a match: the capture group, a located span, or the whole match. */
export function locate(pat: Pattern, text: string, m: RegExpExecArray): { start: number; end: number } | null {
  if (pat.locate) return pat.locate(text, m);
  if (pat.group === undefined) return { start: m.index, end: m.index + m[0].length };
  const g = m[pat.group] ?? m[0];
  const start = m.index + Math.max(0, m[0].lastIndexOf(g));
  return { start, end: start + g.length };
}

function runInjection(
  text: string,
  profile: TextProfile,
  ctx: Ctx,
  place: (s: number, e: number) => { start: number; end: number },
  extra: { encoding?: string; bonus?: number },
): void {
  const n: Normalized = normalizeText(text);
  const toOriginal = (s: number, e: number) => {
    const m = mapSpan(n, s, e);
    return place(m.start, m.end);
  };
  if (ctx.classifier) classifierFinding(n.text, ctx, toOriginal, extra.encoding);
  // ASCII text normalises to itself: reuse its profile instead of a second pass.
  const np = n.text === text ? profile : profileText(n.text);
  const patterns = activeInjectionPatterns(np);
  if (patterns.length === 0) return;
  run(patterns, n.text, np, ctx, toOriginal, extra);
}

/**
 * The trained classifier's finding (detectors/classifier.ts): its best-scoring window of the
 * normalised text. No indirect or decoding bonus: the model already weighs what the text says,
 * and its threshold was fitted without one.
 */
function classifierFinding(text: string, ctx: Ctx, place: (s: number, e: number) => { start: number; end: number }, encoding?: string): void {
  const hit = classifyInjection(text);
  if (!hit) return;
  const span = place(hit.start, hit.end);
  ctx.out.push({
    category: 'prompt_injection',
    detector: 'injection.classifier',
    score: hit.score,
    span: { path: ctx.path, start: span.start, end: span.end },
    excerpt: excerptOf('prompt_injection', text.slice(hit.start, hit.end)),
    ...(encoding ? { encoding } : {}),
  });
}

// Unicode tag characters (U+E0020-U+E007E) render as nothing: a run of them is text hidden from
// the reader. Flags use at most 6 (black flag + 5 tags + cancel), so 8 or more is hidden text.
// Added from the real-corpus training split (garak's goodside.Tag probe). Linear: one fixed
// two-unit class, repeated.
const HIDDEN_TAG_RUN = /(?:\uDB40[\uDC20-\uDC7E]){8,}/g;
const HIDDEN_TAG_SCORE = 75;

function hiddenTagText(text: string, ctx: Ctx, bonus: number): void {
  if (!text.includes('\uDB40')) return;
  HIDDEN_TAG_RUN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = HIDDEN_TAG_RUN.exec(text))) {
    ctx.out.push({
      category: 'prompt_injection',
      detector: 'injection.indirect_injection.hidden_tag_text',
      score: Math.min(100, HIDDEN_TAG_SCORE + bonus),
      span: { path: ctx.path, start: m.index, end: m.index + m[0].length },
      excerpt: `[${m[0].length / 2} invisible Unicode tag characters]`,
    });
  }
  HIDDEN_TAG_RUN.lastIndex = 0;
}

export function scanText(text: string, opts: ScanTextOptions = {}): Finding[] {
  // Tool descriptions get the patterns only: they come with the app (or its MCP servers) on every
  // request, so a classifier false positive there would block the app outright, and the model
  // has seen few benign ones.
  const ctx: Ctx = { path: opts.path ?? 'text', out: [], classifier: opts.classifier !== false && opts.source !== 'tool_definition' };
  if (text.length === 0) return ctx.out;
  const answer = opts.direction === 'answer';
  const source = opts.source ?? (answer ? 'assistant' : 'user');
  const injection = !answer && (source !== 'system' || opts.injectionInSystem === true);
  const indirect = source === 'tool_result' || source === 'other' ? INDIRECT_BONUS : 0;
  const identity = (start: number, end: number) => ({ start, end });

  const profile = profileText(text);
  run(SECRET_PATTERNS, text, profile, ctx, identity);
  run(PII_PATTERNS, text, profile, ctx, identity);
  if (opts.customPatterns?.length) run(opts.customPatterns, text, profile, ctx, identity);
  if (answer) run(opts.exfil ? exfiltrationPatterns(opts.exfil) : defaultExfil, text, profile, ctx, identity);
  if (injection) {
    runInjection(text, profile, ctx, identity, { bonus: indirect });
    hiddenTagText(text, ctx, indirect);
  }

  const depth = opts.decodeDepth ?? 2;
  if (depth > 0) {
    const budget = { left: DECODE_BUDGET };
    scanLayers(text, profile, ctx, depth, null, '', budget, injection, indirect);
  }
  return dedupe(ctx.out);
}

function scanLayers(
  text: string,
  profile: TextProfile,
  ctx: Ctx,
  depthLeft: number,
  region: { start: number; end: number } | null,
  chain: string,
  budget: { left: number },
  injection: boolean,
  indirect: number,
): void {
  if (depthLeft <= 0 || budget.left <= 0) return;
  // More encoded runs than can be decoded: the last ones first (an attack after harmless
  // padding), then the first ones; what is left undecoded is reported.
  const all = profile.longTokens;
  const picked = all.length > DECODE_TOKENS ? [...all.slice(-DECODE_TOKENS / 2), ...all.slice(0, DECODE_TOKENS / 2)] : all;
  const before = budget.left;
  const layers = decodeLayers(text, { maxChars: budget.left, maxTokens: DECODE_TOKENS }, { profile, tokens: picked, rot13: injection && ROT13_HINT.test(text) });
  const decoded = layers.reduce((n, l) => n + l.text.length, 0);
  if (injection && region === null && (all.length > DECODE_TOKENS || decoded >= before)) {
    const skipped = all.length > DECODE_TOKENS ? all.slice(DECODE_TOKENS / 2, -DECODE_TOKENS / 2) : [];
    const span = skipped.length ? { start: skipped[0][0], end: skipped[skipped.length - 1][1] } : { start: 0, end: text.length };
    ctx.out.push({
      category: 'prompt_injection',
      detector: 'injection.decode_budget_exhausted',
      score: BUDGET_EXHAUSTED_SCORE,
      span: { path: ctx.path, ...span },
      excerpt: `[more encoded text than the shield decodes: ${all.length} encoded runs, ${decoded} characters decoded]`,
    });
  }
  for (const layer of layers) {
    budget.left -= layer.text.length;
    const outer = region ?? { start: layer.start, end: layer.end };
    const place = () => outer;
    const encoding = chain ? `${chain}>${layer.encoding}` : layer.encoding;
    const lp = profileText(layer.text);
    run(SECRET_PATTERNS, layer.text, lp, ctx, place, { encoding });
    if (injection) runInjection(layer.text, lp, ctx, place, { encoding, bonus: DECODED_INJECTION_BONUS + indirect });
    scanLayers(layer.text, lp, ctx, depthLeft - 1, outer, encoding, budget, injection, indirect);
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
