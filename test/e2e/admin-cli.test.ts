/**
 * The management CLI in child processes, against the same data directory a running gateway
 * uses: keys with limits and allow-lists, users, apps and their secrets, IP rules, tokens.
 * What the CLI writes is in effect on the gateway's next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-ADMINCLIserverkey0123456789abcdefghijkl');

let mock: MockOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  mock = await startMockOpenAI();
  gw = await startTestGateway({ label: 'admin-cli', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url } });
});
afterAll(async () => {
  await gw?.stop();
  await mock?.close();
});

function run(...args: string[]): Promise<CliResult> {
  // Keys, tokens and app secrets are shown once on stdout: stderr (errors, warnings) is scanned.
  return runCli({ dataDir: gw.dataDir, record: 'admin-cli', shownOnce: true }, ...args);
}

function secretIn(text: string, re: RegExp): string {
  const m = re.exec(text);
  if (!m) throw new Error(`no secret in output: ${text.slice(0, 200)}`);
  return recordSecret(m[0]);
}

async function chat(bearer: string, model = 'gpt-4o-mini'): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  recordOutput('admin-cli', await res.text());
  return res.status;
}

// Each command is a fresh Node process (tsx): seconds each on a busy machine.
const SLOW = 180_000;

describe('keygate users / apps / keys / tokens / ip-rules', () => {
  it('creates an app, a user in it and a key with limits and a model list; the gateway enforces them', async () => {
    expect((await run('apps', 'create', '--name', 'cli-app', '--monthly-requests', '1000')).code).toBe(0);
    const user = await run('users', 'create', '--name', 'carol', '--app', 'cli-app', '--daily-requests', '50', '--json');
    expect(user.code).toBe(0);
    expect(JSON.parse(user.stdout)).toMatchObject({ name: 'carol', limits: { dailyRequests: 50 }, disabled: false });

    const created = await run('keys', 'create', '--name', 'cli-key', '--user', 'carol', '--models', 'gpt-4o-mini', '--routes', '/v1/chat/completions,/openai/*', '--daily-requests', '2', '--rpm', '60', '--daily-budget', '1.5', '--expires', '30d', '--json');
    expect(created.code, created.stderr).toBe(0);
    const key = secretIn(created.stdout, /kg-[A-Za-z0-9_-]{43}/);
    const view = JSON.parse(created.stdout) as { id: string; userId: string; models: string[]; limits: Record<string, number>; expiresAt: string };
    expect(view).toMatchObject({ models: ['gpt-4o-mini'], routes: ['/v1/chat/completions', '/openai/*'], limits: { dailyRequests: 2, rpm: 60, dailyBudgetUsd: 1.5 } });
    expect(view.expiresAt).toBeTruthy();

    expect(await chat(key)).toBe(200);
    expect(await chat(key, 'gpt-4o')).toBe(403);
    expect(await chat(key)).toBe(200);
    expect(await chat(key)).toBe(429);

    const updated = await run('keys', 'update', view.id, '--daily-requests', '5', '--clear', 'models', '--json');
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ models: null, limits: { dailyRequests: 5, rpm: 60, dailyBudgetUsd: 1.5 } });
    expect(await chat(key, 'gpt-4o')).toBe(200);

    const listed = await run('keys', 'list', '--user', 'carol', '--json');
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((k) => k.name)).toEqual(['cli-key']);
    expect(listed.stdout).not.toContain(key);

    expect((await run('users', 'disable', 'carol')).code).toBe(0);
    expect(await chat(key)).toBe(403);
    expect((await run('users', 'enable', 'carol')).code).toBe(0);
    expect(await chat(key)).toBe(200);

    const busy = await run('users', 'delete', 'carol');
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/still has 1 key/);
  }, SLOW);

  it('refuses bad options with a message naming the flag', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['keys', 'create', '--name', 'x', '--rpm', 'lots'], /--rpm: must be a number/],
      [['keys', 'create', '--name', 'x', '--daily-requests', '-1'], /--daily-requests: cannot be negative/],
      [['keys', 'create', '--name', 'x', '--ip', '10.0.0.1/8'], /--ip: .*did you mean 10\.0\.0\.0\/8/],
      [['keys', 'create', '--name', 'x', '--scopes', 'root'], /unknown scope 'root'/],
      [['keys', 'create', '--name', 'x', '--expires', 'soon'], /--expires: must look like 30d/],
      [['keys', 'create', '--name', 'x', '--routes', 'v1/chat/completions'], /--routes: must be a path starting with \//],
      [['keys', 'create', '--name', 'x', '--user', 'nobody'], /--user: no user/],
      [['ip-rules', 'add', 'deny', '10.0.0.300'], /not a valid IPv4 or IPv6/],
      [['tokens', 'issue', '--key-id', 'x', '--app', 'y'], /exactly one of --key-id and --app/],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(...args)));
    cases.forEach(([args, re], i) => {
      expect(runs[i].code, args.join(' ')).toBe(1);
      expect(runs[i].stderr, args.join(' ')).toMatch(re);
    });
  }, SLOW);

  it('issues a token for a key and revokes it; the gateway refuses it on the next request', async () => {
    const created = await run('keys', 'create', '--name', 'cli-token-key', '--scopes', 'read,write');
    const keyId = /Created key (key_[0-9a-f]+)/.exec(created.stdout)?.[1] as string;
    recordSecret(secretIn(created.stdout, /kg-[A-Za-z0-9_-]{43}/));
    const issued = await run('tokens', 'issue', '--key-id', keyId, '--scopes', 'write', '--ttl', '10m');
    expect(issued.code, issued.stderr).toBe(0);
    const token = recordSecret(issued.stdout.trim());
    expect(issued.stderr).toMatch(/scopes write/);
    expect(await chat(token)).toBe(200);
    const more = await run('tokens', 'issue', '--key-id', keyId, '--scopes', 'admin');
    expect(more.code).toBe(1);
    expect((await run('tokens', 'revoke', token)).code).toBe(0);
    expect(await chat(token)).toBe(401);
  }, SLOW);

  it('gives an app a secret that proves the app at POST /auth/token', async () => {
    await run('apps', 'create', '--name', 'cli-mobile');
    const s = await run('apps', 'secret', 'cli-mobile');
    expect(s.code).toBe(0);
    const secret = secretIn(s.stdout, /kgs_[A-Za-z0-9_-]{43}/);
    const res = await fetch(`${gw.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ app: 'cli-mobile', app_secret: secret }) });
    const body = (await res.json()) as { access_token: string };
    expect(res.status).toBe(200);
    recordSecret(body.access_token);
    expect(await chat(body.access_token)).toBe(200);
    const t = await run('tokens', 'issue', '--app', 'cli-mobile');
    expect(t.code).toBe(0);
    expect(await chat(recordSecret(t.stdout.trim()))).toBe(200);
  }, SLOW);

  it('adds, lists and removes a global IP rule; the gateway applies it at once', async () => {
    const created = await run('keys', 'create', '--name', 'cli-ip-key');
    const key = secretIn(created.stdout, /kg-[A-Za-z0-9_-]{43}/);
    const added = await run('ip-rules', 'add', 'deny', '127.0.0.1/32', '--note', 'test');
    expect(added.code).toBe(0);
    const id = /Added (ipr_[0-9a-f]+)/.exec(added.stdout)?.[1] as string;
    expect(await chat(key)).toBe(403);
    const listed = await run('ip-rules', 'list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, list: 'deny', cidr: '127.0.0.1/32', note: 'test' })]);
    expect((await run('ip-rules', 'remove', id)).code).toBe(0);
    expect(await chat(key)).toBe(200);
  }, SLOW);

  it('rotates the token signing secret, keeping the old one for the overlap', async () => {
    const r = await run('tokens', 'rotate-secret', '--overlap', '1h');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/New signing key k[0-9a-z]+ is current/);
  }, SLOW);
});
