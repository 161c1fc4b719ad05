/**
 * The detection report: runs the shield over the labelled corpora and computes recall per
 * injection family, the false-positive rate on benign prompts, and secret and PII recall.
 * An attack counts as caught when the default policy would block it (injection risk >= 70);
 * a benign prompt counts as a false positive when the default policy would block it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultGuardPolicy, evaluate, scanRequest } from '../../src/guard/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const load = <T>(name: string): T => JSON.parse(readFileSync(join(here, 'corpora', name), 'utf8')) as T;

interface Labelled {
  text: string;
  source: string;
  kind?: string;
  /** Real corpus: the group within its source (jailbreak_template, sysprompt_extraction, support, code...). */
  group?: string;
  /** Real corpus: the text arrives as a tool result (indirect injection, retrieved documents). */
  asTool?: boolean;
}

interface RealCorpus {
  train: { attacks: Labelled[]; benign: Labelled[] };
  test: { attacks: Labelled[]; benign: Labelled[]; semantic: Labelled[] };
}

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
  /** Real public strings (`real.json`), the part that may be tuned on. */
  realTrain: Rate;
  realTrainBenign: Rate;
  /** Real public strings, held out: never tuned on. */
  realTest: Rate;
  realTestBenign: Rate;
  /** The held-out attacks per group (jailbreak templates, PromptInject, system prompt extraction, MCP, latent). */
  realTestByGroup: Rate[];
  /** JailbreakBench PAIR prompts: harmful requests in persuasive framing, no injection wording (held out). */
  realSemantic: Rate;
}

function rate(name: string, items: string[], hit: (t: string) => boolean): Rate {
  const matched = items.filter((t) => hit(t));
  const misses = items.filter((t) => !matched.includes(t));
  return { name, hits: matched.length, total: items.length, rate: items.length ? matched.length / items.length : 0, misses, matched };
}

/** Indirect injection arrives as a tool result; everything else as a user message. */
function bodyFor(text: string, asTool: boolean): unknown {
  return asTool
    ? { messages: [{ role: 'user', content: 'Summarise this page.' }, { role: 'tool', tool_call_id: 't', content: text }] }
    : { messages: [{ role: 'user', content: text }] };
}

const blocked = (text: string, asTool = false): boolean => evaluate(scanRequest(bodyFor(text, asTool)).findings, defaultGuardPolicy).action === 'block';
const hasCategory = (text: string, category: string): boolean => scanRequest(bodyFor(text, false)).findings.some((f) => f.category === category);

function rateLabelled(name: string, items: Labelled[], hit: (i: Labelled) => boolean): Rate {
  const matched = items.filter((i) => hit(i));
  const misses = items.filter((i) => !matched.includes(i));
  return { name, hits: matched.length, total: items.length, rate: items.length ? matched.length / items.length : 0, misses: misses.map((i) => i.text), matched: matched.map((i) => i.text) };
}

const blockedItem = (i: Labelled): boolean => blocked(i.text, i.asTool === true);

export function runEval(): EvalReport {
  const real = load<RealCorpus>('real.json');
  const groups = [...new Set(real.test.attacks.map((i) => i.group ?? 'other'))];
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
    realTest: rateLabelled('real attacks (held out)', real.test.attacks, blockedItem),
    realTestBenign: rateLabelled('real benign (held out)', real.test.benign, blockedItem),
    realTestByGroup: groups.map((g) => rateLabelled(g, real.test.attacks.filter((i) => (i.group ?? 'other') === g), blockedItem)),
    realSemantic: rateLabelled('real PAIR semantic (held out)', real.test.semantic, blockedItem),
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
  line('REAL attacks: train', pct(r.realTrain.rate), String(r.realTrain.total));
  line('REAL attacks: held out', pct(r.realTest.rate), String(r.realTest.total));
  for (const g of r.realTestByGroup) line(`  held out: ${g.name}`, pct(g.rate), String(g.total));
  line('REAL PAIR semantic: held out', pct(r.realSemantic.rate), String(r.realSemantic.total));
  line('REAL benign FP: train', pct(r.realTrainBenign.rate), String(r.realTrainBenign.total));
  line('REAL benign FP: held out', pct(r.realTestBenign.rate), String(r.realTestBenign.total));
  return rows.join('\n');
}
