/**
 * The real public corpus: `real.json` (split stored per entry) plus `real-more.json`, whose split
 * is computed by the rule written down before it was collected (corpora/README.md): position in
 * its source divisible by 3 -> train, else test; an entry duplicating an earlier one is dropped.
 * The classifier trainer and the detection report both read the corpus through this module, so
 * they cannot disagree about which entry is held out.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const load = <T>(name: string): T => JSON.parse(readFileSync(join(here, 'corpora', name), 'utf8')) as T;

export interface Labelled {
  text: string;
  source: string;
  kind?: string;
  /** The group within its source (jailbreak_template, sysprompt_extraction, support, code...). */
  group?: string;
  /** The text arrives as a tool result (indirect injection, retrieved documents). */
  asTool?: boolean;
  /** How the text reaches the gateway when not a user message (`tool_definition`). */
  via?: 'tool_definition';
}

interface RealJson {
  train: { attacks: Labelled[]; benign: Labelled[] };
  test: { attacks: Labelled[]; benign: Labelled[]; semantic: Labelled[] };
}

interface MoreEntry extends Labelled {
  position: number;
}

export interface RealCorpus {
  train: { attacks: Labelled[]; benign: Labelled[] };
  test: { attacks: Labelled[]; benign: Labelled[]; semantic: Labelled[] };
  /** New entries dropped as duplicates of earlier ones (reported, never scored). */
  dropped: Labelled[];
}

const key = (t: string): string => t.toLowerCase().replace(/[^a-z0-9]+/g, '');
const words = (t: string): string[] => t.toLowerCase().match(/[a-z0-9]+/g) ?? [];

/** Word n-grams of a text (joined by spaces). */
function grams(t: string, n: number): Set<string> {
  const w = words(t);
  const out = new Set<string>();
  for (let i = 0; i + n <= w.length; i++) out.add(w.slice(i, i + n).join(' '));
  return out;
}

/** Word 8-grams of a text (joined by spaces). */
export const grams8 = (t: string): Set<string> => grams(t, 8);

/** Share of `a`'s 8-grams that occur in `b` (0 when `a` has none). */
export function overlap(a: Set<string>, b: Set<string>): number {
  if (a.size === 0) return 0;
  let n = 0;
  for (const g of a) if (b.has(g)) n++;
  return n / a.size;
}

/** The duplicate rule of corpora/README.md: same first 120 key characters, or > 50% of 8-grams in one entry. */
function duplicates(t: string, earlier: Array<{ k: string; g: Set<string> }>): boolean {
  const k = key(t).slice(0, 120);
  const g = grams8(t);
  return earlier.some((e) => e.k === k || overlap(g, e.g) > 0.5);
}

export const isTrainPosition = (position: number): boolean => position % 3 === 0;

let cached: RealCorpus | undefined;

export function loadRealCorpus(): RealCorpus {
  if (cached) return cached;
  const real = load<RealJson>('real.json');
  const more = load<{ attacks: MoreEntry[]; benign: MoreEntry[] }>('real-more.json');
  const seen = [...real.train.attacks, ...real.train.benign, ...real.test.attacks, ...real.test.benign, ...real.test.semantic].map((e) => ({
    k: key(e.text).slice(0, 120),
    g: grams8(e.text),
  }));
  const out: RealCorpus = {
    train: { attacks: [...real.train.attacks], benign: [...real.train.benign] },
    test: { attacks: [...real.test.attacks], benign: [...real.test.benign], semantic: [...real.test.semantic] },
    dropped: [],
  };
  for (const [kind, list] of [['attacks', more.attacks], ['benign', more.benign]] as const) {
    for (const { position, ...e } of list) {
      if (duplicates(e.text, seen)) {
        out.dropped.push(e);
        continue;
      }
      seen.push({ k: key(e.text).slice(0, 120), g: grams8(e.text) });
      (isTrainPosition(position) ? out.train : out.test)[kind].push(e);
    }
  }
  cached = out;
  return out;
}

export interface NearMissEntry {
  text: string;
  group: string;
  position: number;
  /** Fixed split (only the lead's probe lines, known before the corpus: always train). */
  split?: 'train';
}

/**
 * `near-miss.json`: ordinary app prompts in attack vocabulary (all benign), split by the
 * written rule (corpora/README.md): position in its group divisible by 3 -> train, else test;
 * entries with a fixed `split` are train.
 */
export function loadNearMiss(): { train: Labelled[]; test: Labelled[] } {
  const all = load<{ benign: NearMissEntry[] }>('near-miss.json').benign;
  const out: { train: Labelled[]; test: Labelled[] } = { train: [], test: [] };
  for (const e of all) {
    const entry: Labelled = { text: e.text, source: 'near-miss (own)', group: e.group };
    (e.split === 'train' || isTrainPosition(e.position) ? out.train : out.test).push(entry);
  }
  return out;
}

/**
 * `benign-train.json`: public benign text used ONLY to train the classifier (never reported as
 * held out). An entry is dropped when it duplicates (the rule of real-more.json) any entry of
 * real.json, real-more.json or near-miss.json, so no held-out text reaches training this way.
 */
export function loadBenignTrain(): { kept: Labelled[]; dropped: Labelled[] } {
  const real = loadRealCorpus();
  const nm = loadNearMiss();
  const seen = [...real.train.attacks, ...real.train.benign, ...real.test.attacks, ...real.test.benign, ...real.test.semantic, ...nm.train, ...nm.test].map((e) => ({
    k: key(e.text).slice(0, 120),
    g: grams8(e.text),
  }));
  const out: { kept: Labelled[]; dropped: Labelled[] } = { kept: [], dropped: [] };
  for (const e of load<{ benign: Array<{ text: string; group: string }> }>('benign-train.json').benign) {
    const entry: Labelled = { text: e.text, source: 'benign-train', group: e.group };
    if (duplicates(e.text, seen)) out.dropped.push(entry);
    else {
      seen.push({ k: key(e.text).slice(0, 120), g: grams8(e.text) });
      out.kept.push(entry);
    }
  }
  return out;
}

/** One entry of every corpus the report scores, marked when it is held out (never trained or tuned on). */
interface EvalEntry {
  k: string;
  g: Set<string>;
  /** Word 5-grams, for held-out entries only (the near-copy check of repeatsEval). */
  g5?: Set<string>;
  heldOut: boolean;
}

/** Unicode tag characters (U+E0020-E007E) read as the ASCII they hide, as the scanner decodes them: else such a text has no key. */
const untag = (t: string): string => t.replace(/[\u{E0020}-\u{E007E}]/gu, (c) => String.fromCodePoint((c.codePointAt(0) ?? 0) - 0xe0000));

/** Every text of every corpus `npm run eval:guard` scores (and of benign-train.json), held-out ones marked. */
function evalEntries(): EvalEntry[] {
  const real = loadRealCorpus();
  const nm = loadNearMiss();
  const inj = load<Record<string, Array<{ text: string }>>>('injection.json');
  const ben = load<Record<string, string[]>>('benign.json');
  const pub = load<{ train: Array<{ text: string }>; test: Array<{ text: string }> }>('public.json');
  const entry = (text: string, heldOut: boolean): EvalEntry => ({ k: key(untag(text)), g: grams8(untag(text)), g5: heldOut ? grams(untag(text), 5) : undefined, heldOut });
  return [
    ...[...real.train.attacks, ...real.train.benign, ...real.dropped, ...nm.train, ...pub.train].map((e) => entry(e.text, false)),
    ...[...real.test.attacks, ...real.test.benign, ...real.test.semantic, ...nm.test, ...pub.test].map((e) => entry(e.text, true)),
    ...Object.entries(inj).flatMap(([f, l]) => l.map((e) => entry(e.text, f === 'held_out'))),
    ...Object.entries(ben).flatMap(([f, l]) => l.map((t) => entry(t, f === 'held_out_benign'))),
    ...loadBenignTrain().kept.map((e) => entry(e.text, false)),
  ];
}

/** Shortest key (letters and digits) a containment check uses: below it, a phrase is too common to mean a copy. */
const CONTAINED_MIN = 12;

/**
 * Whether a new training text repeats an eval entry. Any entry: the duplicate rule of
 * real-more.json (same first 120 key characters, or more than half of the new text's 8-grams in
 * it). A held-out entry, checked explicitly and more strictly so the held-out numbers stay
 * unseen: also more than half of ITS 8-grams in the new text (a long text wrapping a held-out
 * one), either key containing the other (short texts have no 8-grams), or at least half of the
 * new text's word 5-grams in it (a near-copy: a short variant, or a template with a word or a name changed).
 */
function repeatsEval(t: string, entries: EvalEntry[]): 'held_out' | 'eval' | undefined {
  const k = key(untag(t));
  const g = grams8(untag(t));
  const g5 = grams(untag(t), 5);
  let hit: 'eval' | undefined;
  for (const e of entries) {
    const same = e.k.slice(0, 120) === k.slice(0, 120) || overlap(g, e.g) > 0.5;
    if (e.heldOut) {
      const contained = (e.k.length >= CONTAINED_MIN && k.includes(e.k)) || (k.length >= CONTAINED_MIN && e.k.includes(k));
      if (same || overlap(e.g, g) > 0.5 || contained || (e.g5 !== undefined && overlap(g5, e.g5) >= 0.5)) return 'held_out';
    } else if (same) hit = 'eval';
  }
  return hit;
}

let cachedEval: EvalEntry[] | undefined;

/** Whether a text would be dropped from a training-only file as repeating an eval entry (held-out ones strictly). */
export function repeatsEvalEntry(t: string): 'held_out' | 'eval' | undefined {
  cachedEval ??= evalEntries();
  return repeatsEval(t, cachedEval);
}

export interface AttackTrain {
  kept: Labelled[];
  /** Dropped as repeating a held-out entry, any other eval entry, or an earlier attack-train entry. */
  dropped: { heldOut: Labelled[]; eval: Labelled[]; self: Labelled[] };
}

let cachedAttacks: AttackTrain | undefined;

/**
 * `attack-train.json`: public attack texts used ONLY to train the classifier (never reported).
 * An entry repeating any eval corpus entry (see repeatsEval) or an earlier entry of the file
 * (the rule of real-more.json) is dropped, so no held-out text reaches training this way.
 */
export function loadAttackTrain(): AttackTrain {
  if (cachedAttacks) return cachedAttacks;
  cachedEval ??= evalEntries();
  const entries = cachedEval;
  const seen: Array<{ k: string; g: Set<string> }> = [];
  const out: AttackTrain = { kept: [], dropped: { heldOut: [], eval: [], self: [] } };
  for (const e of load<{ attacks: Array<{ text: string; group: string; asTool?: boolean }> }>('attack-train.json').attacks) {
    const entry: Labelled = { text: e.text, source: 'attack-train', group: e.group, asTool: e.asTool === true };
    const hit = repeatsEval(e.text, entries);
    if (hit === 'held_out') out.dropped.heldOut.push(entry);
    else if (hit === 'eval') out.dropped.eval.push(entry);
    else if (duplicates(e.text, seen)) out.dropped.self.push(entry);
    else {
      seen.push({ k: key(e.text).slice(0, 120), g: grams8(e.text) });
      out.kept.push(entry);
    }
  }
  cachedAttacks = out;
  return out;
}
