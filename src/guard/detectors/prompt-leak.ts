/**
 * System prompt leaking back in an answer: word n-grams of the system prompt that reappear
 * in the answer. Verbatim runs are what matter; paraphrases are not caught (documented).
 */
import type { Finding } from '../types.js';

const N = 6;
const WORD = /[\p{L}\p{N}][\p{L}\p{N}'_\-]*/gu;

interface Word {
  w: string;
  start: number;
  end: number;
}

function words(text: string): Word[] {
  const out: Word[] = [];
  WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = WORD.exec(text))) out.push({ w: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length });
  return out;
}

/** Precomputed n-gram set of a system prompt; build once per request, reuse for every chunk. */
export interface PromptFingerprint {
  grams: Set<string>;
  wordCount: number;
}

export function fingerprintPrompt(systemPrompt: string): PromptFingerprint {
  const ws = words(systemPrompt);
  const grams = new Set<string>();
  for (let i = 0; i + N <= ws.length; i++) grams.add(ws.slice(i, i + N).map((x) => x.w).join(' '));
  return { grams, wordCount: ws.length };
}

/**
 * Spans of the answer covered by n-grams of the system prompt. One finding per merged run;
 * the score rises with the share of the system prompt that was reproduced.
 */
export function detectPromptLeak(answer: string, fp: PromptFingerprint, path: string): Finding[] {
  if (fp.grams.size === 0) return [];
  const ws = words(answer);
  const runs: Array<{ from: number; to: number }> = [];
  for (let i = 0; i + N <= ws.length; i++) {
    const g = ws.slice(i, i + N).map((x) => x.w).join(' ');
    if (!fp.grams.has(g)) continue;
    const last = runs[runs.length - 1];
    if (last && i <= last.to) last.to = i + N;
    else runs.push({ from: i, to: i + N });
  }
  if (runs.length === 0) return [];
  const covered = runs.reduce((n, r) => n + (r.to - r.from), 0);
  const share = covered / Math.max(fp.wordCount, 1);
  // Short prompts leak entirely in one run; long ones leak in pieces. Either way, more is worse.
  const score = Math.min(95, Math.round(50 + share * 60 + Math.min(covered, 60) / 3));
  return runs.map((r) => ({
    category: 'system_prompt_leak' as const,
    detector: 'leak.system_prompt_ngram',
    score,
    span: { path, start: ws[r.from].start, end: ws[r.to - 1].end },
    excerpt: `[${r.to - r.from} words of the system prompt]`,
  }));
}
