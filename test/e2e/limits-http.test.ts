/**
 * Limits end to end over HTTP, with keys made through the admin API: a daily quota refuses
 * the next call with 429, Retry-After and OpenAI's x-ratelimit headers; 100 simultaneous
 * requests against a quota of 10 let exactly 10 through; a user's limit is shared by its keys.
 * Run with the in-process counters and with Redis (mandatory in CI).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, SERVICES_REQUIRED, deletePrefix, probeRedis, runPrefix } from '../../src/limits/__tests__/redis-env.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-LIMITSserverkey0123456789abcdefghijklmn');
const redisProblem = await probeRedis();
if (redisProblem && SERVICES_REQUIRED) throw new Error(`Redis is required (KEYGATE_REQUIRE_SERVICES=1): ${redisProblem}`);
if (redisProblem) console.warn(`[skip] ${redisProblem}; the Redis variant of the HTTP limit tests is skipped`);

type Body = Record<string, unknown> & { error?: { code: string; message: string; type: string } };

describe.each([
  { store: 'memory', skip: false },
  { store: 'redis', skip: redisProblem !== null },
])('limits over HTTP ($store counters)', ({ store, skip }) => {
  let mock: MockOpenAI;
  let gw: TestGateway;
  const prefix = runPrefix('limits-http');

  beforeAll(async () => {
    if (skip) return;
    mock = await startMockOpenAI();
    gw = await startTestGateway({
      label: `limits-http-${store}`,
      env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url, ...(store === 'redis' ? { REDIS_URL, KEYGATE_LIMITS_PREFIX: prefix } : {}) },
    });
  });
  afterAll(async () => {
    if (skip) return;
    await gw?.stop();
    await mock?.close();
    if (store === 'redis') await deletePrefix(prefix);
  });

  async function admin(method: string, path: string, body?: unknown): Promise<Body> {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${gw.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const parsed = (await res.json()) as Body;
    if (typeof parsed.key === 'string') recordSecret(parsed.key);
    else recordOutput('limits-http', JSON.stringify(parsed));
    expect(res.status, JSON.stringify(parsed)).toBeLessThan(300);
    return parsed;
  }

  async function chat(key: string): Promise<{ status: number; body: Body; headers: Headers }> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 }),
    });
    const text = await res.text();
    recordOutput('limits-http', text);
    return { status: res.status, body: JSON.parse(text) as Body, headers: res.headers };
  }

  it.skipIf(skip)('a key with dailyRequests: 3 gets 429 with Retry-After and x-ratelimit headers on the 4th call', async () => {
    const { key } = (await admin('POST', '/admin/keys', { name: 'daily-3', limits: { dailyRequests: 3 } })) as { key: string };
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await chat(key);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-ratelimit-limit-requests')).toBe('3');
      remaining.push(r.headers.get('x-ratelimit-remaining-requests') ?? '');
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const fourth = await chat(key);
    expect(fourth.status).toBe(429);
    expect(fourth.body.error?.type).toBe('insufficient_quota');
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(fourth.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(fourth.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(fourth.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+h\d+m/);
  });

  it.skipIf(skip)('100 simultaneous requests against dailyRequests: 10 let exactly 10 through', async () => {
    const { key, id } = (await admin('POST', '/admin/keys', { name: 'burst-10', limits: { dailyRequests: 10 } })) as { key: string; id: string };
    const upstreamBefore = mock.requests.length;
    const results = await Promise.all(Array.from({ length: 100 }, () => chat(key)));
    const by = (s: number) => results.filter((r) => r.status === s).length;
    expect(by(200)).toBe(10);
    expect(by(429)).toBe(90);
    // The refused ones never reached the upstream.
    expect(mock.requests.length - upstreamBefore).toBe(10);
    const usage = (await admin('GET', `/admin/keys/${id}/usage`)) as { subjects: Array<{ states: Array<{ limit: string; used: number }> }> };
    expect(usage.subjects[0].states.find((s) => s.limit === 'dailyRequests')?.used).toBe(10);
  });

  it.skipIf(skip)('a user-level limit is shared by two keys', async () => {
    await admin('POST', '/admin/users', { name: `shared-${store}`, limits: { dailyRequests: 4 } });
    const a = (await admin('POST', '/admin/keys', { name: 'shared-a', userId: `shared-${store}` })) as { key: string };
    const b = (await admin('POST', '/admin/keys', { name: 'shared-b', userId: `shared-${store}`, limits: { dailyRequests: 100 } })) as { key: string };
    for (const k of [a.key, b.key, a.key, b.key]) expect((await chat(k)).status).toBe(200);
    const refusedA = await chat(a.key);
    const refusedB = await chat(b.key);
    expect(refusedA.status).toBe(429);
    expect(refusedB.status).toBe(429);
    // The tightest limit applies, and the message says whose it is.
    expect(refusedB.body.error?.message).toMatch(/dailyRequests of user/);
  });

  it.skipIf(skip)("the app a key's user belongs to applies its limit (the tightest), and /usage shows it", async () => {
    const team = (await admin('POST', '/admin/apps', { name: `team-${store}`, limits: { dailyRequests: 1 } })) as { id: string };
    await admin('POST', '/admin/users', { name: `ed-${store}`, appId: team.id });
    const { key, id } = (await admin('POST', '/admin/keys', { name: 'ed-key', userId: `ed-${store}` })) as { key: string; id: string };
    expect((await chat(key)).status).toBe(200);
    const second = await chat(key);
    expect(second.status).toBe(429);
    expect(second.body.error?.message).toMatch(/dailyRequests of app/);
    const usage = (await admin('GET', `/admin/keys/${id}/usage`)) as { subjects: Array<{ subject: string; states: Array<{ limit: string; used: number }> }> };
    expect(usage.subjects.map((s) => s.subject)).toEqual([`app:${team.id}`]);
    expect(usage.subjects[0].states.find((s) => s.limit === 'dailyRequests')?.used).toBe(1);
  });

  it.skipIf(skip)('an rpm limit answers 429 rate_limit_exceeded', async () => {
    const { key } = (await admin('POST', '/admin/keys', { name: 'rpm-2', limits: { rpm: 2 } })) as { key: string };
    expect((await chat(key)).status).toBe(200);
    expect((await chat(key)).status).toBe(200);
    const third = await chat(key);
    expect(third.status).toBe(429);
    expect(third.body.error?.code).toBe('rate_limit_exceeded');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
