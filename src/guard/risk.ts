/**
 * Risk score 0-100: the strongest finding, plus a bounded bonus when several different
 * detectors agree (five weak signals together are worse than one).
 */
import type { Category, Finding } from './types.js';

const BONUS_PER_DETECTOR = 5;
const MAX_BONUS = 15;

export function riskOf(findings: readonly Finding[]): number {
  if (findings.length === 0) return 0;
  let max = 0;
  const detectors = new Set<string>();
  for (const f of findings) {
    if (f.score > max) max = f.score;
    detectors.add(f.detector);
  }
  const bonus = Math.min(MAX_BONUS, BONUS_PER_DETECTOR * (detectors.size - 1));
  return Math.min(100, max + bonus);
}

export function riskByCategory(findings: readonly Finding[]): Partial<Record<Category, number>> {
  const groups = new Map<Category, Finding[]>();
  for (const f of findings) {
    const g = groups.get(f.category);
    if (g) g.push(f);
    else groups.set(f.category, [f]);
  }
  const out: Partial<Record<Category, number>> = {};
  for (const [c, g] of groups) out[c] = riskOf(g);
  return out;
}
