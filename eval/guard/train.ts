/**
 * `npm run train:guard`: trains the injection classifier (src/guard/detectors/classifier.ts) and
 * writes its weights to src/guard/detectors/classifier-model.ts. Deterministic: fixed data order,
 * fixed folds, full-batch optimisation from zero weights, no randomness.
 *
 * Trained ONLY on the training split: real-corpus train entries (see real-corpus.ts for the
 * written split rule; not the benign tool descriptions, which the classifier never scores)
 * and the in-house corpora minus their held-out sets (`held_out`,
 * `held_out_benign`, public.json `test`). Encoded samples (`obfuscated`) are left out: the
 * scanner decodes those layers and scores the decoded text. Hyper-parameters and the decision
 * threshold are chosen by 5-fold cross-validation inside the training split; the held-out split
 * is never read here.
 *
 * `attack-train.json` (public attack texts for training only, duplicates of any eval entry
 * dropped) is in every training fold and never scored out of fold: the cross-validated numbers
 * are measured on the same training attacks with or without it, so they compare.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { featuresOf, ngramHash, windows } from '../../src/guard/detectors/classifier.js';
import { defaultGuardPolicy, evaluate, scanRequest } from '../../src/guard/index.js';
import { normalizeText } from '../../src/guard/normalize.js';
import { loadAttackTrain, loadBenignTrain, loadNearMiss, loadRealCorpus } from './real-corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
const load = <T>(name: string): T => JSON.parse(readFileSync(join(here, 'corpora', name), 'utf8')) as T;
// CLASSIFIER_MODEL_OUT writes the model elsewhere (to compare candidates by cross-validation without touching the shipped one).
const OUT = process.env.CLASSIFIER_MODEL_OUT ?? join(here, '../../src/guard/detectors/classifier-model.ts');

interface Doc {
  label: 0 | 1;
  text: string;
  /** Blocked by the pattern detectors alone: the classifier only has to add to these. */
  patterns: boolean;
  /** Training-only text (attack-train.json): in every training fold, never scored out of fold (fold -1). */
  extra: boolean;
  /** Each window: its distinct feature indices, its feature count and the 1/sqrt(count + smoothing) scale. */
  windows: Array<{ idx: Int32Array; count: number; scale: number }>;
  fold: number;
}

const FOLDS = 5;
/** At most this share of benign training texts may score above the threshold (cross-validated, classifier alone). */
const TARGET_FP = 0.01;
/**
 * Largest weights kept in the committed model (CLASSIFIER_KEEP overrides). 12000: the best
 * cross-validated mean of 1500, 3000, 6000 (step 10) and 12000 (step 11; docs/shield.md history).
 */
const KEEP = Number(process.env.CLASSIFIER_KEEP ?? 12000);
const ITERATIONS = 400;
const LEARNING_RATE = 0.05;
/** L2 strengths tried by cross-validation. */
const LAMBDAS = [1e-6, 1e-5, 1e-4, 1e-3];
/**
 * Smoothing counts tried by cross-validation: added to a window's feature count before the
 * square root, so a text of a few tokens cannot score high on a few heavy n-grams (a one-token
 * test prompt, "SECRET-PROMPT-TEXT", scored 89 with 0). A typical word has ~5 features.
 */
const SMOOTHINGS = [0, 10, 25, 50, 100, 200];
/**
 * Weights tried by cross-validation for each training-only attack text (attack-train.json)
 * relative to a training attack: 0 is the model without them, so they are kept only when they
 * raise the cross-validated recall on the training attacks.
 */
const EXTRA_WEIGHTS = [0, 0.25, 0.5, 1];
/**
 * The attack-train.json groups the trainer uses by default. Measured by cross-validation on the
 * training split (docs/shield.md, history steps 8-9): with every group the best weight was 0
 * (the deepset goal hijacks ask for essays and opinions as benign texts do, and raise benign
 * scores); with the jailbreak templates alone it beat the model without them. Step 10: with the
 * Tensor Trust hijacks added it beat the templates alone; pallms alone and all four step-10
 * groups together got weight 0 (HackAPrompt and grandma were not tried alone).
 */
const ATTACK_TRAIN_GROUPS = ['jailbreakchat_more', 'tensor_trust'];

interface Text {
  text: string;
  asTool: boolean;
}

function trainingTexts(): { attacks: Text[]; extraAttacks: Text[]; benign: Text[]; counts: Record<string, number> } {
  const real = loadRealCorpus().train;
  const inj = load<Record<string, Array<{ text: string }>>>('injection.json');
  const ben = load<Record<string, string[]>>('benign.json');
  const pub = load<{ train: Array<{ text: string }> }>('public.json');
  const inhouseAttacks = Object.entries(inj)
    .filter(([f]) => f !== 'held_out' && f !== 'obfuscated')
    .flatMap(([f, l]) => l.map((i) => ({ text: i.text, asTool: f === 'indirect_injection' })));
  const inhouseBenign = Object.entries(ben)
    .filter(([k]) => k !== 'held_out_benign')
    .flatMap(([, l]) => l.map((text) => ({ text, asTool: false })));
  const real_ = (e: { text: string; asTool?: boolean }) => ({ text: e.text, asTool: e.asTool === true });
  // Benign tool descriptions are left out: the scanner never runs the classifier on a tool
  // description (scan-text.ts), so they would only tighten its threshold for text it never
  // scores. Injection texts stay, whatever channel they were sent in (the same text can arrive
  // as a tool result).
  const scored = (e: { via?: string }) => e.via !== 'tool_definition';
  const attacks = [...real.attacks.map(real_), ...inhouseAttacks, ...pub.train.map((e) => ({ text: e.text, asTool: false }))];
  // More benign training text (issue 6): the near-miss train half (ordinary app prompts in attack
  // vocabulary, including the one-token smoke-test prompts) and public benign text used only for
  // training (benign-train.json, duplicates of any corpus entry dropped).
  const nearMiss = loadNearMiss().train.map(real_);
  const publicBenign = loadBenignTrain().kept.map(real_);
  const benign = [...real.benign.filter(scored).map(real_), ...inhouseBenign, ...nearMiss, ...publicBenign];
  // More attack text (issue 6): public attacks used only for training (attack-train.json, entries
  // repeating any eval entry dropped, held-out sets checked strictly). ATTACK_TRAIN=0 leaves them
  // out, to measure the model without them by the same code.
  // Only the groups in ATTACK_TRAIN_GROUPS (ATTACK_TRAIN_GROUPS=all: every group; =a,b: those).
  const env = process.env.ATTACK_TRAIN_GROUPS;
  const groups = env === 'all' ? undefined : env ? env.split(',') : ATTACK_TRAIN_GROUPS;
  const extraAttacks = process.env.ATTACK_TRAIN === '0' ? [] : loadAttackTrain().kept.filter((e) => !groups || groups.includes(e.group ?? '')).map(real_);
  return {
    attacks,
    extraAttacks,
    benign,
    counts: {
      realAttacks: real.attacks.length,
      realBenign: real.benign.filter(scored).length,
      inhouseAttacks: inhouseAttacks.length,
      publicStyleAttacks: pub.train.length,
      inhouseBenign: inhouseBenign.length,
      nearMissBenign: nearMiss.length,
      publicBenignTrainOnly: publicBenign.length,
      publicAttacksTrainOnly: extraAttacks.length,
    },
  };
}

/** Vocabulary: feature hash -> index, and index -> n-gram text (ASCII-lowercased, as hashed). */
const vocabIndex = new Map<number, number>();
const vocabText: string[] = [];
const vocabHash: number[] = [];


function featurise(text: string, label: 0 | 1, fold: number, asTool: boolean): Doc {
  const tf = featuresOf(normalizeText(text).text);
  const index = (h: number, name: string): number => {
    let j = vocabIndex.get(h);
    if (j === undefined) {
      j = vocabText.length;
      vocabIndex.set(h, j);
      vocabText.push(name);
      vocabHash.push(h);
    }
    return j;
  };
  // A window's features: the distinct features of its tokens, scaled by 1/sqrt(all of them), as bestWindow scores.
  const wins = windows(tf.words.length).map(([from, to]) => {
    const distinct = new Set<number>();
    let count = 0;
    for (let t = from; t < to; t++) {
      tf.hashes[t].forEach((h, k) => distinct.add(index(h, tf.texts[t][k])));
      count += tf.hashes[t].length;
    }
    return { idx: Int32Array.from(distinct), count, scale: 1 / Math.sqrt(count) };
  });
  return { label, text, windows: wins, fold, extra: fold < 0, patterns: blockedByPatterns(text, asTool) };
}

/** Whether the pattern detectors alone (classifier off) block the text under the default policy. */
function blockedByPatterns(text: string, asTool: boolean): boolean {
  const body = asTool
    ? { messages: [{ role: 'user', content: 'Summarise this page.' }, { role: 'tool', tool_call_id: 't', content: text }] }
    : { messages: [{ role: 'user', content: text }] };
  return evaluate(scanRequest(body, { policy: { ...defaultGuardPolicy, classifier: false } }).findings, defaultGuardPolicy).action === 'block';
}

interface Fit {
  w: Float64Array;
  b: number;
}

/**
 * Class-balanced logistic regression with L2, full-batch Adam; windows carry their document's
 * label. A training-only attack text counts `extraWeight` of a training attack.
 */
function fit(docs: Doc[], lambda: number, dims: number, extraWeight: number): Fit {
  const docWeight = (d: Doc) => (d.extra ? extraWeight : 1);
  docs = docs.filter((d) => docWeight(d) > 0);
  const pos = docs.filter((d) => d.label === 1).reduce((a, d) => a + docWeight(d), 0);
  const neg = docs.filter((d) => d.label === 0).length;
  const classWeight = [(pos + neg) / (2 * neg), (pos + neg) / (2 * pos)];
  const w = new Float64Array(dims);
  let b = 0;
  const m = new Float64Array(dims);
  const v = new Float64Array(dims);
  let mb = 0;
  let vb = 0;
  const g = new Float64Array(dims);
  const b1 = 0.9;
  const b2 = 0.999;
  for (let it = 1; it <= ITERATIONS; it++) {
    g.fill(0);
    let gb = 0;
    let total = 0;
    for (const d of docs) {
      const cw = (classWeight[d.label] * docWeight(d)) / d.windows.length;
      for (const win of d.windows) {
        let z = b;
        for (let k = 0; k < win.idx.length; k++) z += w[win.idx[k]] * win.scale;
        const p = 1 / (1 + Math.exp(-z));
        const err = (p - d.label) * cw;
        gb += err;
        for (let k = 0; k < win.idx.length; k++) g[win.idx[k]] += err * win.scale;
        total += cw;
      }
    }
    for (let j = 0; j < dims; j++) {
      const grad = g[j] / total + lambda * w[j];
      m[j] = b1 * m[j] + (1 - b1) * grad;
      v[j] = b2 * v[j] + (1 - b2) * grad * grad;
      w[j] -= (LEARNING_RATE * (m[j] / (1 - b1 ** it))) / (Math.sqrt(v[j] / (1 - b2 ** it)) + 1e-8);
    }
    const gradB = gb / total;
    mb = b1 * mb + (1 - b1) * gradB;
    vb = b2 * vb + (1 - b2) * gradB * gradB;
    b -= (LEARNING_RATE * (mb / (1 - b1 ** it))) / (Math.sqrt(vb / (1 - b2 ** it)) + 1e-8);
  }
  return { w, b };
}

/** Keeps the KEEP largest weights (the committed model carries only those). */
function prune(f: Fit): Fit {
  const order = [...f.w.keys()].sort((a, c) => Math.abs(f.w[c]) - Math.abs(f.w[a]) || a - c);
  const w = new Float64Array(f.w.length);
  for (const j of order.slice(0, KEEP)) w[j] = f.w[j];
  return { w, b: f.b };
}

/** A document's score: its best window, as the scanner scores it. */
function docScore(f: Fit, d: Doc): number {
  let best = -Infinity;
  for (const win of d.windows) {
    let z = f.b;
    for (let k = 0; k < win.idx.length; k++) z += f.w[win.idx[k]] * win.scale;
    if (z > best) best = z;
  }
  return best;
}

/**
 * The lowest threshold at which the shield (patterns, or the classifier at or above it) blocks at
 * most `fp` of the benign texts, never below z=0; benign texts the patterns already block count
 * against the budget.
 */
function thresholdFor(benign: Array<{ z: number; patterns: boolean }>, fp: number): number {
  const allowed = Math.floor(fp * benign.length) - benign.filter((b) => b.patterns).length;
  const sorted = benign.filter((b) => !b.patterns).map((b) => b.z).sort((a, c) => c - a);
  const t = allowed < 0 ? Infinity : (sorted[allowed] ?? -Infinity) + 1e-6;
  return Math.max(0, t);
}

/** Sets every window's scale for a smoothing count (as bestWindow scores). */
function smooth(docs: Doc[], smoothing: number): void {
  for (const d of docs) for (const w of d.windows) w.scale = 1 / Math.sqrt(w.count + smoothing);
}

interface CvResult {
  lambda: number;
  extraWeight: number;
  smoothing: number;
  threshold: number;
  /** Cross-validated recall of patterns or classifier, at FP targets of 1, 2 and 3%. */
  recalls: number[];
  /** The classifier's own cross-validated recall at its own FP of 1, 2 and 3% (patterns ignored): what model selection uses. */
  alone: number[];
  fpRate: number;
  classifierOnly: number;
}

const FP_TARGETS = [0.01, 0.02, 0.03];

function crossValidate(docs: Doc[], lambda: number, smoothing: number, extraWeight: number, dims: number): CvResult {
  smooth(docs, smoothing);
  const oof = new Map<Doc, number>();
  for (let k = 0; k < FOLDS; k++) {
    const f = prune(fit(docs.filter((d) => d.fold !== k), lambda, dims, extraWeight));
    for (const d of docs.filter((x) => x.fold === k)) oof.set(d, docScore(f, d));
  }
  const score = (d: Doc) => ({ z: oof.get(d) ?? 0, patterns: d.patterns });
  const benign = docs.filter((d) => d.label === 0).map(score);
  const attacks = docs.filter((d) => d.label === 1 && !d.extra).map(score);
  const recallAt = (t: number) => attacks.filter((a) => a.patterns || a.z >= t).length / attacks.length;
  const recalls = FP_TARGETS.map((fp) => recallAt(thresholdFor(benign, fp)));
  const noPatterns = (l: Array<{ z: number }>) => l.map((x) => ({ z: x.z, patterns: false }));
  const alone = FP_TARGETS.map((fp) => {
    const t = thresholdFor(noPatterns(benign), fp);
    return attacks.filter((a) => a.z >= t).length / attacks.length;
  });
  // The classifier's own budget: at most TARGET_FP of benign training texts above its threshold
  // (the patterns have theirs; the report measures the union on held-out text).
  const threshold = thresholdFor(noPatterns(benign), TARGET_FP);
  if (process.env.DEBUG) {
    // Out-of-fold misses and near-threshold benign texts of the TRAINING split (never the held-out one).
    for (const d of docs) {
      const z = oof.get(d) ?? 0;
      if (d.extra) continue;
      if ((d.label === 1 && !d.patterns && z < threshold) || (d.label === 0 && z >= threshold - 1)) console.log(`    ${d.label ? 'MISS' : 'BENIGN'} z=${z.toFixed(2)} ${d.text.slice(0, 110).replace(/\s+/g, ' ')}`);
    }
  }
  return {
    lambda,
    extraWeight,
    smoothing,
    threshold,
    recalls,
    alone,
    fpRate: benign.filter((b) => b.z >= threshold).length / benign.length,
    classifierOnly: attacks.filter((a) => a.z >= threshold).length / attacks.length,
  };
}

function main(): void {
  const { attacks, extraAttacks, benign, counts } = trainingTexts();
  const docs = [
    ...attacks.map((t, i) => featurise(t.text, 1, i % FOLDS, t.asTool)),
    ...benign.map((t, i) => featurise(t.text, 0, i % FOLDS, t.asTool)),
    ...extraAttacks.map((t) => featurise(t.text, 1, -1, t.asTool)),
  ];
  const dims = vocabText.length;
  for (let j = 0; j < dims; j++) {
    // The committed model is keyed by n-gram text: it must hash back to the feature it came from.
    if (ngramHash(vocabText[j]) !== vocabHash[j]) throw new Error(`hash mismatch for ${JSON.stringify(vocabText[j])}`);
  }
  console.log(`training texts: ${attacks.length} attacks (+${extraAttacks.length} training-only, never scored), ${benign.length} benign; ${dims} distinct features (words, bigrams, char 4-grams)`);
  // ATTACK_TRAIN_WEIGHT=w fixes the weight (the rest still chosen by cross-validation): to measure
  // a model the selection rejected (docs/shield.md reports such candidates' held-out numbers).
  const forced = process.env.ATTACK_TRAIN_WEIGHT;
  const tried = extraAttacks.length === 0 ? [0] : forced !== undefined ? [Number(forced)] : EXTRA_WEIGHTS;
  const grid = SMOOTHINGS.flatMap((smoothing) => LAMBDAS.flatMap((lambda) => tried.map((ew) => crossValidate(docs, lambda, smoothing, ew, dims))));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  for (const r of grid) {
    console.log(`  cv smoothing=${r.smoothing} lambda=${r.lambda} extra=${r.extraWeight}: classifier alone ${r.alone.map(pct).join(' / ')}, with patterns ${r.recalls.map(pct).join(' / ')} at fp 1/2/3%; threshold z=${r.threshold.toFixed(3)}: classifier alone ${pct(r.classifierOnly)} at fp ${pct(r.fpRate)}`);
  }
  // Best mean cross-validated recall of the classifier alone over the FP targets (the patterns
  // were written from these training texts, so their part of the union is in-sample and says
  // little about the model); on a tie the stronger regularisation, then the larger smoothing, then the smaller
  // weight of the training-only attacks.
  const mean = (r: CvResult) => r.alone.reduce((a, b) => a + b, 0) / r.alone.length;
  const better = (c: CvResult, a: CvResult) => mean(c) > mean(a) || (mean(c) === mean(a) && (c.lambda > a.lambda || (c.lambda === a.lambda && (c.smoothing > a.smoothing || (c.smoothing === a.smoothing && c.extraWeight < a.extraWeight)))));
  const best = grid.reduce((a, c) => (better(c, a) ? c : a));
  smooth(docs, best.smoothing);
  const model = prune(fit(docs, best.lambda, dims, best.extraWeight));
  const weights: Array<[string, number]> = [];
  for (let j = 0; j < dims; j++) if (model.w[j] !== 0) weights.push([vocabText[j], Math.round(model.w[j] * 1e4) / 1e4]);
  weights.sort((a, c) => c[1] - a[1] || (a[0] < c[0] ? -1 : 1));
  const body = weights.map(([k, w]) => `    ${JSON.stringify(k)}: ${w},`).join('\n');
  writeFileSync(
    OUT,
    `// Generated by \`npm run train:guard\` (eval/guard/train.ts): do not edit by hand.
// Logistic regression over words, word bigrams and character 4-grams of normalised text (see classifier.ts).
// Trained on the training split only: ${JSON.stringify(counts)}.
// 5-fold cross-validation inside the training split, lambda=${best.lambda}, smoothing=${best.smoothing}, training-only attack weight=${best.extraWeight}, threshold z=${best.threshold.toFixed(4)}:
// the classifier alone flags ${pct(best.classifierOnly)} of training attacks and ${pct(best.fpRate)} of benign training texts
// (out of fold); with the patterns, ${pct(best.recalls[0])} of the attacks are blocked (the patterns are in-sample there).
// The ${weights.length} largest weights are kept; positive ones point to an attack.
export const MODEL: { bias: number; threshold: number; smoothing: number; weights: Record<string, number> } = {
  bias: ${Math.round(model.b * 1e4) / 1e4},
  smoothing: ${best.smoothing},
  threshold: ${Math.round(best.threshold * 1e4) / 1e4},
  weights: {
${body}
  },
};
`,
  );
  console.log(`chosen lambda=${best.lambda}, extra weight=${best.extraWeight}, smoothing=${best.smoothing}, threshold z=${best.threshold.toFixed(4)}; wrote ${weights.length} weights to ${OUT}`);
  console.log(`top attack n-grams: ${weights.slice(0, 25).map(([k]) => k).join(', ')}`);
  console.log(`top benign n-grams: ${weights.slice(-15).map(([k]) => k).join(', ')}`);
}

main();
