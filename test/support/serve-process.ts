/**
 * `keygate serve` in a child process (from source, through tsx), for tests that need a second
 * gateway process or a real signal (SIGHUP). Its log lines go to the leak scan like any other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { logSink, recordSecret } from './artifacts.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = ['--import', 'tsx', resolve(ROOT, 'src/cli/main.ts')];

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** The first-start admin key, when this process created the store ('' otherwise). */
  adminKey: string;
  logLines(): string[];
  /** Resolves once `count` log lines match (a signal handled, a reload done). */
  waitForLog(pattern: RegExp, count?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startServeProcess(label: string, env: Record<string, string>): Promise<ServeProcess> {
  for (const [k, v] of Object.entries(env)) if (/(?:_KEY|_SECRETS?|_PASSPHRASE)$/.test(k) && v) recordSecret(v);
  const sink = logSink(label);
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KEYGATE_LOG_LEVEL: 'info', ...env },
    cwd: ROOT,
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let out = '';
  let url = '';
  let adminKey = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((ready, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const parts = out.split('\n');
      out = parts.pop() ?? '';
      for (const line of parts) {
        const key = /kg-[A-Za-z0-9_-]{43}/.exec(line);
        if (key) adminKey = recordSecret(key[0]);
        if (!line.startsWith('{')) continue;
        sink.write(`${line}\n`);
        lines.push(line);
        for (const w of waiters.splice(0)) w();
        const m = /"url":"(http:\/\/[^"]+)"/.exec(line);
        if (m && !url) {
          url = m[1];
          ready();
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => sink.write(d));
    child.once('exit', (code) => fail(new Error(`keygate serve exited early (${code}): ${lines.slice(-3).join(' ')}`)));
  });
  return {
    url,
    child,
    adminKey,
    logLines: () => [...lines],
    waitForLog: async (pattern, count = 1) => {
      while (lines.filter((l) => pattern.test(l)).length < count) await new Promise<void>((r) => waiters.push(r));
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      sink.end();
    },
  };
}
