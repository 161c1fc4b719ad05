/**
 * Operations over HTTP: what the request path does lands in the hash-chained audit log,
 * operators' webhooks are delivered signed, and /metrics exposes the traffic (to admins).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/usage/webhooks/index.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const KEY = recordSecret('sk-proj-OPERATIONSserverkey0123456789abcdefghij');
let mock: MockOpenAI;
let gw: TestGateway;
let receiver: WebhookReceiver;

beforeAll(async () => {
  mock = await startMockOpenAI();
  receiver = await startWebhookReceiver();
  gw = await startTestGateway({
    label: 'operations',
    env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url },
    config: { webhooks: { allowPrivateTargets: true, allowHttp: true } },
  });
});
afterAll(async () => {
  await gw?.stop();
  await mock?.close();
  await receiver?.close();
});

const chat = (key: string, model = 'gpt-4o-mini') =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
  });

describe('audit log', () => {
  it('records the use of a revoked key and a limit hit, in an intact chain', async () => {
    const { record, key } = await gw.ctx.repos.keys.create({ name: 'audited', limits: { dailyRequests: 1 } });
    recordSecret(key);
    expect((await chat(key)).status).toBe(200);
    expect((await chat(key)).status).toBe(429);
    await gw.ctx.repos.keys.revoke(record.id);
    gw.ctx.access.invalidate();
    expect((await chat(key)).status).toBe(401);
    await gw.ctx.ops.audit.flush();
    const { items } = await gw.ctx.ops.audit.query({});
    const actions = items.map((i) => i.action);
    expect(actions).toContain('rate_limited');
    expect(actions).toContain('credential.revoked_used');
    expect(JSON.stringify(items)).not.toContain(key);
    expect((await gw.ctx.ops.audit.verify()).ok).toBe(true);
  });

  it('names the first record edited in the database', async () => {
    const { items } = await gw.ctx.ops.audit.query({});
    const victim = items[0];
    await sql`UPDATE audit_log SET outcome = 'success' WHERE seq = ${victim.seq}`.execute(gw.ctx.store.db);
    const result = await gw.ctx.ops.audit.verify();
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.firstBrokenSeq).toBe(victim.seq);
  });
});

describe('webhooks', () => {
  it('delivers a signed rate_limited event to a subscribed endpoint', async () => {
    const { secret } = await gw.ctx.ops.webhooks.endpoints.create({ url: receiver.url, events: ['rate_limited'] });
    recordSecret(secret);
    const delivered = receiver.next();
    const { key } = await gw.ctx.repos.keys.create({ name: 'hooked', limits: { dailyRequests: 0 } });
    recordSecret(key);
    expect((await chat(key)).status).toBe(429);
    await gw.ctx.ops.webhooks.runOnce();
    const last = await delivered;
    expect(verifyWebhookSignature(last.signature, last.body, secret)).toBe(true);
    expect(verifyWebhookSignature(last.signature, `${last.body} `, secret)).toBe(false);
    expect(JSON.parse(last.body)).toMatchObject({ type: 'rate_limited' });
    expect(last.body).not.toContain(key);
  });
});

describe('metrics', () => {
  it('needs an admin credential by default', async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
    const { key } = await gw.ctx.repos.keys.create({ name: 'app-metrics' });
    recordSecret(key);
    expect((await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(403);
  });

  it('exposes request counts, latency and rejections, with bounded labels and no secret', async () => {
    await chat(gw.adminKey);
    await chat(gw.adminKey, 'some-unknown-model-xyz');
    const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    recordOutput('metrics', text);
    expect(text).toMatch(/keygate_requests_total\{[^}]*model="openai\/gpt-4o-mini"/);
    expect(text).not.toContain('some-unknown-model-xyz');
    expect(text).toMatch(/model="other"/);
    expect(text).toMatch(/keygate_limit_rejections_total\{[^}]*limit="quota_requests"/);
    expect(text).not.toContain(KEY);
  });
});

describe('metrics that count everything', () => {
  let g: TestGateway;
  const scrape = async () => {
    const res = await fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${g.adminKey}` } });
    const text = await res.text();
    recordOutput('metrics', text);
    return text;
  };
  const value = (text: string, re: RegExp): number => Number(new RegExp(`^${re.source} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const call = (path: string, body: Record<string, unknown>, key = g.adminKey) =>
    fetch(`${g.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });

  beforeAll(async () => {
    g = await startTestGateway({
      label: 'metrics-all',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url },
      config: {
        upstream: { retries: 0, connectionsPerOrigin: 4, circuitBreaker: { failureThreshold: 2, cooldownMs: 1 } },
        prices: { 'openai/mock-cached': { input: 1, output: 2, cachedInput: 0.5 } },
      },
    });
  });
  afterAll(() => g?.stop());

  it('counts cost and cached tokens', async () => {
    expect((await call('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).status).toBe(200);
    expect((await call('/v1/chat/completions', { model: 'mock-cached', messages: [{ role: 'user', content: 'x' }] })).status).toBe(200);
    const text = await scrape();
    // gpt-4o-mini: 11 x $0.15 + 5 x $0.60 per million.
    expect(value(text, /keygate_cost_usd_total\{provider="openai",model="openai\/gpt-4o-mini"\}/)).toBeGreaterThan(0);
    expect(value(text, /keygate_tokens_total\{provider="openai",model="other",kind="cached"\}/)).toBe(8);
    expect(value(text, /keygate_cost_usd_total\{provider="openai",model="other"\}/)).toBeGreaterThan(0);
  });

  it('labels errors by type and counts requests refused before forwarding', async () => {
    expect((await call('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] }, 'kg-wrong-key-0123456789')).status).toBe(401);
    expect((await call('/v1/chat/completions', { model: 'gpt-4o-mini' })).status).toBe(400);
    expect((await call('/v1/chat/completions', { model: 'mock-rate-limited', messages: [{ role: 'user', content: 'x' }] })).status).toBe(429);
    const text = await scrape();
    expect(value(text, /keygate_errors_total\{type="authentication_error"\}/)).toBeGreaterThanOrEqual(1);
    expect(value(text, /keygate_errors_total\{type="invalid_request_error"\}/)).toBeGreaterThanOrEqual(1);
    expect(value(text, /keygate_errors_total\{type="rate_limit_error"\}/)).toBeGreaterThanOrEqual(1);
    expect(text).not.toMatch(/keygate_errors_total\{type="other"\}/);
    // The 401 and the 400 never reached the upstream, and are counted all the same.
    expect(value(text, /keygate_requests_total\{provider="other",model="other",status="4xx",endpoint="chat"\}/)).toBeGreaterThanOrEqual(1);
  });

  it('names native endpoints', async () => {
    await call('/openai/v1/moderations', { model: 'omni-moderation-latest', input: 'x' });
    const text = await scrape();
    expect(text).toMatch(/keygate_requests_total\{provider="openai",model="[^"]+",status="\dxx",endpoint="moderations"\}/);
  });

  it('reports pool saturation while a call is in flight, and the half-open circuit state', async () => {
    const first = mock.firstChunkSent();
    const inFlight = call('/v1/chat/completions', { model: 'mock-gated-stream', stream: true, messages: [{ role: 'user', content: 'x' }] });
    await first;
    expect(value(await scrape(), /keygate_upstream_pool_saturation\{provider="openai"\}/)).toBe(0.25);
    mock.release();
    await (await inFlight).text();
    expect(value(await scrape(), /keygate_upstream_pool_saturation\{provider="openai"\}/)).toBe(0);

    g.ctx.breakers.failure('openai');
    g.ctx.breakers.failure('openai');
    expect(value(await scrape(), /keygate_upstream_circuit_state\{provider="openai"\}/)).toBe(2);
    // The cooldown is 1 ms: the next call allowed is the half-open probe.
    while (!g.ctx.breakers.allow('openai')) await new Promise((r) => setImmediate(r));
    expect(value(await scrape(), /keygate_upstream_circuit_state\{provider="openai"\}/)).toBe(1);
    g.ctx.breakers.success('openai');
    expect(value(await scrape(), /keygate_upstream_circuit_state\{provider="openai"\}/)).toBe(0);
  });
});

describe('event flooding', () => {
  let g: TestGateway;
  const records = async (action: string) => {
    await g.ctx.ops.audit.flush();
    return (await g.ctx.ops.audit.query({ action, limit: 500 })).items;
  };
  const deliveries = async (event: string) =>
    (await g.ctx.store.db.selectFrom('webhook_deliveries' as never).selectAll().where('event' as never, '=', event as never).execute()) as Array<{ payload: string }>;

  beforeAll(async () => {
    g = await startTestGateway({
      label: 'event-flood',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url },
      config: { events: { coalesceSeconds: 1 }, webhooks: { allowPrivateTargets: true, allowHttp: true } },
    });
    recordSecret((await g.ctx.ops.webhooks.endpoints.create({ url: receiver.url, events: ['rate_limited'] })).secret);
  });
  afterAll(() => g?.stop());

  it('a burst of refusals is one audit record and one webhook per key, then one with the count', async () => {
    const { record, key } = await g.ctx.repos.keys.create({ name: 'flooder', limits: { dailyRequests: 0 } });
    recordSecret(key);
    const send = () =>
      fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }) });
    for (let i = 0; i < 10; i++) expect((await send()).status).toBe(429);
    const first = (await records('rate_limited')).filter((r) => r.actor === record.id);
    expect(first).toHaveLength(1);
    expect(first[0].details).toMatchObject({ count: 1 });
    expect(await deliveries('rate_limited')).toHaveLength(1);
    // The window (1 s) ends: the other nine arrive as one record and one webhook.
    let later = first;
    while (later.length < 2) {
      await new Promise((r) => setTimeout(r, 20));
      later = (await records('rate_limited')).filter((r) => r.actor === record.id);
    }
    expect(later[0].details).toMatchObject({ count: 9, windowSeconds: 1 });
    while ((await deliveries('rate_limited')).length < 2) await new Promise((r) => setTimeout(r, 20));
    expect(JSON.parse((await deliveries('rate_limited'))[1].payload)).toMatchObject({ data: { count: 9 } });
    // Metrics still count every refusal.
    const text = await (await fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${g.adminKey}` } })).text();
    expect(Number(/^keygate_limit_rejections_total\{limit="quota_requests"\} (\d+)$/m.exec(text)?.[1])).toBe(10);
    expect((await g.ctx.ops.audit.verify()).ok).toBe(true);
  });

  it('bad credentials from one address are one record, then one with the count', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${g.url}/v1/models`, { headers: { authorization: `Bearer kg-not-a-key-${i}-0123456789abcdef` } });
      expect(res.status).toBe(401);
    }
    expect(await records('credential.rejected')).toHaveLength(1);
    let all = await records('credential.rejected');
    while (all.length < 2) {
      await new Promise((r) => setTimeout(r, 20));
      all = await records('credential.rejected');
    }
    expect(all[0].details).toMatchObject({ count: 4 });
  });
});
