/**
 * Every process the bench starts goes through here, so all of them are stopped at the end,
 * on an error and on Ctrl-C. Each server is its own process: its RSS is its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadyMessage } from '../servers/child-ipc.js';
import { ROOT } from './build.js';

export const LOG_DIR = join(ROOT, 'bench/results/logs');
const live = new Set<ChildProcess>();

export interface Started {
  name: string;
  proc: ChildProcess;
  ready: ReadyMessage;
}

export interface StartSpec {
  name: string;
  /** Arguments to node (flags, script, script args). */
  args: string[];
  env?: Record<string, string>;
  /** Children that speak child-ipc send `ready`; others are polled at this URL. */
  readyUrl?: string;
  timeoutMs?: number;
}

export async function startChild(spec: StartSpec): Promise<Started> {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = openSync(join(LOG_DIR, `${spec.name}.log`), 'w');
  const proc = spawn(process.execPath, spec.args, {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...spec.env },
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const timeoutMs = spec.timeoutMs ?? 30_000;
  try {
    const ready = spec.readyUrl ? await pollReady(proc, spec.readyUrl, timeoutMs) : await ipcReady(proc, timeoutMs);
    return { name: spec.name, proc, ready };
  } catch (err) {
    await stopChild(proc);
    throw new Error(`${spec.name} did not start: ${err instanceof Error ? err.message : String(err)} (log: bench/results/logs/${spec.name}.log)`);
  }
}

function ipcReady(proc: ChildProcess, timeoutMs: number): Promise<ReadyMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready message in ${timeoutMs} ms`)), timeoutMs);
    proc.once('exit', (code) => reject(new Error(`exited with code ${code}`)));
    proc.on('message', (m: ReadyMessage) => {
      if (m.type !== 'ready') return;
      clearTimeout(timer);
      resolve(m);
    });
  });
}

async function pollReady(proc: ChildProcess, url: string, timeoutMs: number): Promise<ReadyMessage> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`exited with code ${proc.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return { type: 'ready', port: Number(new URL(url).port) };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms`);
}

/** Resident memory of a process, in MB, from /proc (Linux only). */
export function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux only). */
export function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
// USER_HZ is 100 on every mainstream Linux build.
const CLOCK_TICKS = 100;

/** SIGTERM (graceful: keygate flushes usage, --cpu-prof writes its file), SIGKILL after 10 s. */
export function stopChild(proc: ChildProcess, graceMs = 10_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => stopChild(p)));
}

/** Ctrl-C, kill and crashes of the runner still stop every child. */
export function stopAllOnExit(): void {
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${sig}, stopping child processes...\n`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Last resort if the runner exits without awaiting stopAll().
  process.once('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
}
