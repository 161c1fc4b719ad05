/**
 * Usage and cost over HTTP, on SQLite and PostgreSQL: records carry exact cost for a priced
 * model (the mock answers with usage 11/5), null for an unpriced one, an estimate flagged as
 * such for a stream without usage; the admin analytics see everyone, /v1/usage only the
 * caller; bad parameters are 400s that name the parameter; the CSV export parses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { postgresAvailable, databaseFor } from '../support/services.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-USAGEserverkey0123456789abcdefghijklmno');
const NOUSAGE_KEY = recordSecret('nousage-key-0123456789abcdef');
const dialects = ['sqlite', ...((await postgresAvailable()) ? ['postgres'] : [])];

type Json = Record<string, unknown> & { error?: { code: string; message: string; param?: string } };

/** A minimal CSV reader (quoted fields, doubled quotes, CRLF), enough to check the export. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field.replace(/\r$/, '')), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await startMockOpenAI();
});
afterAll(() => mock.close());

describe.each(dialects)('usage and cost on %s', (dialect) => {
  let gw: TestGateway;
  let drop: () => Promise<void> = async () => undefined;
  const keys: Record<'a' | 'b' | 'reader' | 'writer', { id: string; key: string }> = {} as never;
  let userId = '';

  async function call(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; json: Json; text: string; headers: Headers }> {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: Json = {};
    try {
      json = JSON.parse(text) as Json;
    } catch {
      /* CSV or SSE */
    }
    // A new key's one response is the only place it may appear: scanned as a secret, not as output.
    if (typeof json.key === 'string') recordSecret(json.key);
    else recordOutput(`usage-${dialect}`, text);
    return { status: res.status, json, text, headers: res.headers };
  }
  const admin = (path: string) => call('GET', path, gw.adminKey);
  const chat = (key: string, body: Record<string, unknown>) => call('POST', '/v1/chat/completions', key, { messages: [{ role: 'user', content: 'hello there' }], ...body });

  async function records() {
    return gw.ctx.store.db.selectFrom('requests').selectAll().orderBy('id').execute();
  }
  /** Records are written after the response, in batches: flush until all have arrived. */
  async function waitForRecords(n: number) {
    for (let i = 0; i < 200; i++) {
      await gw.ctx.usage.flush();
      if ((await records()).length >= n) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`expected ${n} records`);
  }

  beforeAll(async () => {
    const db = await databaseFor(dialect);
    const databaseUrl = db.url;
    drop = db.drop;
    gw = await startTestGateway({
      label: `usage-${dialect}`,
      databaseUrl,
      env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url, NOUSAGE_KEY },
      config: {
        providers: { custom: [{ id: 'nousage', baseUrl: mock.url, apiKeyEnv: 'NOUSAGE_KEY', streamUsage: false, models: ['m1'] }] },
        upstream: { retries: 0 },
        prices: { 'openai/my-tuned': { input: 1000, output: 2000 }, 'nousage/m1': { input: 1, output: 1 } },
      },
    });
    const user = await call('POST', '/admin/users', gw.adminKey, { name: 'alice' });
    userId = String(user.json.id);
    for (const [name, scopes, uid] of [['a', 'read,write', userId], ['b', 'read,write', null], ['reader', 'read', null], ['writer', 'write', null]] as const) {
      const r = await call('POST', '/admin/keys', gw.adminKey, { name: `usage-${name}`, scopes, ...(uid ? { userId: uid } : {}) });
      expect(r.status, r.text).toBe(201);
      keys[name] = { id: String(r.json.id), key: recordSecret(String(r.json.key)) };
    }

    // The mixed batch: priced, configured-price, unpriced, refused upstream, estimated stream.
    for (let i = 0; i < 3; i++) expect((await chat(keys.a.key, { model: 'gpt-4o' })).status).toBe(200);
    expect((await chat(keys.a.key, { model: 'my-tuned' })).status).toBe(200);
    expect((await chat(keys.a.key, { model: 'gpt-unpriced-x' })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await chat(keys.b.key, { model: 'gpt-4o-mini' })).status).toBe(200);
    expect((await chat(keys.b.key, { model: 'mock-rate-limited' })).status).toBe(429);
    const stream = await chat(keys.b.key, { model: 'nousage/m1', stream: true, max_tokens: 20 });
    expect(stream.status).toBe(200);
    expect(stream.text).toContain('data: [DONE]');
    await waitForRecords(9);
  });
  afterAll(async () => {
    await gw?.stop();
    await drop();
  });

  it('records exact cost for priced models (usage 11/5) and null for an unpriced one', async () => {
    const rows = await records();
    const byModel = (m: string) => rows.filter((r) => r.model === m);
    // gpt-4o: 11 x $2.50 + 5 x $10 per million = 77.5 micro-dollars, rounded up.
    expect(byModel('gpt-4o').map((r) => [r.cost_micros, r.price_known, r.usage_estimated, r.prompt_tokens, r.completion_tokens])).toEqual(Array(3).fill([78, 1, 0, 11, 5]));
    expect(byModel('gpt-4o-mini').map((r) => r.cost_micros)).toEqual([5, 5]); // 4.65, rounded up
    // A price from the config: 11 x 1000 + 5 x 2000.
    expect(byModel('my-tuned')[0].cost_micros).toBe(21_000);
    expect(byModel('gpt-unpriced-x').map((r) => [r.cost_micros, r.price_known, r.prompt_tokens])).toEqual([[null, 0, 11]]);
    expect(byModel('gpt-4o').every((r) => r.user_id === userId && r.key_id === keys.a.id)).toBe(true);
    // Refused upstream: no usage, nothing estimated (the limiter refunded it too); unpriced.
    expect(byModel('mock-rate-limited').map((r) => [r.status, r.cost_micros, r.price_known, r.usage_estimated, r.prompt_tokens])).toEqual([[429, null, 0, 0, null]]);
  });

  it('marks a stream without usage as estimated, counted with a tokenizer (prompt and streamed answer)', async () => {
    const row = (await records()).find((r) => r.provider === 'nousage');
    expect(mock.requests.at(-1)?.body?.stream_options).toBeUndefined();
    // o200k_base: "user" 1 + "hello there" 2 + 3 framing + 3 for the reply = 9; the answer
    // "Hello from m1" is 4 tokens (not max_tokens, 20, nor the body size / 4).
    expect(row && [row.usage_estimated, row.price_known, row.stream, row.completion_tokens, row.prompt_tokens]).toEqual([1, 1, 1, 4, 9]);
    // $1 per million each way.
    expect(row?.cost_micros).toBe(9 + 4);
  });

  it('admin summary equals the raw records, in total and per key', async () => {
    const rows = await records();
    const r = await admin('/admin/analytics/summary?group_by=key');
    expect(r.status, r.text).toBe(200);
    const totals = r.json.totals as Record<string, number> & { latency: Record<string, unknown> };
    const sum = (f: (x: (typeof rows)[number]) => number | null) => rows.reduce((s, x) => s + (f(x) ?? 0), 0);
    expect(totals).toMatchObject({
      requests: rows.length,
      errors: 1,
      costMicros: sum((x) => x.cost_micros),
      promptTokens: sum((x) => x.prompt_tokens),
      completionTokens: sum((x) => x.completion_tokens),
      unpricedRequests: 2,
      estimatedRequests: 1,
    });
    expect(totals.latency).toMatchObject({ approximate: true });
    expect(typeof totals.latency.p95Ms).toBe('number');
    const groups = r.json.groups as Array<{ key: string; requests: number }>;
    expect(Object.fromEntries(groups.map((g) => [g.key, g.requests]))).toEqual({ [keys.a.id]: 5, [keys.b.id]: 4 });
  });

  it('admin time series and top spenders', async () => {
    const ts = await admin('/admin/analytics/timeseries?bucket=hour&group_by=provider');
    expect(ts.status, ts.text).toBe(200);
    const points = ts.json.data as Array<{ t: number; provider: string; requests: number }>;
    expect(points.reduce((s, p) => s + p.requests, 0)).toBe(9);
    expect(points.every((p) => p.t % 3_600_000 === 0)).toBe(true);
    const top = await admin('/admin/analytics/top?by=cost&group_by=key&limit=1');
    expect(top.status, top.text).toBe(200);
    expect((top.json.data as Array<{ key: string; costMicros: number }>).map((d) => [d.key, d.costMicros])).toEqual([[keys.a.id, 3 * 78 + 21_000]]);
    const byUser = await admin(`/admin/analytics/summary?user_id=${userId}`);
    expect((byUser.json.totals as { requests: number }).requests).toBe(5);
  });

  it('exports the records as CSV and JSON', async () => {
    const rows = await records();
    const csv = await admin('/admin/analytics/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const table = parseCsv(csv.text);
    const header = table[0];
    expect(header).toEqual(expect.arrayContaining(['request_id', 'key_id', 'cost_micros', 'usage_estimated']));
    const data = table.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
    expect(data.map((d) => d.request_id).sort()).toEqual(rows.map((r) => r.request_id).sort());
    expect(data.filter((d) => d.model === 'gpt-4o').map((d) => d.cost_micros)).toEqual(['78', '78', '78']);
    expect(data.find((d) => d.model === 'gpt-unpriced-x')?.cost_micros).toBe('');

    const json = await admin(`/admin/analytics/export?format=json&key_id=${keys.b.id}`);
    const list = JSON.parse(json.text) as Array<{ key_id: string; status: number }>;
    expect(list).toHaveLength(4);
    expect(list.every((x) => x.key_id === keys.b.id)).toBe(true);
    const empty = await admin('/admin/analytics/export?format=json&from=1000&to=2000');
    expect(JSON.parse(empty.text)).toEqual([]);
  });

  it('answers 400 naming the bad parameter', async () => {
    for (const [query, param] of [
      ['from=yesterday', 'from'],
      ['from=2030-01-02&to=2030-01-01', 'from'],
      ['group_by=color', 'group_by'],
      ['bucket=week', 'bucket'],
      ['colour=red', 'colour'],
    ] as const) {
      const path = param === 'bucket' ? '/admin/analytics/timeseries' : '/admin/analytics/summary';
      const r = await admin(`${path}?${query}`);
      expect([r.status, r.json.error?.param], query).toEqual([400, param]);
    }
    expect((await admin('/admin/analytics/export?format=xml')).json.error?.param).toBe('format');
    expect((await admin('/admin/analytics/top?by=mood')).json.error?.param).toBe('by');
    expect((await admin('/admin/analytics/top?limit=0')).json.error?.param).toBe('limit');
    expect((await admin('/admin/analytics/timeseries?bucket=hour&from=0')).json.error?.param).toBe('bucket');
  });

  it('keeps the admin analytics to admins', async () => {
    expect((await call('GET', '/admin/analytics/summary', keys.reader.key)).status).toBe(403);
    expect((await fetch(`${gw.url}/admin/analytics/summary`)).status).toBe(401);
  });

  it('GET /v1/usage shows a key only its own usage', async () => {
    const a = await call('GET', '/v1/usage?group_by=model&bucket=day', keys.a.key);
    expect(a.status, a.text).toBe(200);
    expect(a.json.keyId).toBe(keys.a.id);
    expect((a.json.totals as { requests: number; costMicros: number })).toMatchObject({ requests: 5, costMicros: 3 * 78 + 21_000 });
    expect((a.json.groups as Array<{ model: string }>).map((g) => g.model).sort()).toEqual(['gpt-4o', 'gpt-unpriced-x', 'my-tuned']);
    expect((a.json.series as Array<{ requests: number }>).reduce((s, p) => s + p.requests, 0)).toBe(5);
    const b = await call('GET', '/v1/usage', keys.b.key);
    expect((b.json.totals as { requests: number }).requests).toBe(4);
    // A read-only key sees its own usage: none.
    const reader = await call('GET', '/v1/usage', keys.reader.key);
    expect([reader.status, (reader.json.totals as { requests: number }).requests]).toEqual([200, 0]);
    // It cannot widen the filter to someone else's key.
    const widen = await call('GET', `/v1/usage?key_id=${keys.a.id}`, keys.reader.key);
    expect([widen.status, widen.json.error?.param]).toEqual([400, 'key_id']);
    expect((await call('GET', '/v1/usage', keys.writer.key)).status).toBe(403);
  });
});
