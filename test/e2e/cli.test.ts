/**
 * The CLI as a user runs it, in child processes: init, keys, serve, refusal to start on a bad
 * config, and a graceful shutdown that drains an in-flight stream and flushes its usage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Child processes on a shared 2-core machine: give each command room, not the assertions.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });
import { pyOk, pythonFernetGate, runPythonFernet } from '../../src/crypto/__tests__/python-fernet.js';
import { generateMasterKey } from '../../src/crypto/index.js';
import { openStore } from '../../src/store/connect.js';
import { logSink, recordSecret } from '../support/artifacts.js';
import { startTestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
// One process per command (tsx's own CLI would start a second one): these run from source.
const CLI = ['--import', 'tsx', resolve(ROOT, 'src/cli/main.ts')];
const SERVER_KEY = recordSecret('sk-proj-CLIserverkey0123456789abcdefghijklmnopq');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [...CLI, ...args], { env: cleanEnv(env), cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

function keyIn(text: string): string {
  const m = /kg-[A-Za-z0-9_-]{43}/.exec(text);
  if (!m) throw new Error(`no key in output: ${text.slice(0, 200)}`);
  return recordSecret(m[0]);
}

describe('keygate init and keys', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keygate-cli-'));
  const env = { KEYGATE_DATA_DIR: dataDir };

  it('init creates the store and prints an admin key once', async () => {
    const first = await run(['init'], env);
    expect(first.code).toBe(0);
    keyIn(first.stdout);
    expect(statSync(dataDir).mode & 0o077).toBe(0);
    const second = await run(['init'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/already initialised/);
    expect(second.stdout).not.toMatch(/kg-[A-Za-z0-9_-]{43}/);
  });

  it('keys create / list / revoke', async () => {
    const created = await run(['keys', 'create', '--name', 'app1', '--scopes', 'read,write', '--expires', '30d'], env);
    expect(created.code).toBe(0);
    const key = keyIn(created.stdout);
    const listed = await run(['keys', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ name: string; status: string; prefix: string }>;
    expect(rows.find((r) => r.name === 'app1')).toMatchObject({ status: 'active', prefix: `${key.slice(0, 7)}...` });
    expect(listed.stdout).not.toContain(key);
    const revoked = await run(['keys', 'revoke', 'app1'], env);
    expect(revoked.code).toBe(0);
    const after = JSON.parse((await run(['keys', 'list', '--json'], env)).stdout) as Array<{ name: string; status: string }>;
    expect(after.find((r) => r.name === 'app1')?.status).toBe('revoked');
    const again = await run(['keys', 'revoke', 'app1'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/No active key/);
  });

  it('config show prints the effective configuration with the shield defaults', async () => {
    const r = await run(['config', 'show', '--json'], env);
    expect(r.code).toBe(0);
    const shown = JSON.parse(r.stdout) as { keyMode: string; guard: { blockThreshold: number; categories: Record<string, { action: string }> } };
    expect(shown.keyMode).toBe('auto');
    expect(shown.guard.blockThreshold).toBe(70);
    expect(shown.guard.categories.prompt_injection.action).toBe('block');
    expect(shown.guard.categories.secret.action).toBe('redact');
    expect(shown.guard.categories.pii.action).toBe('log');
  });

  it('secrets encrypt prints an enc: value the gateway opens (and Python opens)', async () => {
    const plain = recordSecret('sk-proj-CLIencrypted0123456789abcdefghijkl');
    const masterKey = recordSecret(generateMasterKey());
    const r = await run(['secrets', 'encrypt', plain], { ...env, KEYGATE_MASTER_KEY: masterKey });
    expect(r.code).toBe(0);
    const enc = r.stdout.trim();
    expect(enc).toMatch(/^enc:gAAAAA[A-Za-z0-9_=-]+$/);
    const upstream = await startMockOpenAI();
    const gw = await startTestGateway({ label: 'cli-enc', env: { KEY_MODE: 'server', KEYGATE_MASTER_KEY: masterKey, OPENAI_API_KEY: enc, OPENAI_BASE_URL: upstream.url } });
    try {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(res.status).toBe(200);
      expect(upstream.last().headers.authorization).toBe(`Bearer ${plain}`);
    } finally {
      await gw.stop();
      await upstream.close();
    }
    if (pythonFernetGate().run) {
      const [opened] = runPythonFernet([{ op: 'decrypt', key: masterKey, token: enc.slice('enc:'.length) }]);
      expect(Buffer.from(pyOk(opened), 'base64').toString('utf8')).toBe(plain);
    }
  });

  it('refuses bad arguments with a clear message', async () => {
    const r = await run(['keys', 'create', '--name', 'x', '--scopes', 'root'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown scope 'root'/);
  });
});

describe('keygate serve refuses to start on a bad configuration', () => {
  it('KEY_MODE=server without any provider key names the variables and the alternative', async () => {
    const r = await run(['serve'], { KEYGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'keygate-cli-')), KEY_MODE: 'server' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('OPENAI_API_KEY');
    expect(r.stderr).toContain('KEY_MODE=passthrough');
  });

  it('a bad config file names the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'keyMode: sometimes\n');
    const r = await run(['--config', file, 'serve'], { KEYGATE_DATA_DIR: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('keyMode');
    expect(r.stderr).toContain('server, passthrough, auto');
  });

  it('a bad --port is refused', async () => {
    const r = await run(['serve', '--port', 'http'], { KEYGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'keygate-cli-')) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--port must be a whole number/);
  });
});

interface Served {
  child: ChildProcess;
  url: string;
  adminKey: string;
  exited: Promise<number | null>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** Starts `keygate serve` in a child process and waits for the URL it logs. */
async function serve(label: string, args: string[], env: Record<string, string>): Promise<Served> {
  const sink = logSink(label);
  const child = spawn(process.execPath, [...CLI, 'serve', ...args], { env: cleanEnv(env), cwd: ROOT });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let out = '';
  let err = '';
  return new Promise<Served>((ready, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      // The log is the JSON lines; the first-start banner (the admin key, shown once) is not.
      for (const line of d.toString().split('\n')) if (line.startsWith('{')) sink.write(`${line}\n`);
      out += d.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      // The admin key is printed on the first start only (before the gateway logs its URL).
      const key = /kg-[A-Za-z0-9_-]{43}/.exec(out);
      if (m) ready({ child, url: m[1], adminKey: key ? recordSecret(key[0]) : '', exited, stderr: () => err });
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      sink.write(d);
    });
    child.on('exit', () => fail(new Error(`serve exited early: ${out.slice(0, 500)}`)));
  });
}

describe.each(['SIGTERM', 'SIGINT'] as const)('keygate serve: graceful shutdown on %s', (signal) => {
  let mock: MockOpenAI;
  let served: Served;
  const dataDir = mkdtempSync(join(tmpdir(), 'keygate-cli-serve-'));

  beforeAll(async () => {
    mock = await startMockOpenAI();
    served = await serve(`cli-serve-${signal}`, ['--port', '0'], { KEYGATE_DATA_DIR: dataDir, OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url, KEY_MODE: 'server' });
  });
  afterAll(async () => {
    served?.child.kill('SIGKILL');
    await mock.close();
  });

  it(`on ${signal}, finishes the in-flight stream, flushes its usage and exits 0`, async () => {
    const { url, adminKey, child, exited } = served;
    const firstChunk = mock.firstChunkSent();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ model: 'mock-gated-stream', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    expect(res.status).toBe(200);
    await firstChunk;
    child.kill(signal);
    // New connections are refused while the old stream is still being served.
    await new Promise((r) => setTimeout(r, 100));
    mock.release();
    const text = await res.text();
    expect(text).toContain('Hello');
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(await exited).toBe(0);
    const store = await openStore(`sqlite:${join(dataDir, 'keygate.db')}`);
    try {
      const row = await store.db.selectFrom('requests').selectAll().where('model', '=', 'mock-gated-stream').executeTakeFirst();
      expect(row).toMatchObject({ status: 200, stream: 1, total_tokens: 16 });
    } finally {
      await store.close();
    }
  });
});

describe('keygate serve: the listen address', () => {
  // 127.0.0.0/8 is all loopback on Linux: another address than the default shows the setting is used.
  it('KEYGATE_HOST is honoured, and --host wins over it', async () => {
    const env = { KEYGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'keygate-cli-host-')), KEY_MODE: 'passthrough', KEYGATE_HOST: '127.0.0.2' };
    const byEnv = await serve('cli-host-env', ['--port', '0'], env);
    try {
      expect(new URL(byEnv.url).hostname).toBe('127.0.0.2');
      expect((await fetch(`${byEnv.url}/healthz`)).status).toBe(200);
    } finally {
      byEnv.child.kill('SIGTERM');
      await byEnv.exited;
    }
    const byFlag = await serve('cli-host-flag', ['--port', '0', '--host', '127.0.0.3'], env);
    try {
      expect(new URL(byFlag.url).hostname).toBe('127.0.0.3');
      expect((await fetch(`${byFlag.url}/healthz`)).status).toBe(200);
    } finally {
      byFlag.child.kill('SIGTERM');
      await byFlag.exited;
    }
  });
});

describe('keygate serve: KEYGATE_AUTH=off', () => {
  it('calls need no keygate key; bound beyond loopback with a provider key, a loud warning at start', async () => {
    const mock = await startMockOpenAI();
    const env = { KEYGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'keygate-cli-authoff-')), KEYGATE_AUTH: 'off', KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url };
    const open = await serve('cli-auth-off', ['--port', '0', '--host', '0.0.0.0'], env);
    try {
      const res = await fetch(`${open.url.replace('0.0.0.0', '127.0.0.1')}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      expect(mock.last().headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
    } finally {
      open.child.kill('SIGTERM');
      await open.exited;
      await mock.close();
    }
    expect(open.stderr()).toMatch(/WARNING: gateway authentication is OFF .* on 0\.0\.0\.0, .*\(openai\)/);
    expect(open.stderr()).not.toContain(SERVER_KEY);
  });
});
