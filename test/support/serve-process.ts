/**
 * `keygate serve` in a child process (from source, through tsx), for tests that need a second
 * gateway process, a real signal (SIGHUP, SIGTERM) or the command line itself. Its log lines go
 * to the leak scan like any other; the first-start admin key is recorded as a secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { logSink, recordSecret } from './artifacts.js';
import { CLI, ROOT } from './cli.js';

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** The first-start admin key, when this process created the store ('' otherwise). */
  adminKey: string;
  /** The exit code, once the process has exited (null when a signal ended it). */
  exited: Promise<number | null>;
  logLines(): string[];
  /** Everything written to stderr so far (start-up warnings). */
  stderr(): string;
  /** Resolves once `count` log lines match (a signal handled, a reload done). */
  waitForLog(pattern: RegExp, count?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** Arguments before `serve` (`--config file`). */
  before?: string[];
  /** Arguments after `serve --port 0` (`--host 127.0.0.2`). */
  args?: string[];
}

export async function startServeProcess(label: string, env: Record<string, string>, opts: ServeOptions = {}): Promise<ServeProcess> {
  for (const [k, v] of Object.entries(env)) if (/(?:_KEY|_SECRETS?|_PASSPHRASE)$/.test(k) && v) recordSecret(v);
  const sink = logSink(label);
  const child = spawn(process.execPath, [...CLI, ...(opts.before ?? []), 'serve', '--port', '0', ...(opts.args ?? [])], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KEYGATE_LOG_LEVEL: 'info', ...env },
    cwd: ROOT,
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let out = '';
  let err = '';
  let url = '';
  let adminKey = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await new Promise<void>((ready, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const parts = out.split('\n');
      out = parts.pop() ?? '';
      for (const line of parts) {
        // The log is the JSON lines; the first-start banner (the admin key, shown once) is not.
        const key = /kg-[A-Za-z0-9_-]{43}/.exec(line);
        if (key) adminKey = recordSecret(key[0]);
        if (!line.startsWith('{')) continue;
        sink.write(`${line}\n`);
        lines.push(line);
        for (const w of waiters.splice(0)) w();
        const m = /"url":"(https?:\/\/[^"]+)"/.exec(line);
        if (m && !url) {
          url = m[1];
          ready();
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      sink.write(d);
    });
    void exited.then((code) => fail(new Error(`keygate serve exited early (${code}): ${[...lines.slice(-3), err.slice(-300)].join(' ')}`)));
  });
  return {
    url,
    child,
    adminKey,
    exited,
    logLines: () => [...lines],
    stderr: () => err,
    waitForLog: async (pattern, count = 1) => {
      while (lines.filter((l) => pattern.test(l)).length < count) await new Promise<void>((r) => waiters.push(r));
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      sink.end();
    },
  };
}
