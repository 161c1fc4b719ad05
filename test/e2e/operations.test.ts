/**
 * Operations over HTTP: what the request path does lands in the hash-chained audit log,
 * operators' webhooks are delivered signed, and /metrics exposes the traffic (to admins).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/usage/webhooks/index.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const KEY = recordSecret('sk-proj-OPERATIONSserverkey0123456789abcdefghij');
let mock: MockOpenAI;
let gw: TestGateway;
let receiver: Server;
let receiverUrl = '';
const received: Array<{ body: string; signature: string | undefined }> = [];
let onReceive: () => void = () => undefined;

beforeAll(async () => {
  mock = await startMockOpenAI();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ body, signature: req.headers['x-keygate-signature'] as string | undefined });
      res.writeHead(200).end('ok');
      onReceive();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  gw = await startTestGateway({
    label: 'operations',
    env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url },
    config: { webhooks: { allowPrivateTargets: true, allowHttp: true } },
  });
});
afterAll(async () => {
  await gw.stop();
  await mock.close();
  await new Promise<void>((r) => receiver.close(() => r()));
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
    const { secret } = await gw.ctx.ops.webhooks.endpoints.create({ url: receiverUrl, events: ['rate_limited'] });
    recordSecret(secret);
    const delivered = new Promise<void>((r) => (onReceive = r));
    const { key } = await gw.ctx.repos.keys.create({ name: 'hooked', limits: { dailyRequests: 0 } });
    recordSecret(key);
    expect((await chat(key)).status).toBe(429);
    await gw.ctx.ops.webhooks.runOnce();
    await delivered;
    const last = received.at(-1)!;
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
