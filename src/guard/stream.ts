/**
 * Redaction of streamed answers. Text deltas go in; text that can no longer be part of a
 * match comes out. Held back: the last H characters (H = the longest span any active pattern
 * needs before it is recognised) and any match still touching the end of the buffer, since it
 * may grow with the next delta. Everything else is emitted at once.
 */
import { SECRET_PATTERNS } from './detectors/secrets.js';
import { PII_PATTERNS } from './detectors/pii.js';
import { exfiltrationPatterns } from './detectors/exfiltration.js';
import { excerptOf } from './excerpt.js';
import { locate } from './scan-text.js';
import { customPatternsOf, defaultGuardPolicy, type GuardPolicy, type RedactionStyle } from './policy.js';
import { redactString, type RedactOptions } from './redact.js';
import type { Category, Finding, Pattern } from './types.js';

/** A match may hold the stream back at most this long (a PEM key body is ~3.3 KB). */
const MAX_HOLD = 8_192;

export interface StreamRedactor {
  /** Feeds one text delta; returns the text that is safe to emit now (possibly ''). */
  push(delta: string): string;
  /** End of stream: returns everything still held, redacted. */
  flush(): string;
  /** Findings so far; offsets are positions in the whole streamed text, path `stream`. */
  readonly findings: readonly Finding[];
  /** The hold-back H in characters. */
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
  // In a stream, `block` cannot un-send earlier text, so it redacts like `redact`.
  const acts = (c: Category) => policy.categories[c].action === 'redact' || policy.categories[c].action === 'block';
  const style = (c: Category) => policy.categories[c].style ?? policy.redactionStyle;
  const all: Pattern[] = [...SECRET_PATTERNS, ...PII_PATTERNS, ...exfiltrationPatterns({ allowedHosts: policy.allowedLinkHosts }), ...customPatternsOf(policy)];
  return all.filter((p) => acts(p.category)).map((pattern) => ({ pattern, style: style(pattern.category) }));
}

/** Whether a pattern's matches may contain white space (conservative: negated classes count). */
function spansWhitespace(p: Pattern): boolean {
  return /\\s|\\n|\\r| |\[\^/.test(p.re.source);
}

const WS = /\s/;

/** Index just after the last white space before `i` (where a token containing `i` starts). */
function tokenStart(buf: string, i: number): number {
  let j = i;
  while (j > 0 && !WS.test(buf[j - 1])) j--;
  return j;
}

/**
 * How much of `buf` can go out now: everything before the earliest place where a match could
 * still be in progress. Every match contains one of its pattern's literals, so text far from
 * any (partial) literal is released at once instead of waiting for a fixed-size window; a
 * pattern without literals keeps the whole window.
 */
function makeSafeCut(patterns: readonly Pattern[]): (buf: string) => number {
  const plans = patterns.map((p) => ({ p, spans: spansWhitespace(p), literals: p.literals ?? null }));
  return (buf) => {
    let cut = buf.length;
    const end = buf.length;
    for (const { p, spans, literals } of plans) {
      if (!literals) {
        cut = Math.min(cut, Math.max(0, end - p.maxSpan));
        continue;
      }
      const from = spans ? (i: number) => Math.max(0, i - p.maxSpan) : (i: number) => tokenStart(buf, i);
      for (const lit of literals) {
        // Complete occurrences whose match could still grow to the end of the buffer.
        let i = buf.indexOf(lit, Math.max(0, end - p.maxSpan - lit.length));
        while (i !== -1) {
          const growing = spans ? end - i < p.maxSpan : !WS.test(buf.slice(i));
          if (growing) cut = Math.min(cut, from(i));
          i = buf.indexOf(lit, i + 1);
        }
        // A literal cut in half by the chunk boundary.
        for (let k = Math.min(lit.length - 1, end); k > 0; k--) {
          if (buf.endsWith(lit.slice(0, k))) {
            cut = Math.min(cut, from(end - k));
            break;
          }
        }
      }
    }
    return cut;
  };
}

export function createStreamRedactor(policy: GuardPolicy = defaultGuardPolicy, opts: StreamRedactorOptions = {}): StreamRedactor {
  const active = activePatterns(policy);
  const safeCut = makeSafeCut(active.map((a) => a.pattern));
  const holdback = active.reduce((h, a) => Math.max(h, a.pattern.maxSpan), 0);
  const styleOf = new Map(active.map((a) => [a.pattern, a.style]));
  const findings: Finding[] = [];
  const tokens = opts.tokens ?? new Map<string, string>();
  const path = opts.path ?? 'stream';
  let buf = '';
  let emittedChars = 0; // offset of buf[0] in the whole stream

  const scan = (): Hit[] => {
    const hits: Hit[] = [];
    for (const { pattern } of active) {
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
      let cut = safeCut(buf);
      if (cut === 0) return '';
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
      return cut > 0 ? emit(cut, hits) : '';
    },
    flush(): string {
      if (!buf) return '';
      return emit(buf.length, scan());
    },
  };
}
