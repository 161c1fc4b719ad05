/**
 * The gateway behaves the same on PostgreSQL as on SQLite: the same SDK calls, the same
 * records, and a revocation from another connection is seen on the next request.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/connect.js';
import { ApiKeyRepository } from '../../src/store/repositories/api-keys.js';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { postgresAvailable, databaseFor } from '../support/services.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-DIALECTSserverkey0123456789abcdefghijk');
const pgUp = await postgresAvailable();
const dialects = ['sqlite', ...(pgUp ? ['postgres'] : [])];

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await startMockOpenAI();
});
afterAll(() => mock.close());

describe.each(dialects)('gateway on %s', (dialect) => {
  let gw: TestGateway;
  let drop: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    const db = await databaseFor(dialect);
    const databaseUrl = db.url;
    drop = db.drop;
    gw = await startTestGateway({
      label: `dialect-${dialect}`,
      databaseUrl,
      env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url, CUSTOM_LLM_KEY: recordSecret('custom-key-0123456789abcdef') },
      config: {
        providers: { custom: [{ id: 'local-vllm', baseUrl: mock.url, apiKeyEnv: 'CUSTOM_LLM_KEY', models: ['qwen2.5'] }] },
        models: { aliases: { smart: 'openai/gpt-4o', local: 'local-vllm/qwen2.5' } },
      },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await drop();
  });

  it('uses the configured store', () => {
    expect(gw.ctx.store.dialect).toBe(dialect);
  });

  it('serves chat and streaming through the SDK and records both', async () => {
    const c = new OpenAI({ apiKey: gw.adminKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    expect((await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).usage?.total_tokens).toBe(16);
    let text = '';
    for await (const ch of await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true })) text += ch.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from gpt-4o-mini');
    await gw.ctx.usage.flush();
    const rows = await gw.ctx.store.db.selectFrom('requests').selectAll().orderBy('id').execute();
    expect(rows.map((r) => [r.stream, r.status, r.total_tokens])).toEqual([
      [0, 200, 16],
      [1, 200, 16],
    ]);
  });

  it('routes aliases and custom OpenAI-compatible providers with their own key', async () => {
    const c = new OpenAI({ apiKey: gw.adminKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const res = await c.chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'x' }] }).withResponse();
    expect(res.data.choices[0].message.content).toBe('Hello from qwen2.5');
    expect(res.response.headers.get('x-keygate-provider')).toBe('local-vllm');
    expect(mock.last().headers.authorization).toBe('Bearer custom-key-0123456789abcdef');
    await c.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'x' }] });
    expect(mock.last().body?.model).toBe('gpt-4o');
    const ids = (await c.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['local-vllm/qwen2.5', 'smart', 'local']));
  });

  it('sees a revocation made through another connection on the next request', async () => {
    const other = await openStore(gw.loaded.databaseUrl);
    const repo = new ApiKeyRepository(other);
    const { key } = await repo.create({ name: 'temp' });
    recordSecret(key);
    const c = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    await c.models.list();
    await repo.revoke('temp');
    await other.close();
    // PostgreSQL delivers the change notification asynchronously; give it a moment to land.
    let status = 0;
    for (let i = 0; i < 50; i++) {
      const r = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      status = r.status;
      if (status === 401) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(status).toBe(401);
  });
});
