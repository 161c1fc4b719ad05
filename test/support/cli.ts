/**
 * Runs the keygate CLI as a child process, the way an operator would, with a clean environment
 * (PATH and HOME only, plus the data directory and what the test adds). What it prints goes
 * to the leak scan (test/leak-scan) under `record`; a run whose answer shows a secret once by
 * design (a new key, a split key's client part) records its stderr only.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { recordOutput } from './artifacts.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** From source, in one process (tsx's own CLI would start a second one and not pass signals on). */
export const CLI = ['--import', 'tsx', resolve(ROOT, 'src/cli/main.ts')];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** KEYGATE_DATA_DIR; omit when `env` sets it or the command needs none. */
  dataDir?: string;
  /** Records stdout + stderr for the leak scan under this label; omit to record nothing. */
  record?: string;
  /** stdout shows a secret once by design: only stderr is recorded. */
  shownOnce?: boolean;
  env?: Record<string, string>;
  /** Written to the child's stdin, which is then closed (closed empty when omitted). */
  stdin?: string;
}

export function runCli(opts: CliOptions, ...args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(opts.dataDir ? { KEYGATE_DATA_DIR: opts.dataDir } : {}), ...opts.env },
      cwd: ROOT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      if (opts.record) recordOutput(opts.record, opts.shownOnce ? stderr : stdout + stderr);
      done({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
