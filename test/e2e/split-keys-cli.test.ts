/**
 * `keygate split-key` as a user runs it (child processes, the provider key on stdin), and the
 * split key it made used by a gateway on the same data directory through the openai SDK.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret } from '../support/artifacts.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret(`sk-proj-${randomBytes(30).toString('base64url')}`);
const USER_KEY = recordSecret(`sk-proj-${randomBytes(30).toString('base64url')}`);
const USER_KEY_2 = recordSecret(`sk-proj-${randomBytes(30).toString('base64url')}`);

/** `shownOnce` marks a run whose stdout shows a secret once (a created key or part): only stderr is scanned. */
function run(args: string[], env: Record<string, string>, stdin = '', shownOnce = false): Promise<CliResult> {
  return runCli({ env, stdin, record: 'split-keys-cli', shownOnce }, ...args);
}

// Each CLI run starts a TypeScript child process: slow on a busy machine, so generous limits.
describe('keygate split-key', { timeout: 90_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keygate-splitcli-'));
  const env = { KEYGATE_DATA_DIR: dataDir };
  let mock: MockOpenAI;
  let gw: TestGateway;
  let keyId = '';
  let appKey = '';
  let made: { id: string; client_part: string; owner: string };

  beforeAll(async () => {
    mock = await startMockOpenAI();
    expect((await run(['init'], env, '', true)).code).toBe(0);
    const created = await run(['keys', 'create', '--name', 'alice', '--json'], env, '', true);
    expect(created.code).toBe(0);
    const k = JSON.parse(created.stdout) as { key: string; id: string };
    appKey = recordSecret(k.key);
    keyId = k.id;
  }, 90_000);
  afterAll(async () => {
    await gw?.stop();
    await mock.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('create reads the provider key from stdin and prints the client part once, never the key', async () => {
    const r = await run(['split-key', 'create', '--owner', keyId, '--provider', 'openai', '--json'], env, `${USER_KEY}\n`, true);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    made = JSON.parse(r.stdout) as typeof made;
    recordSecret(made.client_part);
    expect(made.owner).toBe(keyId);
    expect(r.stdout).not.toContain(USER_KEY);
  });

  it('refuses an unknown provider, an unknown owner and an empty stdin, naming the flag', async () => {
    const [p, o, e] = await Promise.all([
      run(['split-key', 'create', '--owner', keyId, '--provider', 'nosuch'], env, USER_KEY),
      run(['split-key', 'create', '--owner', 'key_0000000000000000', '--provider', 'openai'], env, USER_KEY),
      run(['split-key', 'create', '--owner', keyId, '--provider', 'openai'], env, ''),
    ]);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/--provider: 'nosuch' is not a provider/);
    expect(o.code).toBe(1);
    expect(o.stderr).toMatch(/--owner: no key/);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/No provider key on standard input/);
    for (const r of [p, o, e]) expect(r.stdout + r.stderr).not.toContain(USER_KEY);
  });

  it('the key made by the CLI works through a gateway on the same data directory', async () => {
    gw = await startTestGateway({ label: 'split-keys-cli', env: { KEYGATE_DATA_DIR: dataDir, KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url } });
    const client = new OpenAI({ apiKey: appKey, baseURL: `${gw.url}/v1`, maxRetries: 0, defaultHeaders: { 'X-Partial-Key-Id': made.id, 'X-Partial-Key': made.client_part } });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(mock.last().headers.authorization).toBe(`Bearer ${USER_KEY}`);
  });

  it('rotate replaces the provider key: a new id and part printed once, the old pair refused at once', async () => {
    const r = await run(['split-key', 'rotate', made.id, '--json'], env, `${USER_KEY_2}\n`, true);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const next = JSON.parse(r.stdout) as typeof made & { replaced: string };
    recordSecret(next.client_part);
    expect(next.replaced).toBe(made.id);
    expect(next.id).not.toBe(made.id);
    expect(next.owner).toBe(keyId);
    expect(r.stdout).not.toContain(USER_KEY_2);
    const use = (c: { id: string; client_part: string }) =>
      new OpenAI({ apiKey: appKey, baseURL: `${gw.url}/v1`, maxRetries: 0, defaultHeaders: { 'X-Partial-Key-Id': c.id, 'X-Partial-Key': c.client_part } }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await use(next);
    expect(mock.last().headers.authorization).toBe(`Bearer ${USER_KEY_2}`);
    const old = await use(made).catch((e: unknown) => e);
    expect((old as APIError).status).toBe(401);
    const again = await run(['split-key', 'rotate', made.id], env, `${USER_KEY_2}\n`);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is revoked/);
    made = next;
  });

  it('list shows it without key material; revoke stops it at the next request', async () => {
    const l = await run(['split-key', 'list', '--owner', keyId, '--json'], env);
    expect(l.code).toBe(0);
    const rows = JSON.parse(l.stdout) as Array<{ id: string; status: string; provider: string }>;
    expect(rows.filter((x) => x.status === 'active')).toEqual([expect.objectContaining({ id: made.id, status: 'active', provider: 'openai' })]);
    expect(l.stdout).not.toContain(made.client_part);
    expect(l.stdout).not.toContain(USER_KEY);

    const r = await run(['split-key', 'revoke', made.id], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Revoked split key/);
    const client = new OpenAI({ apiKey: appKey, baseURL: `${gw.url}/v1`, maxRetries: 0, defaultHeaders: { 'X-Partial-Key-Id': made.id, 'X-Partial-Key': made.client_part } });
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(401);
    const text = (await run(['split-key', 'list'], env)).stdout;
    expect(text).toMatch(new RegExp(`${made.id}\\s+openai\\s+owner ${keyId}\\s+revoked`));
  });
});
