/**
 * Redaction of streamed answers. Text deltas go in; text that can no longer be part of a
 * match comes out. Held back, per active pattern: from the start of a match that may still be
 * in progress, i.e. from a (partial) literal near the end of the buffer (for a pattern that
 * cannot span white space, from the start of that word; otherwise up to its maxSpan before
 * it), the last maxSpan characters for a pattern without literals, and any match still
 * touching the end of the buffer, since it may grow with the next delta (at most MAX_HOLD).
 * Everything else is emitted at once.
 *
 * Work is linear in the streamed text: literals are searched only in the tail, a word is
 * walked back at most maxSpan characters, and the held buffer is rescanned only once the text
 * pushed since the last scan is at least half as long as what that scan held back. Plain text
 * holds (almost) nothing back, so it is scanned, and leaves, delta by delta; a long private
 * key or adversarial text streamed one character at a time is scanned in batches instead of
 * once per character (its release is later by at most half the held length).
 */
import { SECRET_PATTERNS } from './detectors/secrets.js';
import { PII_PATTERNS } from './detectors/pii.js';
import { exfiltrationPatterns } from './detectors/exfiltration.js';
import { excerptOf } from './excerpt.js';
import { locate } from './scan-text.js';
import { customPatternsOf, defaultGuardPolicy, redactsInStream, type GuardPolicy, type RedactionStyle } from './policy.js';
import { redactString, type RedactOptions } from './redact.js';
import type { Category, Finding, Pattern } from './types.js';

/** A match may hold the stream back at most this long (a PEM key body is ~3.3 KB). */
const MAX_HOLD = 8_192;
/** While text is held, deltas are scanned together until at least this many characters came in. */
const MIN_BATCH = 8;
/** How far back the last word is looked for (longer words: the patterns' own maxSpan applies). */
const MAX_WORD = 1_024;

export interface StreamRedactor {
  /** Feeds one text delta; returns the text that is safe to emit now (possibly ''). */
  push(delta: string): string;
  /** End of stream: returns everything still held, redacted. */
  flush(): string;
  /** Findings so far; offsets are positions in the whole streamed text, path `stream`. */
  readonly findings: readonly Finding[];
  /** The longest maxSpan of the active patterns: at most this much plain text waits (a growing match may hold more, up to 8 KB). */
  readonly holdback: number;
}

export interface StreamRedactorOptions extends RedactOptions {
  /** Span path reported in findings (e.g. `choices[0].delta.content`). */
  path?: string;
}

interface Hit {
  /** The whole match. */
  start: number;
  end: number;
  /** The part to redact (the reported group, or the whole match). */
  rStart: number;
  rEnd: number;
  valid: boolean;
  pattern: Pattern;
  text: string;
}

function activePatterns(policy: GuardPolicy): Array<{ pattern: Pattern; style: RedactionStyle }> {
  if (!policy.enabled) return [];
  const style = (c: Category) => policy.categories[c].style ?? policy.redactionStyle;
  const all: Pattern[] = [...SECRET_PATTERNS, ...PII_PATTERNS, ...exfiltrationPatterns({ allowedHosts: policy.allowedLinkHosts }), ...customPatternsOf(policy)];
  return all.filter((p) => redactsInStream(policy, p.category)).map((pattern) => ({ pattern, style: style(pattern.category) }));
}

/**
 * Whether a pattern's matches may contain white space (conservative: a negated class counts,
 * unless it excludes white space itself, as `[^\s@]` does).
 */
function spansWhitespace(p: Pattern): boolean {
  const src = p.re.source.replace(/\[\^(?:[^\]\\]|\\.)*\\s(?:[^\]\\]|\\.)*\]/g, '');
  return /\\s|\\n|\\r| |\[\^/.test(src);
}

const WS = /\s/;

/**
 * Index just after the last white space before `i` (where a token containing `i` starts),
 * looking back at most `limit` characters: a match that started further back has been
 * recognised already and is held as a growing match.
 */
function tokenStart(buf: string, i: number, limit: number): number {
  let j = i;
  const stop = Math.max(0, i - limit);
  while (j > stop && !WS.test(buf[j - 1])) j--;
  return j;
}

/** What the hold-back needs to know of one active pattern, worked out once per policy. */
interface Plan {
  p: Pattern;
  spans: boolean;
  literals: readonly string[] | null;
  lead: number;
}

/** A proper prefix of one pattern's literal: a buffer ending in it may end in a cut literal. */
interface Prefix {
  plan: Plan;
  text: string;
}

/** Everything a redactor of one policy shares with every other: compiled once per policy object. */
interface Compiled {
  active: Array<{ pattern: Pattern; style: RedactionStyle }>;
  plans: Plan[];
  /** Every proper literal prefix, by its last character (most characters never end one). */
  prefixesByLast: Map<string, Prefix[]>;
  holdback: number;
  styleOf: Map<Pattern, RedactionStyle>;
}

// Policies are long-lived objects (the default, or the policy book's cached merges), and
// building the plans costs ~200 us: once per policy, not once per stream channel. Shared
// regexes are safe: every scan is synchronous and resets lastIndex.
const compiledPolicies = new WeakMap<GuardPolicy, Compiled>();

function compile(policy: GuardPolicy): Compiled {
  let c = compiledPolicies.get(policy);
  if (c) return c;
  const active = activePatterns(policy);
  const plans = active.map(({ pattern: p }): Plan => ({ p, spans: spansWhitespace(p), literals: p.literals ?? null, lead: p.lead ?? p.maxSpan }));
  const prefixesByLast = new Map<string, Prefix[]>();
  for (const plan of plans) {
    for (const lit of plan.literals ?? []) {
      for (let k = 1; k < lit.length; k++) {
        const text = lit.slice(0, k);
        const list = prefixesByLast.get(text[k - 1]);
        if (list) list.push({ plan, text });
        else prefixesByLast.set(text[k - 1], [{ plan, text }]);
      }
    }
  }
  c = {
    active,
    plans,
    prefixesByLast,
    holdback: active.reduce((h, a) => Math.max(h, a.pattern.maxSpan), 0),
    styleOf: new Map(active.map((a) => [a.pattern, a.style])),
  };
  compiledPolicies.set(policy, c);
  return c;
}

/** Where a match containing the literal at `i` may start: `lead` before it, and for a pattern that cannot span white space, no further back than the word it is in. */
function matchFrom(plan: Plan, buf: string, i: number): number {
  return plan.spans ? Math.max(0, i - plan.lead) : tokenStart(buf, i, plan.lead);
}

/**
 * How much of `buf` can go out now: everything before the earliest place where a match could
 * still be in progress. Every match contains one of its pattern's literals, so text far from
 * any (partial) literal is released at once instead of waiting for a fixed-size window; a
 * pattern without literals keeps the whole window. Plain loops: this runs on every delta.
 */
function safeCut({ plans, prefixesByLast }: Compiled, buf: string): number {
  let cut = buf.length;
  const end = buf.length;
  // Where the last word starts: a pattern that cannot span white space can only still be
  // growing from there, so its literals are looked for in that word only.
  const word = tokenStart(buf, end, MAX_WORD);
  for (const plan of plans) {
    const { p, spans, literals } = plan;
    if (!literals) {
      cut = Math.min(cut, Math.max(0, end - p.maxSpan));
      continue;
    }
    for (const lit of literals) {
      // Complete occurrences whose match could still grow to the end of the buffer.
      let i = buf.indexOf(lit, spans ? Math.max(0, end - p.maxSpan - lit.length) : Math.max(word, end - p.maxSpan - lit.length));
      while (i !== -1) {
        const growing = spans ? end - i < p.maxSpan : tokenStart(buf, end, end - i) <= i;
        if (growing) cut = Math.min(cut, matchFrom(plan, buf, i));
        i = buf.indexOf(lit, i + 1);
      }
    }
  }
  // A literal cut in half by the chunk boundary: only prefixes ending in the last character
  // can be one. (Every matching prefix is tried; the longest of a literal holds the most.)
  const candidates = end > 0 ? prefixesByLast.get(buf[end - 1]) : undefined;
  if (candidates) {
    for (const { plan, text } of candidates) {
      if (text.length <= end && buf.endsWith(text)) cut = Math.min(cut, matchFrom(plan, buf, end - text.length));
    }
  }
  return cut;
}

function containsAny(text: string, literals: readonly string[]): boolean {
  for (const l of literals) if (text.includes(l)) return true;
  return false;
}

export function createStreamRedactor(policy: GuardPolicy = defaultGuardPolicy, opts: StreamRedactorOptions = {}): StreamRedactor {
  const compiled = compile(policy);
  const { active, holdback, styleOf } = compiled;
  const findings: Finding[] = [];
  const tokens = opts.tokens ?? new Map<string, string>();
  const path = opts.path ?? 'stream';
  let buf = '';
  let emittedChars = 0; // offset of buf[0] in the whole stream
  // What the last scan held back: the buffer is scanned again once as much again has come in.
  let heldAtScan = 0;

  const scan = (): Hit[] => {
    const hits: Hit[] = [];
    for (const { pattern } of active) {
      // The same cheap gate as whole-text scans: a pattern whose literals are absent cannot match.
      if (pattern.literals && !containsAny(buf, pattern.literals)) continue;
      const re = pattern.re;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(buf))) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const at = locate(pattern, buf, m);
        const start = Math.min(m.index, at?.start ?? m.index);
        hits.push({
          start,
          end: m.index + m[0].length,
          rStart: at?.start ?? m.index,
          rEnd: at?.end ?? m.index + m[0].length,
          valid: at !== null && (!pattern.validate || pattern.validate(m)),
          pattern,
          text: at ? buf.slice(at.start, at.end) : m[0],
        });
      }
      re.lastIndex = 0;
    }
    return hits;
  };

  const emit = (cut: number, hits: Hit[]): string => {
    const spans: Array<{ start: number; end: number; detector: string; style: RedactionStyle }> = [];
    for (const h of hits) {
      if (!h.valid || h.end > cut) continue;
      const { rStart: start, rEnd: end } = h;
      spans.push({ start, end, detector: h.pattern.id, style: styleOf.get(h.pattern) ?? 'mask' });
      findings.push({
        category: h.pattern.category,
        detector: h.pattern.id,
        score: h.pattern.score,
        span: { path, start: emittedChars + start, end: emittedChars + end },
        excerpt: excerptOf(h.pattern.category, h.text),
      });
    }
    const out = redactString(buf.slice(0, cut), spans, opts, tokens);
    buf = buf.slice(cut);
    emittedChars += cut;
    return out;
  };

  return {
    holdback,
    get findings() {
      return findings;
    },
    push(delta: string): string {
      if (!delta) return '';
      buf += delta;
      if (active.length === 0) return emit(buf.length, []);
      // Nothing held: scan now (plain text leaves delta by delta); something held: in batches.
      if (heldAtScan > 0 && buf.length - heldAtScan < Math.max(MIN_BATCH, heldAtScan >> 1)) return '';
      let cut = safeCut(compiled, buf);
      if (cut === 0) {
        heldAtScan = buf.length;
        return '';
      }
      const hits = scan();
      // A match touching the end may still grow; one crossing the cut must go out whole.
      // Moving the cut back can make another match cross it, so repeat until stable.
      for (let moved = true; moved; ) {
        moved = false;
        for (const h of hits) {
          const touching = h.end >= buf.length && buf.length - h.start <= MAX_HOLD;
          if (h.start < cut && (touching || h.end > cut)) {
            cut = h.start;
            moved = true;
          }
        }
      }
      const out = cut > 0 ? emit(cut, hits) : '';
      heldAtScan = buf.length;
      return out;
    },
    flush(): string {
      if (!buf) return '';
      return emit(buf.length, scan());
    },
  };
}
