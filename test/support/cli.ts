/**
 * Runs the keygate CLI as a child process against a test gateway's data directory, the way an
 * operator would, with a clean environment (PATH and HOME only, plus what the test adds).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { recordOutput } from './artifacts.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = [resolve(ROOT, 'node_modules/tsx/dist/cli.mjs'), resolve(ROOT, 'src/cli/main.ts')];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  dataDir: string;
  /** Records stdout + stderr for the leak scan under this label; omit for shown-once answers. */
  record?: string;
  env?: Record<string, string>;
  stdin?: string;
}

export function runCli(opts: CliOptions, ...args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, KEYGATE_DATA_DIR: opts.dataDir, ...opts.env },
      cwd: ROOT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      if (opts.record) recordOutput(opts.record, stdout + stderr);
      done({ code, stdout, stderr });
    });
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
  });
}
