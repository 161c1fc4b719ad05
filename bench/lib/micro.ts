/**
 * Runs every bench/micro/<topic>.ts (written by others): each exports
 * `run(): Promise<Array<{ name, meanUs, opsPerSec }>>`. A missing folder, a file without
 * `run`, or one that throws is reported and skipped; the rest of the run goes on.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './build.js';

export interface MicroRow {
  file: string;
  name: string;
  meanUs: number;
  opsPerSec: number;
}

export interface MicroOutcome {
  rows: MicroRow[];
  skipped: Array<{ file: string; reason: string }>;
}

type MicroModule = { run?: () => Promise<Array<{ name: string; meanUs: number; opsPerSec: number }>> };

export async function runMicro(log: (s: string) => void): Promise<MicroOutcome> {
  const dir = join(ROOT, 'bench/micro');
  const out: MicroOutcome = { rows: [], skipped: [] };
  if (!existsSync(dir)) return out;
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts')).sort();
  for (const file of files) {
    try {
      log(`micro: ${file}`);
      const mod = (await import(pathToFileURL(join(dir, file)).href)) as MicroModule;
      if (typeof mod.run !== 'function') throw new Error('exports no run()');
      const rows = await mod.run();
      for (const r of rows) out.rows.push({ file: file.replace(/\.ts$/, ''), name: String(r.name), meanUs: Number(r.meanUs), opsPerSec: Number(r.opsPerSec) });
    } catch (err) {
      out.skipped.push({ file, reason: err instanceof Error ? err.message.slice(0, 200) : String(err) });
    }
  }
  return out;
}
