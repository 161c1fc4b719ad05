/** The machine a run happened on, for the report: numbers mean little without it. */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface Machine {
  nproc: number;
  cpu: string;
  memGb: number;
  node: string;
  platform: string;
  /** 1-minute load average at the start: a shared machine makes noisy numbers. */
  loadAvg1m: number;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux: os.cpus() is good enough
  }
  return { nproc: availableParallelism(), cpu, memGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}`, loadAvg1m: loadavg()[0] };
}
