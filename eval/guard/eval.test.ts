import { describe, expect, it } from 'vitest';
import { runEval } from './evaluate.js';
import { loadAttackTrain, loadNearMiss, loadRealCorpus, repeatsEvalEntry } from './real-corpus.js';

// Asserts the levels actually reached (see docs/shield.md), so a regression fails.
describe('guard detection report', () => {
  const r = runEval();

  it('catches >= 90% of each known attack family (in-sample corpora)', () => {
    for (const f of r.injection.filter((x) => x.name !== 'held_out')) expect(f.rate, f.name).toBeGreaterThanOrEqual(0.9);
  });

  it('keeps the held-out attack recall at least where it was measured (8 of 12 with the classifier since step 10; 7 at step 9)', () => {
    expect(r.injection.find((x) => x.name === 'held_out')?.hits).toBeGreaterThanOrEqual(8);
  });

  it('blocks at most 3% of benign prompts', () => {
    expect(r.benignOverall.rate).toBeLessThanOrEqual(0.03);
  });

  it('catches the public-style training split (>= 90%) and holds the held-out level measured (18 of 24)', () => {
    expect(r.publicTrain.rate).toBeGreaterThanOrEqual(0.9);
    expect(r.publicTest.hits).toBeGreaterThanOrEqual(18);
  });

  it('keeps secret false positives on secret-looking benign text at 0 and PII ones at most 1 in 30', () => {
    expect(r.secretFalsePositives.matched).toEqual([]);
    expect(r.piiFalsePositives.hits).toBeLessThanOrEqual(1);
  });

  it('finds every secret and personal-data sample', () => {
    expect(r.secrets.misses).toEqual([]);
    expect(r.pii.misses).toEqual([]);
  });

  it('real public strings: catches the training split (>= 90%), holds the held-out level measured (113 of 129 since step 11; 112 at step 10, 114 at step 9) and blocks at most 3 of 258 held-out real benign prompts (5 at step 9)', () => {
    // The split is computed from the corpus (real-corpus.ts): a changed corpus must update these numbers and docs/shield.md.
    expect(r.realTest.total).toBe(129);
    expect(r.realTestBenign.total).toBe(258);
    expect(r.realTrain.rate).toBeGreaterThanOrEqual(0.9);
    expect(r.realTest.hits).toBeGreaterThanOrEqual(113);
    expect(r.realTrainBenign.rate).toBeLessThanOrEqual(0.03);
    expect(r.realTestBenign.hits).toBeLessThanOrEqual(3);
  });

  it('real public strings, patterns only: the classifier off leaves the held-out level measured before it (78 of 129)', () => {
    expect(r.patternsOnly.realTest.hits).toBeGreaterThanOrEqual(78);
    expect(r.patternsOnly.realTestBenign.rate).toBeLessThanOrEqual(0.03);
  });

  it('the classifier alone: blocks at least 98 of 129 held-out attacks and at most 3 of 258 held-out benign prompts (103 and 5 at step 9), and reports (logs) at most 7 of them (20.5% before the evidence rule of step 11)', () => {
    expect(r.classifierAlone.realTest.hits).toBeGreaterThanOrEqual(98);
    expect(r.classifierAlone.realTestBenign.hits).toBeLessThanOrEqual(3);
    expect(r.classifierAlone.realTestBenignReported.hits).toBeLessThanOrEqual(7);
  });

  it('near-miss app prompts (near-miss.json): blocks none of the train half and at most 2 of 116 held out (4 at step 9; 2 with patterns only)', () => {
    expect(r.nearMiss.train.total).toBe(64);
    expect(r.nearMiss.test.total).toBe(116);
    expect(r.nearMiss.train.matched).toEqual([]);
    expect(r.nearMiss.test.hits).toBeLessThanOrEqual(2);
    expect(r.nearMiss.testPatternsOnly.hits).toBeLessThanOrEqual(2);
  });

  it('attack-train.json (training only) keeps no text that repeats a held-out entry, and the strict held-out check catches copies, wrapped copies, near-copies and short ones', () => {
    const a = loadAttackTrain();
    // The counts of corpora/README.md and docs/shield.md: a changed file must update them.
    expect([a.kept.length, a.dropped.heldOut.length, a.dropped.eval.length, a.dropped.self.length]).toEqual([156, 14, 8, 13]);
    for (const e of a.kept) expect(repeatsEvalEntry(e.text), e.text.slice(0, 60)).toBeUndefined();
    const real = loadRealCorpus().test;
    const heldOut = [...real.attacks, ...real.benign, ...real.semantic, ...loadNearMiss().test].map((e) => e.text);
    for (const t of heldOut) {
      expect(repeatsEvalEntry(t), t.slice(0, 60)).toBe('held_out');
      // Wrapped in a longer text of its own (what the 8-gram rule of real-more.json alone misses);
      // a held-out text of under 12 letters and digits ("ping") is too common a phrase to look for inside another.
      if (t.toLowerCase().replace(/[^a-z0-9]+/g, '').length < 12) continue;
      expect(repeatsEvalEntry(`Here is some context about my shop and its opening hours, please read it carefully first. ${t} Thanks a lot for the help, see you soon.`), t.slice(0, 60)).toBe('held_out');
      // A near-copy: one word in the middle renamed (a template with another persona name). With 14+ words,
      // at most 5 of its word 5-grams change, so at least half remain (the near-copy rule of real-corpus.ts).
      // Short ones (14-20 words) are what only this rule catches: one change breaks most of their 8-grams.
      const w = t.split(/\s+/);
      const mid = Math.floor(w.length / 2);
      if ((t.toLowerCase().match(/[a-z0-9]+/g) ?? []).length < 14 || !/^[A-Za-z0-9]+$/.test(w[mid])) continue;
      w[mid] = 'Zorblax';
      expect(repeatsEvalEntry(w.join(' ')), t.slice(0, 60)).toBe('held_out');
    }
    expect(repeatsEvalEntry('An unrelated sentence about gardening tools and the weather in spring.')).toBeUndefined();
  });
});
