/** bench/results/latest.json, with the one before kept as previous.json for comparison. */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './build.js';

const DIR = join(ROOT, 'bench/results');

export function readPrevious<T>(name: string): T | null {
  const file = join(DIR, name);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Moves latest -> previous (or soak-latest -> soak-previous), then writes the new latest. */
export function writeResults(report: unknown, prefix = ''): string {
  mkdirSync(DIR, { recursive: true });
  const latest = join(DIR, `${prefix}latest.json`);
  if (existsSync(latest)) renameSync(latest, join(DIR, `${prefix}previous.json`));
  writeFileSync(latest, `${JSON.stringify(report, null, 2)}\n`);
  return latest;
}
