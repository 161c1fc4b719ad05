/**
 * The audit log, webhooks and metrics over HTTP on SQLite and on PostgreSQL (like
 * store-dialects): the same admin calls, the same answers, a row edited in each database
 * named by the verifier, a signed webhook delivered from each database's queue.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/usage/webhooks/index.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { postgresAvailable, databaseFor } from '../support/services.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const KEY = recordSecret('sk-proj-OPSDIALECTSserverkey0123456789abcdefgh');
const dialects = ['sqlite', ...((await postgresAvailable()) ? ['postgres'] : [])];
if (process.env.KEYGATE_REQUIRE_SERVICES === '1' && !dialects.includes('postgres')) throw new Error('PostgreSQL is required (KEYGATE_REQUIRE_SERVICES=1) but not reachable.');

let mock: MockOpenAI;
let receiver: WebhookReceiver;

beforeAll(async () => {
  mock = await startMockOpenAI();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await mock?.close();
  await receiver?.close();
});

describe.each(dialects)('operations over HTTP on %s', (dialect) => {
  let gw: TestGateway;
  let drop: () => Promise<void> = async () => undefined;

  async function admin(method: string, path: string, body?: object) {
    const res = await fetch(`${gw.url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${gw.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* ndjson */
    }
    if (typeof json.secret === 'string') recordSecret(json.secret);
    else if (typeof json.key === 'string') recordSecret(json.key);
    else recordOutput(`ops-${dialect}`, text);
    return { status: res.status, json, text };
  }

  beforeAll(async () => {
    const db = await databaseFor(dialect);
    const databaseUrl = db.url;
    drop = db.drop;
    gw = await startTestGateway({
      label: `ops-${dialect}`,
      databaseUrl,
      env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url },
      config: { webhooks: { allowPrivateTargets: true, allowHttp: true } },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await drop();
  });

  it('audits admin actions, queries, exports and verifies the chain; names an edited row', async () => {
    expect((await admin('POST', '/keys', { name: `first-${dialect}` })).status).toBe(201);
    const made = await admin('POST', '/keys', { name: `audited-${dialect}` });
    expect(made.status).toBe(201);
    const q = await admin('GET', '/audit?action=key.created');
    const rows = q.json.data as Array<{ seq: number; target: string; actor: string }>;
    expect(rows[0]).toMatchObject({ target: made.json.id });
    const page = await admin('GET', '/audit?limit=1');
    expect((page.json.data as unknown[]).length).toBe(1);
    expect(typeof page.json.nextCursor).toBe('number');
    expect((await admin('GET', '/audit/verify')).json).toMatchObject({ ok: true });
    const exported = (await admin('GET', '/audit/export')).text.trim().split('\n');
    expect(exported.length).toBeGreaterThanOrEqual(rows.length);
    await sql`UPDATE audit_log SET target = ${'someone-else'} WHERE seq = ${rows[0].seq}`.execute(gw.ctx.store.db);
    expect((await admin('GET', '/audit/verify')).json).toMatchObject({ ok: false, firstBrokenSeq: rows[0].seq });
  });

  it('delivers a signed webhook from the queue and logs it', async () => {
    const hook = await admin('POST', '/webhooks', { url: receiver.url, events: ['rate_limited', 'key.revoked'] });
    expect(hook.status).toBe(201);
    const secret = String(hook.json.secret);
    const { record, key } = await gw.ctx.repos.keys.create({ name: `hooked-${dialect}`, limits: { dailyRequests: 0 } });
    recordSecret(key);
    const before = receiver.received.length;
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(429);
    expect((await admin('POST', `/keys/${record.id}/revoke`)).status).toBe(200);
    while (receiver.received.length < before + 2) {
      await gw.ctx.ops.webhooks.runOnce();
      await new Promise((r) => setTimeout(r, 20));
    }
    const got = receiver.received.slice(before);
    for (const r of got) expect(verifyWebhookSignature(r.signature, r.body, secret)).toBe(true);
    expect(got.map((r) => (JSON.parse(r.body) as { type: string }).type).sort()).toEqual(['key.revoked', 'rate_limited']);
    const log = await admin('GET', `/webhooks/${String(hook.json.id)}/deliveries`);
    expect((log.json.data as Array<{ status: string }>).map((d) => d.status)).toEqual(['succeeded', 'succeeded']);
    expect((await admin('POST', `/webhooks/${String(hook.json.id)}/test`)).json).toMatchObject({ status: 'succeeded' });
    expect(JSON.stringify(got)).not.toContain(key);
  });

  it('serves metrics of the calls made', async () => {
    expect((await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }) })).status).toBe(200);
    const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    const text = await res.text();
    recordOutput(`ops-${dialect}`, text);
    expect(text).toMatch(/keygate_requests_total\{provider="openai",model="openai\/gpt-4o-mini",status="2xx",endpoint="chat"\} [1-9]/);
    expect(text).toMatch(/keygate_limit_rejections_total\{limit="quota_requests"\} [1-9]/);
    expect(text).toMatch(/keygate_cost_usd_total\{provider="openai",model="openai\/gpt-4o-mini"\} /);
    expect(text).not.toContain(KEY);
  });
});
