/**
 * The detection report: runs the shield over the labelled corpora and computes recall per
 * injection family, the false-positive rate on benign prompts, and secret and PII recall.
 * An attack counts as caught when the default policy would block it (injection risk >= 70);
 * a benign prompt counts as a false positive when the default policy would block it.
 * The real public corpus is reported per split and group, with the trained classifier and
 * without it (patterns only), so what the classifier adds is visible.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultGuardPolicy, evaluate, scanRequest, type GuardPolicy, type ShieldSwitches } from '../../src/guard/index.js';
import { grams8, loadNearMiss, loadRealCorpus, overlap, type Labelled } from './real-corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
const load = <T>(name: string): T => JSON.parse(readFileSync(join(here, 'corpora', name), 'utf8')) as T;

export interface Rate {
  name: string;
  hits: number;
  total: number;
  rate: number;
  misses: string[];
  /** Items that counted as hits (for benign sets: the false positives). */
  matched: string[];
}

export interface EvalReport {
  injection: Rate[];
  injectionOverall: Rate;
  benign: Rate[];
  benignOverall: Rate;
  secrets: Rate;
  pii: Rate;
  /** Attacks in the style of public collections: the split used to improve the detectors. */
  publicTrain: Rate;
  /** The same sources, set aside: never tuned on. */
  publicTest: Rate;
  /** Benign text that looks like secrets or personal data: any finding is a false positive. */
  secretFalsePositives: Rate;
  piiFalsePositives: Rate;
  /** Real public strings (`real.json` + `real-more.json`), the part that may be tuned on. */
  realTrain: Rate;
  realTrainBenign: Rate;
  realTrainByGroup: Rate[];
  /** Real public strings, held out: never tuned on. */
  realTest: Rate;
  realTestBenign: Rate;
  /** The held-out attacks per group (jailbreak templates, PromptInject, system prompt extraction, MCP, latent...). */
  realTestByGroup: Rate[];
  realTestBenignByGroup: Rate[];
  /** Held-out attacks that are not near-copies of a training attack (at most half their word 8-grams in one). */
  realTestNovel: Rate;
  /** JailbreakBench PAIR prompts: harmful requests in persuasive framing, no injection wording (held out). */
  realSemantic: Rate;
  /** The held-out real numbers with the classifier switched off (patterns only). */
  patternsOnly: { realTest: Rate; realTestBenign: Rate; realTestNovel: Rate; realSemantic: Rate; realTestByGroup: Rate[] };
  /** Held-out real attacks and benign texts the classifier alone scores at the block level (>= 70); benign ones it reports at all (>= 50, logged). */
  classifierAlone: { realTest: Rate; realTestBenign: Rate; realTestBenignReported: Rate };
  /** Held-out recall and FP if prompt_injection blocked at other risk levels (descriptive: the default stays 70). */
  sweep: Array<{ blockAt: number; recall: Rate; fp: Rate }>;
  /** Own-written benign app prompts in attack vocabulary (near-miss.json): any block is a false positive. */
  nearMiss: { train: Rate; test: Rate; trainPatternsOnly: Rate; testPatternsOnly: Rate; testByGroup: Rate[] };
  /** Real entries dropped as duplicates by the corpus rule. */
  realDropped: number;
}

function rate(name: string, items: string[], hit: (t: string) => boolean): Rate {
  const matched = items.filter((t) => hit(t));
  const misses = items.filter((t) => !matched.includes(t));
  return { name, hits: matched.length, total: items.length, rate: items.length ? matched.length / items.length : 0, misses, matched };
}

/** Indirect injection arrives as a tool result (or a tool's description); everything else as a user message. */
function bodyFor(text: string, asTool: boolean, via?: 'tool_definition'): unknown {
  if (via === 'tool_definition') {
    return { messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools: [{ type: 'function', function: { name: 'weather', description: text, parameters: { type: 'object', properties: {} } } }] };
  }
  return asTool
    ? { messages: [{ role: 'user', content: 'Summarise this page.' }, { role: 'tool', tool_call_id: 't', content: text }] }
    : { messages: [{ role: 'user', content: text }] };
}

type ScanPolicy = GuardPolicy & ShieldSwitches;
const withoutClassifier: ScanPolicy = { ...defaultGuardPolicy, classifier: false };

const blocked = (text: string, asTool = false, policy: ScanPolicy = defaultGuardPolicy, via?: 'tool_definition'): boolean =>
  evaluate(scanRequest(bodyFor(text, asTool, via), { policy }).findings, defaultGuardPolicy).action === 'block';
const hasCategory = (text: string, category: string): boolean => scanRequest(bodyFor(text, false)).findings.some((f) => f.category === category);

function rateLabelled(name: string, items: Labelled[], hit: (i: Labelled) => boolean): Rate {
  const matched = items.filter((i) => hit(i));
  const misses = items.filter((i) => !matched.includes(i));
  return { name, hits: matched.length, total: items.length, rate: items.length ? matched.length / items.length : 0, misses: misses.map((i) => i.text), matched: matched.map((i) => i.text) };
}

const blockedItem = (i: Labelled): boolean => blocked(i.text, i.asTool === true, defaultGuardPolicy, i.via);
const blockedByPatterns = (i: Labelled): boolean => blocked(i.text, i.asTool === true, withoutClassifier, i.via);
const classifierScore = (i: Labelled): number =>
  Math.max(0, ...scanRequest(bodyFor(i.text, i.asTool === true, i.via)).findings.filter((f) => f.detector === 'injection.classifier').map((f) => f.score));
const classifierBlocks = (i: Labelled): boolean => classifierScore(i) >= defaultGuardPolicy.blockThreshold;
const blockedAt = (blockAt: number) => {
  const policy = { ...defaultGuardPolicy, blockThreshold: blockAt };
  return (i: Labelled): boolean => evaluate(scanRequest(bodyFor(i.text, i.asTool === true, i.via), { policy }).findings, policy).action === 'block';
};

const groupsOf = (items: Labelled[]): string[] => [...new Set(items.map((i) => i.group ?? 'other'))];
const byGroup = (items: Labelled[], hit: (i: Labelled) => boolean): Rate[] =>
  groupsOf(items).map((g) => rateLabelled(g, items.filter((i) => (i.group ?? 'other') === g), hit));

export function runEval(): EvalReport {
  const real = loadRealCorpus();
  const trainGrams = real.train.attacks.map((i) => grams8(i.text));
  const novel = real.test.attacks.filter((i) => {
    const g = grams8(i.text);
    return trainGrams.every((t) => overlap(g, t) <= 0.5);
  });
  const nm = loadNearMiss();
  const inj = load<Record<string, Labelled[]>>('injection.json');
  const injection = Object.entries(inj).map(([family, items]) =>
    rate(family, items.map((i) => i.text), (t) => blocked(t, family === 'indirect_injection')),
  );
  const benignSets = load<Record<string, string[]>>('benign.json');
  const pub = load<{ train: Labelled[]; test: Labelled[] }>('public.json');
  const benignData = load<{ items: string[] }>('benign-data.json').items;
  const benign = Object.entries(benignSets).map(([kind, items]) => rate(kind, items, (t) => blocked(t)));
  const sum = (rs: Rate[], name: string): Rate => {
    const hits = rs.reduce((n, r) => n + r.hits, 0);
    const total = rs.reduce((n, r) => n + r.total, 0);
    return { name, hits, total, rate: total ? hits / total : 0, misses: rs.flatMap((r) => r.misses), matched: rs.flatMap((r) => r.matched) };
  };
  return {
    injection,
    injectionOverall: sum(injection, 'all families'),
    benign,
    benignOverall: sum(benign, 'all benign'),
    secrets: rate('secrets', load<Labelled[]>('secrets.json').map((s) => s.text), (t) => hasCategory(t, 'secret')),
    pii: rate('pii', load<Labelled[]>('pii.json').map((s) => s.text), (t) => hasCategory(t, 'pii')),
    publicTrain: rate('public (train)', pub.train.map((i) => i.text), (t) => blocked(t)),
    publicTest: rate('public (held out)', pub.test.map((i) => i.text), (t) => blocked(t)),
    secretFalsePositives: rate('secret-looking benign', benignData, (t) => hasCategory(t, 'secret')),
    piiFalsePositives: rate('PII-looking benign', benignData, (t) => hasCategory(t, 'pii')),
    realTrain: rateLabelled('real attacks (train)', real.train.attacks, blockedItem),
    realTrainBenign: rateLabelled('real benign (train)', real.train.benign, blockedItem),
    realTrainByGroup: byGroup(real.train.attacks, blockedItem),
    realTest: rateLabelled('real attacks (held out)', real.test.attacks, blockedItem),
    realTestBenign: rateLabelled('real benign (held out)', real.test.benign, blockedItem),
    realTestByGroup: byGroup(real.test.attacks, blockedItem),
    realTestBenignByGroup: byGroup(real.test.benign, blockedItem),
    realTestNovel: rateLabelled('real attacks (held out, novel)', novel, blockedItem),
    realSemantic: rateLabelled('real PAIR semantic (held out)', real.test.semantic, blockedItem),
    patternsOnly: {
      realTest: rateLabelled('real attacks (held out), patterns only', real.test.attacks, blockedByPatterns),
      realTestBenign: rateLabelled('real benign (held out), patterns only', real.test.benign, blockedByPatterns),
      realTestNovel: rateLabelled('real attacks (held out, novel), patterns only', novel, blockedByPatterns),
      realSemantic: rateLabelled('real PAIR semantic (held out), patterns only', real.test.semantic, blockedByPatterns),
      realTestByGroup: byGroup(real.test.attacks, blockedByPatterns),
    },
    classifierAlone: {
      realTest: rateLabelled('real attacks (held out), classifier alone', real.test.attacks, classifierBlocks),
      realTestBenign: rateLabelled('real benign (held out), classifier alone', real.test.benign, classifierBlocks),
      realTestBenignReported: rateLabelled('real benign (held out), classifier reports', real.test.benign, (i) => classifierScore(i) > 0),
    },
    sweep: [60, 65, 70, 75, 80].map((blockAt) => ({
      blockAt,
      recall: rateLabelled(`held out, block at ${blockAt}`, real.test.attacks, blockedAt(blockAt)),
      fp: rateLabelled(`held-out benign, block at ${blockAt}`, real.test.benign, blockedAt(blockAt)),
    })),
    nearMiss: {
      train: rateLabelled('near-miss benign (train)', nm.train, blockedItem),
      test: rateLabelled('near-miss benign (held out)', nm.test, blockedItem),
      trainPatternsOnly: rateLabelled('near-miss benign (train), patterns only', nm.train, blockedByPatterns),
      testPatternsOnly: rateLabelled('near-miss benign (held out), patterns only', nm.test, blockedByPatterns),
      testByGroup: byGroup(nm.test, blockedItem),
    },
    realDropped: real.dropped.length,
  };
}

const pct = (r: number): string => `${(r * 100).toFixed(1)}%`;

export function formatReport(r: EvalReport): string {
  const rows: string[] = [];
  const line = (a: string, b: string, c: string) => rows.push(`| ${a.padEnd(40)} | ${b.padStart(7)} | ${c.padStart(7)} |`);
  line('metric', 'result', 'n');
  rows.push(`|${'-'.repeat(42)}|${'-'.repeat(9)}|${'-'.repeat(9)}|`);
  for (const f of r.injection) line(`injection recall: ${f.name}`, pct(f.rate), String(f.total));
  line('injection recall: all families', pct(r.injectionOverall.rate), String(r.injectionOverall.total));
  for (const b of r.benign) line(`false positives: ${b.name}`, pct(b.rate), String(b.total));
  line('false positives: all benign', pct(r.benignOverall.rate), String(r.benignOverall.total));
  line('secret recall', pct(r.secrets.rate), String(r.secrets.total));
  line('PII recall', pct(r.pii.rate), String(r.pii.total));
  line('public-style attacks: train', pct(r.publicTrain.rate), String(r.publicTrain.total));
  line('public-style attacks: held out', pct(r.publicTest.rate), String(r.publicTest.total));
  line('secret false positives (benign)', pct(r.secretFalsePositives.rate), String(r.secretFalsePositives.total));
  line('PII false positives (benign)', pct(r.piiFalsePositives.rate), String(r.piiFalsePositives.total));
  const pair = (a: Rate, b: Rate) => `${pct(a.rate)} (${pct(b.rate)})`;
  rows.push('', `REAL public strings (real.json + real-more.json; ${r.realDropped} duplicates dropped). Held-out column: with the classifier (patterns only in brackets).`);
  const line2 = (a: string, b: string, c: string) => rows.push(`| ${a.padEnd(40)} | ${b.padStart(17)} | ${c.padStart(5)} |`);
  line2('metric', 'result', 'n');
  rows.push(`|${'-'.repeat(42)}|${'-'.repeat(19)}|${'-'.repeat(7)}|`);
  line2('REAL attacks: train', pct(r.realTrain.rate), String(r.realTrain.total));
  for (const g of r.realTrainByGroup) line2(`  train: ${g.name}`, pct(g.rate), String(g.total));
  line2('REAL attacks: held out', pair(r.realTest, r.patternsOnly.realTest), String(r.realTest.total));
  for (const g of r.realTestByGroup) {
    const p = r.patternsOnly.realTestByGroup.find((x) => x.name === g.name) ?? g;
    line2(`  held out: ${g.name}`, pair(g, p), String(g.total));
  }
  line2('REAL attacks: held out, not near-copies', pair(r.realTestNovel, r.patternsOnly.realTestNovel), String(r.realTestNovel.total));
  line2('REAL PAIR semantic: held out', pair(r.realSemantic, r.patternsOnly.realSemantic), String(r.realSemantic.total));
  line2('REAL benign FP: train', pct(r.realTrainBenign.rate), String(r.realTrainBenign.total));
  line2('REAL benign FP: held out', pair(r.realTestBenign, r.patternsOnly.realTestBenign), String(r.realTestBenign.total));
  for (const g of r.realTestBenignByGroup) line2(`  held out FP: ${g.name}`, pct(g.rate), String(g.total));
  line2('classifier alone: held-out attacks', pct(r.classifierAlone.realTest.rate), String(r.classifierAlone.realTest.total));
  line2('classifier alone: held-out benign FP', pct(r.classifierAlone.realTestBenign.rate), String(r.classifierAlone.realTestBenign.total));
  line2('classifier reports (>= 50, logged): benign', pct(r.classifierAlone.realTestBenignReported.rate), String(r.classifierAlone.realTestBenignReported.total));
  line2('NEAR-MISS app prompts FP: train', pair(r.nearMiss.train, r.nearMiss.trainPatternsOnly), String(r.nearMiss.train.total));
  line2('NEAR-MISS app prompts FP: held out', pair(r.nearMiss.test, r.nearMiss.testPatternsOnly), String(r.nearMiss.test.total));
  for (const g of r.nearMiss.testByGroup) line2(`  held out FP: ${g.name}`, `${g.hits} of ${g.total}`, String(g.total));
  rows.push('', 'Held out, if prompt_injection blocked at another risk (descriptive; the default is 70):');
  for (const w of r.sweep) rows.push(`  block at ${w.blockAt}: recall ${pct(w.recall.rate)} (${w.recall.hits}/${w.recall.total}), benign FP ${pct(w.fp.rate)} (${w.fp.hits}/${w.fp.total})`);
  return rows.join('\n');
}
