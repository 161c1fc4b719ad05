/**
 * The CLI as a user runs it, in child processes: init, keys, serve, refusal to start on a bad
 * config, and a graceful shutdown that drains an in-flight stream and flushes its usage.
 */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Child processes on a shared 2-core machine: give each command room, not the assertions.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });
import { pyOk, pythonFernetGate, runPythonFernet } from '../../src/crypto/__tests__/python-fernet.js';
import { generateMasterKey } from '../../src/crypto/index.js';
import { openStore } from '../../src/store/connect.js';
import { recordSecret } from '../support/artifacts.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startTestGateway } from '../support/gateway.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-CLIserverkey0123456789abcdefghijklmnopq');

/** `shownOnce`: stdout shows a new key once by design (init, keys create): only stderr is scanned. */
function run(args: string[], env: Record<string, string>, shownOnce = false): Promise<CliResult> {
  return runCli({ env, record: 'cli', shownOnce }, ...args);
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
    const first = await run(['init'], env, true);
    expect(first.code).toBe(0);
    keyIn(first.stdout);
    expect(statSync(dataDir).mode & 0o077).toBe(0);
    const second = await run(['init'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/already initialised/);
    expect(second.stdout).not.toMatch(/kg-[A-Za-z0-9_-]{43}/);
  });

  it('keys create / list / revoke', async () => {
    const created = await run(['keys', 'create', '--name', 'app1', '--scopes', 'read,write', '--expires', '30d'], env, true);
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
    // Its answer is the enc: value, which the gateway below records as a secret (it is a key variable): stderr only.
    const r = await run(['secrets', 'encrypt', plain], { ...env, KEYGATE_MASTER_KEY: masterKey }, true);
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

describe.each(['SIGTERM', 'SIGINT'] as const)('keygate serve: graceful shutdown on %s', (signal) => {
  let mock: MockOpenAI;
  let served: ServeProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'keygate-cli-serve-'));

  beforeAll(async () => {
    mock = await startMockOpenAI();
    served = await startServeProcess(`cli-serve-${signal}`, { KEYGATE_DATA_DIR: dataDir, OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url, KEY_MODE: 'server' });
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
    const byEnv = await startServeProcess('cli-host-env', env);
    try {
      expect(new URL(byEnv.url).hostname).toBe('127.0.0.2');
      expect((await fetch(`${byEnv.url}/healthz`)).status).toBe(200);
    } finally {
      await byEnv.stop();
    }
    const byFlag = await startServeProcess('cli-host-flag', env, { args: ['--host', '127.0.0.3'] });
    try {
      expect(new URL(byFlag.url).hostname).toBe('127.0.0.3');
      expect((await fetch(`${byFlag.url}/healthz`)).status).toBe(200);
    } finally {
      await byFlag.stop();
    }
  });
});

describe('keygate serve: KEYGATE_AUTH=off', () => {
  it('calls need no keygate key; bound beyond loopback with a provider key, a loud warning at start', async () => {
    const mock = await startMockOpenAI();
    const env = { KEYGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'keygate-cli-authoff-')), KEYGATE_AUTH: 'off', KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url };
    const open = await startServeProcess('cli-auth-off', env, { args: ['--host', '0.0.0.0'] });
    try {
      const res = await fetch(`${open.url.replace('0.0.0.0', '127.0.0.1')}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      expect(mock.last().headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
    } finally {
      await open.stop();
      await mock.close();
    }
    expect(open.stderr()).toMatch(/WARNING: gateway authentication is OFF .* on 0\.0\.0\.0, .*\(openai\)/);
    expect(open.stderr()).not.toContain(SERVER_KEY);
  });
});
