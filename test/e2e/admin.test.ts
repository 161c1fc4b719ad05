/**
 * The admin API over real HTTP: who may reach it (admin scope only; 401/403/400 otherwise),
 * its own rate limit and lockout per client address, and CRUD of keys, users, apps. Client
 * addresses are simulated with X-Forwarded-For from a trusted loopback proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/server/events.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

let mock: MockOpenAI;
let gw: TestGateway;
const events: GatewayEvent[] = [];
const SERVER_KEY = recordSecret('sk-proj-ADMINserverkey0123456789abcdefghijklmnop');

beforeAll(async () => {
  mock = await startMockOpenAI();
  gw = await startTestGateway({
    label: 'admin',
    env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url },
    config: { server: { trustProxy: ['127.0.0.1/32'] }, auth: { adminRpm: 10_000, adminLockout: { maxFailures: 3, windowSeconds: 600, lockSeconds: 600 } } },
  });
  gw.ctx.events.on((e) => events.push(e));
});
afterAll(async () => {
  await gw?.stop();
  await mock?.close();
});

interface Res<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

type Body = Record<string, unknown> & { error?: { code: string; param?: string; message: string }; data?: Array<Record<string, unknown>> };

/** One admin call. `ip` is the client address the trusted proxy reports; `secret` keeps the body out of the leak-scan outputs. */
async function api(method: string, path: string, opts: { body?: unknown; key?: string | null; ip?: string; headers?: Record<string, string>; secret?: boolean } = {}): Promise<Res<Body>> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? gw.adminKey : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (opts.ip) headers['x-forwarded-for'] = opts.ip;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${gw.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  if (!opts.secret) recordOutput('admin', text);
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Body, headers: res.headers };
}

async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string; view: Body }> {
  const r = await api('POST', '/admin/keys', { body, secret: true });
  expect(r.status).toBe(201);
  const key = recordSecret(r.body.key as string);
  return { id: r.body.id as string, key, view: r.body };
}

async function chat(key: string, model = 'gpt-4o-mini'): Promise<Res<Body>> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const text = await res.text();
  recordOutput('admin', text);
  return { status: res.status, body: JSON.parse(text) as Body, headers: res.headers };
}

describe('who may use the admin API', () => {
  it('refuses a request without a key (401, WWW-Authenticate)', async () => {
    const r = await api('GET', '/admin/keys', { key: null, ip: '198.51.100.1' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('refuses a key without the admin scope (403)', async () => {
    const { key } = await createKey({ name: 'no-admin', scopes: ['read', 'write'] });
    const r = await api('GET', '/admin/keys', { key, ip: '198.51.100.2' });
    expect(r.status).toBe(403);
    expect(r.body.error?.code).toBe('insufficient_scope');
  });

  it('refuses a malformed Authorization header (400)', async () => {
    const r = await api('GET', '/admin/keys', { key: null, ip: '198.51.100.3', headers: { authorization: 'Basic abc def' } });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('malformed_credential');
  });

  it('never accepts a provider key as an admin credential', async () => {
    const r = await api('GET', '/admin/keys', { key: SERVER_KEY, ip: '198.51.100.4' });
    expect(r.status).toBe(401);
  });

  it('answers unknown admin paths only after authentication', async () => {
    expect((await api('GET', '/admin/nope', { key: null, ip: '198.51.100.5' })).status).toBe(401);
    expect((await api('GET', '/admin/nope', { ip: '198.51.100.5' })).status).toBe(404);
  });

  it('locks out an address after repeated failures, even with a valid key; other addresses are unaffected', async () => {
    const attacker = '203.0.113.7';
    const wrong = recordSecret('kg-WrongWrongWrongWrongWrongWrongWrongWrong123');
    for (let i = 0; i < 3; i++) expect((await api('GET', '/admin/keys', { key: wrong, ip: attacker })).status).toBe(401);
    const locked = await api('GET', '/admin/keys', { ip: attacker });
    expect(locked.status).toBe(429);
    expect(locked.body.error?.code).toBe('admin_locked_out');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'admin.lockout' && e.address === attacker)).toBe(true);
    // The Host header plays no part; another client address is not locked.
    expect((await api('GET', '/admin/keys', { ip: '203.0.113.8', headers: { host: 'attacker.example' } })).status).toBe(200);
    // The lock is per admin scope: the public API still answers that address normally.
    const pub = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${gw.adminKey}`, 'x-forwarded-for': attacker } });
    expect(pub.status).not.toBe(429);
  });
});

describe('keys', () => {
  it('creates a key (shown once), lists, shows, updates, revokes and deletes it', async () => {
    const { id, key, view } = await createKey({ name: 'crud-1', scopes: 'read,write', models: ['gpt-4o*'], limits: { rpm: 60 }, expiresIn: '30d', clientId: 'mobile-app' });
    expect(key).toMatch(/^kg-[A-Za-z0-9_-]{43}$/);
    expect(view).toMatchObject({ id, name: 'crud-1', scopes: ['read', 'write'], models: ['gpt-4o*'], limits: { rpm: 60 }, clientId: 'mobile-app', status: 'active' });
    expect(view.expiresAt).toBeTruthy();
    expect(JSON.stringify(view)).not.toContain('hash');

    const shown = await api('GET', `/admin/keys/${id}`);
    expect(shown.status).toBe(200);
    expect(JSON.stringify(shown.body)).not.toContain(key);
    expect(shown.body.key).toBeUndefined();

    const patched = await api('PATCH', `/admin/keys/${id}`, { body: { name: 'crud-1b', limits: { dailyRequests: 5 }, models: null, expiresAt: null } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'crud-1b', limits: { dailyRequests: 5 }, models: null, expiresAt: null });

    expect((await chat(key)).status).toBe(200);
    const revoked = await api('POST', `/admin/keys/${id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const refused = await chat(key);
    expect(refused.status).toBe(401);
    expect(refused.body.error?.code).toBe('revoked_api_key');

    expect((await api('DELETE', `/admin/keys/${id}`)).status).toBe(204);
    expect((await api('GET', `/admin/keys/${id}`)).status).toBe(404);
    const types = events.filter((e) => e.target === id).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['key.created', 'key.updated', 'key.revoked', 'key.deleted']));
    const created = events.find((e) => e.type === 'key.created' && e.target === id);
    expect(created).toMatchObject({ outcome: 'success', address: '127.0.0.1' });
    expect(created?.actor).toMatch(/^key_/);
    expect(JSON.stringify(events)).not.toContain(key);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ scopes: ['read'] }, 'name'],
      [{ name: 'x', limits: { rpm: 'lots' } }, 'limits.rpm'],
      [{ name: 'x', limits: { dailyRequests: -1 } }, 'limits.dailyRequests'],
      [{ name: 'x', limits: { perFortnight: 3 } }, 'limits.perFortnight'],
      [{ name: 'x', scopes: ['root'] }, 'scopes'],
      [{ name: 'x', ipAllow: ['10.0.0.1/8'] }, 'ipAllow[0]'],
      [{ name: 'x', models: ['gpt 4o'] }, 'models'],
      [{ name: 'x', expiresIn: 'soon' }, 'expiresIn'],
      [{ name: 'x', expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ name: 'x', userId: 'nobody' }, 'userId'],
      [{ name: 'x', hash: 'abc' }, 'hash'],
    ];
    for (const [body, param] of cases) {
      const r = await api('POST', '/admin/keys', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.param, JSON.stringify(body)).toBe(param);
    }
    expect((await api('POST', '/admin/keys', { body: { name: 'x', ipAllow: ['10.0.0.1/8'] } })).body.error?.message).toMatch(/did you mean 10\.0\.0\.0\/8/);
  });

  it('a key limited to gpt-4o-mini is refused gpt-4o (403 model_not_allowed)', async () => {
    const { key } = await createKey({ name: 'mini-only', models: ['gpt-4o-mini'] });
    expect((await chat(key, 'gpt-4o-mini')).status).toBe(200);
    const r = await chat(key, 'gpt-4o');
    expect(r.status).toBe(403);
    expect(r.body.error?.code).toBe('model_not_allowed');
  });

  it('pages through the list with a cursor or an offset, and filters by user', async () => {
    const user = await api('POST', '/admin/users', { body: { name: 'pager' } });
    for (let i = 0; i < 5; i++) await createKey({ name: `page-${i}`, userId: 'pager' });
    const first = await api('GET', '/admin/keys?userId=pager&limit=2');
    expect(first.body.data?.map((k) => k.name)).toEqual(['page-0', 'page-1']);
    expect(first.body.total).toBe(5);
    const second = await api('GET', `/admin/keys?userId=${user.body.id as string}&limit=2&cursor=${first.body.nextCursor as string}`);
    expect(second.body.data?.map((k) => k.name)).toEqual(['page-2', 'page-3']);
    const last = await api('GET', `/admin/keys?userId=pager&limit=2&cursor=${second.body.nextCursor as string}`);
    expect(last.body.data?.map((k) => k.name)).toEqual(['page-4']);
    expect(last.body.nextCursor).toBeNull();
    expect((await api('GET', '/admin/keys?userId=pager&offset=3&limit=10')).body.data?.map((k) => k.name)).toEqual(['page-3', 'page-4']);
    expect((await api('GET', '/admin/keys?limit=0')).status).toBe(400);
    expect((await api('GET', '/admin/keys?cursor=bogus')).status).toBe(400);
  });

  it('reports a key\'s usage against its limits', async () => {
    const { id, key } = await createKey({ name: 'usage-1', limits: { dailyRequests: 10 } });
    await chat(key);
    await chat(key);
    const r = await api('GET', `/admin/keys/${id}/usage`);
    expect(r.status).toBe(200);
    const subjects = r.body.subjects as Array<{ subject: string; states: Array<{ limit: string; used: number; remaining: number }> }>;
    const daily = subjects.find((s) => s.subject === `key:${id}`)?.states.find((s) => s.limit === 'dailyRequests');
    expect(daily).toMatchObject({ used: 2, remaining: 8 });
  });
});

describe('users and apps', () => {
  it('CRUD of an app and a user, disable and enable, and delete refused while in use', async () => {
    const app = await api('POST', '/admin/apps', { body: { name: 'team-a', limits: { monthlyRequests: 1000 } } });
    expect(app.status).toBe(201);
    expect(app.body).toMatchObject({ name: 'team-a', disabled: false, hasSecret: false, limits: { monthlyRequests: 1000 } });
    expect((await api('POST', '/admin/apps', { body: { name: 'team-a' } })).status).toBe(409);
    const user = await api('POST', '/admin/users', { body: { name: 'bob', appId: 'team-a' } });
    expect(user.status).toBe(201);
    expect(user.body.appId).toBe(app.body.id);
    expect((await api('GET', '/admin/users/bob')).body.name).toBe('bob');
    expect((await api('GET', '/admin/users')).body.data?.some((u) => u.name === 'bob')).toBe(true);

    const { id: keyId, key } = await createKey({ name: 'bob-key', userId: 'bob' });
    expect((await chat(key)).status).toBe(200);
    const disabled = await api('PATCH', '/admin/users/bob', { body: { disabled: true } });
    expect(disabled.body.disabled).toBe(true);
    const refused = await chat(key);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('identity_disabled');
    await api('PATCH', '/admin/users/bob', { body: { disabled: false, limits: { rpm: 100 } } });
    expect((await chat(key)).status).toBe(200);

    expect((await api('DELETE', '/admin/apps/team-a')).status).toBe(409);
    expect((await api('DELETE', '/admin/users/bob')).status).toBe(409);
    await api('DELETE', `/admin/keys/${keyId}`);
    expect((await api('DELETE', '/admin/users/bob')).status).toBe(204);
    expect((await api('DELETE', '/admin/apps/team-a')).status).toBe(204);
    expect((await api('GET', '/admin/apps/team-a')).status).toBe(404);
  });

  it('refuses bad identity input naming the field', async () => {
    expect((await api('POST', '/admin/users', { body: { name: 'has space' } })).body.error?.param).toBe('name');
    expect((await api('POST', '/admin/users', { body: { name: 'u1', appId: 'missing-app' } })).body.error?.param).toBe('appId');
    expect((await api('POST', '/admin/apps', { body: { name: 'a1', appId: 'x' } })).body.error?.param).toBe('appId');
    expect((await api('PATCH', '/admin/users/nobody', { body: { disabled: true } })).status).toBe(404);
  });

  it('an app secret is returned once and only its hash is stored', async () => {
    const app = await api('POST', '/admin/apps', { body: { name: 'secret-app' } });
    const r = await api('POST', `/admin/apps/${app.body.id as string}/secret`, { secret: true });
    expect(r.status).toBe(201);
    const secret = recordSecret(r.body.secret as string);
    expect(secret).toMatch(/^kgs_/);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const row = await gw.ctx.repos.apps.get('secret-app');
    expect(row?.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.secret_hash).not.toContain(secret);
    const shown = await api('GET', '/admin/apps/secret-app');
    expect(shown.body.hasSecret).toBe(true);
    expect(JSON.stringify(shown.body)).not.toContain(row?.secret_hash as string);
  });
});

describe('the admin rate limit', () => {
  it('refuses an address past adminRpm with 429 and Retry-After; another address goes on', async () => {
    const small = await startTestGateway({ label: 'admin-rpm', config: { server: { trustProxy: ['127.0.0.1/32'] }, auth: { adminRpm: 3 } } });
    try {
      const get = (ip: string) => fetch(`${small.url}/admin/keys`, { headers: { authorization: `Bearer ${small.adminKey}`, 'x-forwarded-for': ip } });
      for (let i = 0; i < 3; i++) expect((await get('192.0.2.10')).status).toBe(200);
      const refused = await get('192.0.2.10');
      recordOutput('admin', await refused.clone().text());
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await get('192.0.2.11')).status).toBe(200);
    } finally {
      await small.stop();
    }
  });

  it('keeps the admin API shut when gateway auth is off', async () => {
    const open = await startTestGateway({ label: 'admin-noauth', config: { auth: { enabled: false } } });
    try {
      const r = await fetch(`${open.url}/admin/keys`);
      recordOutput('admin', await r.clone().text());
      expect(r.status).toBe(403);
    } finally {
      await open.stop();
    }
  });
});

describe('provider and route allow-lists, on every route', () => {
  async function call(method: string, path: string, key: string, body?: unknown): Promise<Res<Body>> {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    recordOutput('admin', text);
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Body, headers: res.headers };
  }
  const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

  it("a providers: ['groq'] key reaches no OpenAI endpoint, with or without a model, through any entry", async () => {
    const { key } = await createKey({ name: 'groq-only', providers: ['groq'] });
    const upstreamBefore = mock.requests.length;
    for (const [method, path, body] of [
      ['GET', '/openai/v1/models', undefined],
      ['GET', '/openai/v1/models/gpt-4o-mini', undefined],
      ['POST', '/openai/v1/moderations', { input: 'hello' }],
      ['POST', '/openai/v1/chat/completions', chatBody],
      ['POST', '/api/openai/proxy', { endpoint: '/moderations', input: 'hello' }],
    ] as const) {
      const r = await call(method, path, key, body);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error?.code, `${method} ${path}`).toBe('provider_not_allowed');
    }
    expect((await chat(key)).body.error?.code).toBe('model_not_allowed');
    expect(mock.requests.length).toBe(upstreamBefore);
  });

  it("providers take globs as models do: 'open*' allows openai", async () => {
    const { key } = await createKey({ name: 'open-glob', providers: ['open*'] });
    expect((await call('GET', '/openai/v1/models', key)).status).toBe(200);
    expect((await chat(key)).status).toBe(200);
    const other = await createKey({ name: 'an-glob', providers: ['an*'] });
    expect((await chat(other.key)).status).toBe(403);
    expect((await call('GET', '/openai/v1/models', other.key)).status).toBe(403);
  });

  it('a key with routes: [/v1/embeddings] may embed but not chat (403 route_not_allowed), nor use the alias or native routes', async () => {
    const { key, view } = await createKey({ name: 'embed-only', routes: ['/v1/embeddings'] });
    expect(view.routes).toEqual(['/v1/embeddings']);
    const embed = await call('POST', '/v1/embeddings', key, { model: 'text-embedding-3-small', input: 'hi' });
    expect(embed.status).toBe(200);
    for (const [path, body] of [
      ['/v1/chat/completions', chatBody],
      ['/api/chat/completions', chatBody],
      ['/openai/v1/embeddings', { model: 'text-embedding-3-small', input: 'hi' }],
    ] as const) {
      const r = await call('POST', path, key, body);
      expect(r.status, path).toBe(403);
      expect(r.body.error?.code, path).toBe('route_not_allowed');
    }
    expect((await call('GET', '/v1/models', key)).body.error?.code).toBe('route_not_allowed');
    // The raw URL plays no part: a query string or a spelling the router folds still names the route.
    expect((await call('POST', '/v1/chat/completions?x=/v1/embeddings', key, chatBody)).status).toBe(403);
    // A token from this key carries the same list.
    const t = await fetch(`${gw.url}/auth/token`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
    expect(t.status).toBe(200);
    const token = recordSecret(((await t.json()) as { access_token: string }).access_token);
    expect((await call('POST', '/v1/chat/completions', token, chatBody)).body.error?.code).toBe('route_not_allowed');
    expect((await call('POST', '/v1/embeddings', token, { model: 'text-embedding-3-small', input: 'hi' })).status).toBe(200);
  });

  it('native routes are matched against the whitelisted endpoint: /openai/* or one endpoint', async () => {
    const native = await createKey({ name: 'native-openai', routes: ['/openai/*'] });
    expect((await call('POST', '/openai/v1/chat/completions', native.key, chatBody)).status).toBe(200);
    expect((await call('POST', '/api/openai/proxy', native.key, { endpoint: '/chat/completions', ...chatBody })).status).toBe(200);
    expect((await call('POST', '/v1/chat/completions', native.key, chatBody)).status).toBe(403);
    const listOnly = await createKey({ name: 'native-models', routes: ['/openai/v1/models', '/openai/v1/models/*'] });
    expect((await call('GET', '/openai/v1/models', listOnly.key)).status).toBe(200);
    // Passed on (the mock has no answer of its own for this path).
    expect((await call('GET', '/openai/v1/models/gpt-4o-mini', listOnly.key)).status).not.toBe(403);
    expect(mock.last().path).toBe('/v1/models/gpt-4o-mini');
    const refused = await call('POST', '/openai/v1/chat/completions', listOnly.key, chatBody);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('route_not_allowed');
    expect((await call('POST', '/api/openai/proxy', listOnly.key, { endpoint: '/chat/completions', ...chatBody })).status).toBe(403);
  });

  it('an admin key limited to public routes cannot reach the admin API', async () => {
    const { key } = await createKey({ name: 'admin-routes', scopes: ['admin', 'write'], routes: ['/v1/*'] });
    const r = await api('GET', '/admin/keys', { key, secret: true });
    expect(r.status).toBe(403);
    expect(r.body.error?.code).toBe('route_not_allowed');
  });

  it('routes are validated and updated like the other lists', async () => {
    const bad = await api('POST', '/admin/keys', { body: { name: 'bad-routes', routes: ['v1/chat/completions'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.param).toBe('routes[0]');
    const badShape = await api('POST', '/admin/keys', { body: { name: 'bad-routes', routes: ['/v1/<chat>'] } });
    expect(badShape.status).toBe(400);
    const { id, key } = await createKey({ name: 'route-update', routes: ['/v1/embeddings'] });
    expect((await chat(key)).status).toBe(403);
    const cleared = await api('PATCH', `/admin/keys/${id}`, { body: { routes: null } });
    expect(cleared.body.routes).toBeNull();
    expect((await chat(key)).status).toBe(200);
  });
});
