/**
 * Limits end to end over HTTP, with keys made through the admin API: a daily quota refuses
 * the next call with 429, Retry-After and OpenAI's x-ratelimit headers; 100 simultaneous
 * requests against a quota of 10 let exactly 10 through; a user's limit is shared by its keys.
 * Run with the in-process counters and with Redis (mandatory in CI).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REDIS_URL, SERVICES_REQUIRED, deletePrefix, probeRedis, runPrefix } from '../../src/limits/__tests__/redis-env.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';
import { warnSkip } from '../support/skip-log.js';

const SERVER_KEY = recordSecret('sk-proj-LIMITSserverkey0123456789abcdefghijklmn');
const redisProblem = await probeRedis();
if (redisProblem && SERVICES_REQUIRED) throw new Error(`Redis is required (KEYGATE_REQUIRE_SERVICES=1): ${redisProblem}`);
if (redisProblem) warnSkip(`[skip] ${redisProblem}; the Redis variant of the HTTP limit tests is skipped`);

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

  async function chat(key: string, body: Record<string, unknown> = {}): Promise<{ status: number; body: Body; headers: Headers }> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16, ...body }),
    });
    const text = await res.text();
    recordOutput('limits-http', text);
    return { status: res.status, body: JSON.parse(text) as Body, headers: res.headers };
  }

  /** What the counters hold for one limit of a key (settling runs after the response). */
  async function used(keyId: string, limit: string, subject = `key:${keyId}`): Promise<number | undefined> {
    const usage = (await admin('GET', `/admin/keys/${keyId}/usage`)) as { subjects: Array<{ subject: string; states: Array<{ limit: string; used: number }> }> };
    return usage.subjects.find((s) => s.subject === subject)?.states.find((s) => s.limit === limit)?.used;
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
    // The time to the end of the UTC day, in Go's duration format (no hours in its last hour),
    // agreeing with Retry-After.
    const reset = fourth.headers.get('x-ratelimit-reset-requests') ?? '';
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(\d+(?:\.\d+)?)s$/.exec(reset);
    expect(m, reset).not.toBeNull();
    const resetSeconds = Number(m![1] ?? 0) * 3600 + Number(m![2] ?? 0) * 60 + Number(m![3]);
    expect(resetSeconds).toBeGreaterThan(0);
    expect(resetSeconds).toBeLessThanOrEqual(86_400);
    expect(Math.abs(resetSeconds - Number(fourth.headers.get('retry-after')))).toBeLessThanOrEqual(2);
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
    // Its calls are recorded under the team too.
    await gw.ctx.usage.flush();
    const rows = await gw.ctx.store.db.selectFrom('requests').select(['app_id', 'status']).where('key_id', '=', id).execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.app_id === team.id)).toBe(true);
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

  it.skipIf(skip)('a spend budget counts a dated model at its base price (gpt-4o-2024-08-06 is gpt-4o)', async () => {
    // One call reserves about 113 micro-dollars (prompt estimate + 5 answer tokens at gpt-4o's
    // price) and settles at 78 (the mock's 11 + 5 tokens): a second call cannot fit in 150.
    const { key, id } = (await admin('POST', '/admin/keys', { name: 'budget-dated', limits: { dailyBudgetUsd: 0.00015 } })) as { key: string; id: string };
    const first = await chat(key, { model: 'gpt-4o-2024-08-06', max_tokens: 5 });
    expect(first.status).toBe(200);
    const second = await chat(key, { model: 'gpt-4o-2024-08-06', max_tokens: 5 });
    expect(second.status).toBe(429);
    expect(second.body.error?.type).toBe('insufficient_quota');
    expect(second.body.error?.message).toMatch(/dailyBudgetUsd of key/);
    await expect.poll(() => used(id, 'dailyBudgetUsd')).toBe(78);
  });

  it.skipIf(skip)('a call to a model without a price under a spend budget is refused with 403; without a budget it goes through', async () => {
    const { key } = (await admin('POST', '/admin/keys', { name: 'budget-unpriced', limits: { monthlyBudgetUsd: 10 } })) as { key: string };
    const upstreamBefore = mock.requests.length;
    const refused = await chat(key, { model: 'o1' });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('model_price_unknown');
    expect(refused.body.error?.message).toMatch(/openai\/o1/);
    expect(mock.requests.length).toBe(upstreamBefore);
    // A priced model is fine under the same budget, and an unpriced one without a budget.
    expect((await chat(key)).status).toBe(200);
    const free = (await admin('POST', '/admin/keys', { name: 'unbudgeted-unpriced', limits: { dailyRequests: 100 } })) as { key: string };
    expect((await chat(free.key, { model: 'o1' })).status).toBe(200);
  });

  it.skipIf(skip)('a chunked request (no content-length) reserves its prompt tokens from the parsed body', async () => {
    const { key } = (await admin('POST', '/admin/keys', { name: 'chunked-tokens', limits: { dailyTokens: 500 } })) as { key: string };
    // About 1,000 prompt tokens: more than the quota, so refused before the upstream, whatever the framing.
    const payload = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(4000) }], max_tokens: 16 });
    const bytes = new TextEncoder().encode(payload);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 2000));
        c.enqueue(bytes.slice(2000));
        c.close();
      },
    });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    const parsed = (await res.json()) as Body;
    recordOutput('limits-http', JSON.stringify(parsed));
    expect(res.status).toBe(429);
    expect(parsed.error?.message).toMatch(/dailyTokens of key .*This request alone exceeds the limit/);
    // The same body with its length is refused the same way.
    const sized = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: payload });
    recordOutput('limits-http', await sized.text());
    expect(sized.status).toBe(429);
  });

  it.skipIf(skip)('a tpm limit refuses a call whose reserved tokens do not fit, with the -tokens headers', async () => {
    const { key } = (await admin('POST', '/admin/keys', { name: 'tpm-300', limits: { tpm: 300 } })) as { key: string };
    const first = await chat(key, { max_tokens: 150 });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('300');
    // Alone this fits in 300; after the first call's 16 real tokens (or its reservation) it does not.
    const probe = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 });
    const maxTokens = 300 - Math.ceil((probe.length + 1) / 4) - 5;
    const second = await chat(key, { max_tokens: maxTokens });
    expect(second.status).toBe(429);
    expect(second.body.error?.code).toBe('rate_limit_exceeded');
    expect(second.body.error?.message).toMatch(/tpm of key/);
    expect(second.body.error?.message).not.toMatch(/alone exceeds/);
    expect(second.headers.get('x-ratelimit-limit-tokens')).toBe('300');
    expect(second.headers.get('x-ratelimit-reset-tokens')).toBeTruthy();
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it.skipIf(skip)('maxParallel: 1 refuses a second call while the first streams, and admits one after it ends', async () => {
    const { key } = (await admin('POST', '/admin/keys', { name: 'parallel-1', limits: { maxParallel: 1 } })) as { key: string };
    const firstChunk = mock.firstChunkSent();
    const streaming = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'mock-gated-stream', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    expect(streaming.status).toBe(200);
    await firstChunk;
    const second = await chat(key);
    expect(second.status).toBe(429);
    expect(second.body.error?.code).toBe('rate_limit_exceeded');
    expect(second.body.error?.message).toMatch(/maxParallel of key/);
    mock.release();
    expect(await streaming.text()).toContain('[DONE]');
    // The slot is given back once the answer is settled (after the response, asynchronously).
    await expect.poll(async () => (await chat(key)).status).toBe(200);
  });

  it.skipIf(skip)('a call the upstream fails is refunded: it uses up no quota', async () => {
    const { key, id } = (await admin('POST', '/admin/keys', { name: 'refund-2', limits: { dailyRequests: 2, dailyTokens: 10_000 } })) as { key: string; id: string };
    const failed = await chat(key, { model: 'mock-rate-limited' });
    expect(failed.status).toBe(429);
    expect(failed.body.error?.code).not.toBe('insufficient_quota');
    await expect.poll(() => used(id, 'dailyRequests')).toBe(0);
    expect(await used(id, 'dailyTokens')).toBe(0);
    expect((await chat(key)).status).toBe(200);
    expect((await chat(key)).status).toBe(200);
    const third = await chat(key);
    expect(third.status).toBe(429);
    expect(third.body.error?.type).toBe('insufficient_quota');
  });
});

describe('limits over HTTP with limits.unknownModelPrice', () => {
  let mock: MockOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    mock = await startMockOpenAI();
    gw = await startTestGateway({
      label: 'limits-http-fallback-price',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url },
      config: { limits: { unknownModelPrice: { input: 1000, output: 1000 } } },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('charges a model without a price at the fallback price against the budget', async () => {
    const res = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'fallback-priced', limits: { dailyBudgetUsd: 0.035 } }),
    });
    const key = recordSecret(((await res.json()) as { key: string }).key);
    const call = async () => {
      const r = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: 'o1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
      });
      recordOutput('limits-http', await r.text());
      return r.status;
    };
    // About 18 prompt + 5 answer tokens at $1,000 per million reserve $0.023; the answer's 16
    // tokens settle at $0.016: a second call does not fit in $0.035 (settled or not).
    expect(await call()).toBe(200);
    expect(await call()).toBe(429);
  });
});

describe.skipIf(redisProblem !== null)('two gateway processes sharing one Redis', () => {
  // A second process (keygate serve through tsx) takes seconds to start on a busy machine.
  vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });
  let mock: MockOpenAI;
  let a: TestGateway;
  let b: ServeProcess;
  const prefix = runPrefix('limits-two-processes');

  beforeAll(async () => {
    mock = await startMockOpenAI();
    const env = { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url, REDIS_URL, KEYGATE_LIMITS_PREFIX: prefix };
    a = await startTestGateway({ label: 'limits-two-a', env });
    // The same store (SQLite file, WAL) and the same Redis counters, in another process.
    b = await startServeProcess('limits-two-b', { ...env, KEYGATE_DATA_DIR: a.dataDir });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await mock?.close();
    await deletePrefix(prefix);
  });

  it('enforce one limit: 40 simultaneous requests split over both against dailyRequests: 10 let exactly 10 through', async () => {
    const created = await fetch(`${a.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'two-processes', limits: { dailyRequests: 10 } }),
    });
    expect(created.status).toBe(201);
    const key = recordSecret(((await created.json()) as { key: string }).key);
    const chatAt = async (url: string) => {
      const r = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 }),
      });
      recordOutput('limits-http', await r.text());
      return { status: r.status, remaining: r.headers.get('x-ratelimit-remaining-requests') };
    };
    // Both processes know the key before the burst (B reads it from the shared store).
    expect((await chatAt(b.url)).status).toBe(200);
    expect((await chatAt(a.url)).remaining).toBe('8');
    const upstreamBefore = mock.requests.length;
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => chatAt(i % 2 === 0 ? a.url : b.url)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(8);
    expect(results.filter((r) => r.status === 429)).toHaveLength(32);
    expect(mock.requests.length - upstreamBefore).toBe(8);
    expect((await chatAt(b.url)).status).toBe(429);
    expect((await chatAt(a.url)).status).toBe(429);
  });
});

