/**
 * A small trained detector for prompt injection and jailbreaks, for what patterns miss: persona
 * templates ("you are John, not bound by any restrictions"), tool output that asks the agent to
 * print a marker, short extraction requests. Logistic regression over the words, word bigrams
 * and character 4-grams of the normalised text, trained by `npm run train:guard`
 * (eval/guard/train.ts) on the training split only; the weights are the generated module
 * ./classifier-model.ts (n-gram text -> weight, readable).
 *
 * A text is scored in windows of WINDOW tokens, STRIDE apart, and the best window wins, so an
 * injection buried in a long document is not diluted by the text around it. A window's score is
 * bias + (sum of the weights of the distinct features present) / sqrt(number of features +
 * SMOOTHING), so repeating a sentence does not inflate it, and a text of one or two tokens
 * ("SECRET-PROMPT-TEXT") cannot reach the block level on the strength of a few heavy n-grams:
 * the smoothing count (chosen by cross-validation, stored in the model) pulls short texts
 * toward the bias.
 *
 * Linear in the input and allocation-free per call: one pass tokenises, hashes every feature and
 * looks it up in an open-addressing table (typed arrays); each token is visited once more per
 * window covering it (at most twice). `featuresOf` is the plain reference the trainer uses; a
 * unit test checks that both score alike.
 */
import { MODEL } from './classifier-model.js';

/** Tokens per scored window, and the step between windows. */
export const WINDOW = 128;
export const STRIDE = 64;
/** Character n-gram length (n-grams of each word padded with a space on both sides: " you", "you "); gramHash takes four. */
export const CHAR_N = 4;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const CHAR_SEED = 0x2545f491;
const SPACE = 32;

// Letters and digits (ASCII lowercased) and non-ASCII letters are word characters; ASCII
// punctuation, whitespace, general punctuation and symbols (U+2000-U+2BFF), surrogates (emoji)
// and a few spaces separate words.
function wordCode(c: number): number {
  if (c >= 97 && c <= 122) return c;
  if (c >= 65 && c <= 90) return c + 32;
  if (c >= 48 && c <= 57) return c;
  if (c < 0xc0 || (c >= 0x2000 && c <= 0x2bff) || (c >= 0xd800 && c <= 0xdfff) || c === 0x3000 || c === 0xfeff) return -1;
  return c;
}

const mix = (h: number, c: number): number => Math.imul(h ^ c, FNV_PRIME) >>> 0;

/** Hash of a character 4-gram from its four (lowercased) UTF-16 codes. */
function gramHash(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(((a << 16) | b) ^ CHAR_SEED, 0x85ebca6b) ^ ((c << 16) | d);
  h = Math.imul(h ^ (h >>> 15), 0xc2b2ae35);
  return (h ^ (h >>> 13)) >>> 0;
}

/** Hash of a bigram from its two word hashes. */
export const pairHash = (a: number, b: number): number => (Math.imul(a ^ 0x9e3779b9, FNV_PRIME) ^ b) >>> 0;

/** Hash of a vocabulary entry: a word, two words separated by a space, or "~" and a character n-gram. */
export function ngramHash(ngram: string): number {
  if (ngram.startsWith('~')) {
    const c = [1, 2, 3, 4].map((k) => (ngram.charCodeAt(k) === SPACE ? SPACE : wordCode(ngram.charCodeAt(k))));
    return gramHash(c[0], c[1], c[2], c[3]);
  }
  const words = ngram.split(' ').map((w) => {
    let h = FNV_OFFSET;
    for (let k = 0; k < w.length; k++) h = mix(h, wordCode(w.charCodeAt(k)));
    return h;
  });
  return words.length === 1 ? words[0] : pairHash(words[0], words[1]);
}

export interface TokenFeatures {
  /** Each token's text (ASCII-lowercased) and UTF-16 range. */
  words: string[];
  starts: number[];
  ends: number[];
  /** Feature hashes and texts of token i: its word, the bigram ending at it (i > 0), its character n-grams. */
  hashes: number[][];
  texts: string[][];
}

/** The reference featuriser (plain arrays, feature texts included): what the trainer and tests use. */
export function featuresOf(text: string): TokenFeatures {
  const out: TokenFeatures = { words: [], starts: [], ends: [], hashes: [], texts: [] };
  let start = -1;
  let word = '';
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? wordCode(text.charCodeAt(i)) : -1;
    if (c >= 0) {
      if (start < 0) start = i;
      word += String.fromCharCode(c);
      continue;
    }
    if (start < 0) continue;
    const t = out.words.length;
    const hs = [ngramHash(word)];
    const ts = [word];
    if (t > 0) {
      hs.push(pairHash(out.hashes[t - 1][0], hs[0]));
      ts.push(`${out.words[t - 1]} ${word}`);
    }
    const padded = ` ${word} `;
    for (let k = 0; k + CHAR_N <= padded.length; k++) {
      const g = `~${padded.slice(k, k + CHAR_N)}`;
      hs.push(ngramHash(g));
      ts.push(g);
    }
    out.words.push(word);
    out.starts.push(start);
    out.ends.push(i);
    out.hashes.push(hs);
    out.texts.push(ts);
    start = -1;
    word = '';
  }
  return out;
}

/** Token windows [from, to) that cover n tokens: one when short, else every STRIDE tokens. */
export function windows(n: number): Array<[number, number]> {
  if (n <= WINDOW) return [[0, n]];
  const out: Array<[number, number]> = [];
  for (let from = 0; ; from += STRIDE) {
    const to = Math.min(n, from + WINDOW);
    out.push([from, to]);
    if (to === n) break;
  }
  return out;
}

/** The trained weights in an open-addressing hash table (typed arrays: no allocation per lookup). */
export class WeightTable {
  readonly bias: number;
  readonly threshold: number;
  /** Added to a window's feature count before the square root (see the module comment). */
  readonly smoothing: number;
  readonly size: number;
  private readonly keys: Uint32Array;
  private readonly used: Uint8Array;
  /** One byte per low 16 bits of a hash: most features are not in the model and stop here. */
  private readonly present = new Uint8Array(1 << 16);
  readonly values: Float64Array;
  private readonly shift: number;

  constructor(bias: number, threshold: number, weights: Iterable<[number, number]>, smoothing = 0) {
    const entries = [...weights];
    let bits = 4;
    while (1 << bits < entries.length * 2) bits++;
    this.size = 1 << bits;
    this.shift = 32 - bits;
    this.keys = new Uint32Array(this.size);
    this.used = new Uint8Array(this.size);
    this.values = new Float64Array(this.size);
    this.bias = bias;
    this.threshold = threshold;
    this.smoothing = smoothing;
    for (const [h, w] of entries) {
      let s = this.home(h);
      while (this.used[s] && this.keys[s] !== h) s = (s + 1) & (this.size - 1);
      this.used[s] = 1;
      this.keys[s] = h;
      this.present[h & 0xffff] = 1;
      this.values[s] += w;
    }
  }

  private home(h: number): number {
    return Math.imul(h, 0x9e3779b1) >>> this.shift;
  }

  /** The slot holding hash h, or -1. */
  slot(h: number): number {
    if (this.present[h & 0xffff] === 0) return -1;
    let s = this.home(h);
    while (this.used[s]) {
      if (this.keys[s] === h) return s;
      s = (s + 1) & (this.size - 1);
    }
    return -1;
  }

  static fromNgrams(bias: number, threshold: number, weights: Record<string, number>, smoothing = 0): WeightTable {
    return new WeightTable(bias, threshold, Object.entries(weights).map(([k, w]) => [ngramHash(k), w]), smoothing);
  }
}

let compiled: WeightTable | undefined;

/** The committed model, hashed once. */
export function defaultModel(): WeightTable {
  compiled ??= WeightTable.fromNgrams(MODEL.bias, MODEL.threshold, MODEL.weights, MODEL.smoothing);
  return compiled;
}

export interface WindowScore {
  /** Log-odds that the window is an attack. */
  z: number;
  /** UTF-16 range of the window in the scanned text. */
  start: number;
  end: number;
  /** Tokens in the window. */
  words: number;
}

// Scratch buffers reused across calls (grown on demand): token ranges, per-token feature counts,
// and the table slots each token's features hit. `stamp` marks a slot as counted in a window.
let cap = 0;
let tokStart = new Int32Array(0);
let tokEnd = new Int32Array(0);
let featCount = new Int32Array(0);
let hitFrom = new Int32Array(0);
let hits = new Int32Array(0);
let lower = new Int32Array(0);
let stamp = new Int32Array(0);
let stampTable: WeightTable | undefined;
let stampId = 0;

function reserve(chars: number): void {
  if (chars <= cap) return;
  cap = Math.max(chars, cap * 2, 256);
  tokStart = new Int32Array(cap + 1);
  tokEnd = new Int32Array(cap + 1);
  featCount = new Int32Array(cap + 1);
  hitFrom = new Int32Array(cap + 2);
  // A token of length L has L + 1 features and needs a separator: at most 1.5 features per character.
  hits = new Int32Array(2 * cap + 8);
  lower = new Int32Array(cap + 2);
}

/** The highest-scoring window of `text`, or null when it has no words. */
export function bestWindow(text: string, model: WeightTable = defaultModel()): WindowScore | null {
  reserve(text.length);
  if (stampTable !== model) {
    stamp = new Int32Array(model.size);
    stampTable = model;
  }
  // Pass 1: tokens, their feature counts and the slots their features hit.
  let n = 0;
  let nh = 0;
  let start = -1;
  let h = FNV_OFFSET;
  let prev = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? wordCode(text.charCodeAt(i)) : -1;
    if (c >= 0) {
      if (start < 0) {
        start = i;
        h = FNV_OFFSET;
      }
      h = mix(h, c);
      lower[i + 1] = c;
      continue;
    }
    if (start < 0) continue;
    hitFrom[n] = nh;
    let s = model.slot(h);
    if (s >= 0) hits[nh++] = s;
    let count = 1;
    if (n > 0) {
      s = model.slot(pairHash(prev, h));
      if (s >= 0) hits[nh++] = s;
      count++;
    }
    // Character n-grams of the word padded with spaces: positions start-1 .. i (i exclusive end).
    // lower[j + 1] holds char j's code; the slots just before and after the word become the padding spaces.
    lower[start] = SPACE;
    lower[i + 1] = SPACE;
    for (let k = start; k + CHAR_N <= i + 2; k++) {
      s = model.slot(gramHash(lower[k], lower[k + 1], lower[k + 2], lower[k + 3]));
      if (s >= 0) hits[nh++] = s;
      count++;
    }
    featCount[n] = count;
    tokStart[n] = start;
    tokEnd[n] = i;
    prev = h;
    n++;
    start = -1;
  }
  hitFrom[n] = nh;
  if (n === 0) return null;
  // Pass 2: each window sums the weights of its distinct features.
  let best: WindowScore | null = null;
  for (const [from, to] of windows(n)) {
    if (++stampId >= 0x7fffffff) {
      stamp.fill(0);
      stampId = 1;
    }
    let sum = 0;
    let count = 0;
    for (let t = from; t < to; t++) {
      count += featCount[t];
      for (let k = hitFrom[t]; k < hitFrom[t + 1]; k++) {
        const slot = hits[k];
        if (stamp[slot] === stampId) continue;
        stamp[slot] = stampId;
        sum += model.values[slot];
      }
    }
    const z = model.bias + sum / Math.sqrt(count + model.smoothing);
    if (!best || z > best.z) best = { z, start: tokStart[from], end: tokEnd[to - 1], words: to - from };
  }
  return best;
}

// Finding scores: 70 (the default block threshold) at the trained threshold, 10 points per unit
// of log-odds around it, reported from 50 (logged; blocks only with another detector agreeing)
// and capped at 95 (a statistical signal is never certain).
const SCORE_AT_THRESHOLD = 70;
const POINTS_PER_LOGIT = 10;
export const MIN_REPORTED = 50;
const MAX_SCORE = 95;
/**
 * Minimum evidence: a text of fewer words than this is never blocked by the classifier alone
 * (its score is held under the block level; it is still reported and adds to the risk of a
 * pattern finding). One to three tokens (a smoke-test prompt, a placeholder, a product code)
 * are too little text for a bag of n-grams. Chosen on the training split: every training attack
 * of fewer than 9 words is blocked by a pattern, so the cap costs no training recall.
 */
export const MIN_WORDS_TO_BLOCK = 4;
const BELOW_BLOCK = SCORE_AT_THRESHOLD - 1;
/**
 * Minimum evidence to report: the window must score at least this many logits above the bias
 * (what a text without any attack n-gram scores). The step-10 model's bias sits only 0.4 logits
 * under the report level, so a short greeting or a decoded config blob was logged as a finding;
 * the step-9 model's report level sat 2.2 logits above its bias. Never affects a block: the
 * trained threshold is more than this above the bias (checked by classifier.test).
 */
export const MIN_EVIDENCE_LOGITS = 2;

export function scoreOf(z: number, threshold: number): number {
  return Math.min(MAX_SCORE, Math.round(SCORE_AT_THRESHOLD + POINTS_PER_LOGIT * (z - threshold)));
}

export interface ClassifierHit {
  score: number;
  start: number;
  end: number;
}

/** The classifier's finding for a (normalised) text, or null when it scores below MIN_REPORTED. */
export function classifyInjection(text: string): ClassifierHit | null {
  const model = defaultModel();
  const w = bestWindow(text, model);
  if (!w) return null;
  const raw = scoreOf(w.z, model.threshold);
  const score = w.words < MIN_WORDS_TO_BLOCK ? Math.min(raw, BELOW_BLOCK) : raw;
  return score >= MIN_REPORTED && w.z - model.bias >= MIN_EVIDENCE_LOGITS ? { score, start: w.start, end: w.end } : null;
}
