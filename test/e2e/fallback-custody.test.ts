/**
 * Key custody across a routing plan: a client's own provider key goes only to the provider
 * the client addressed. Fallbacks and group members on other providers use the gateway's
 * key for that provider, or are skipped; they never receive the client's key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockAnthropic, type MockAnthropic } from '../mock-upstream/anthropic.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const CLIENT_OPENAI_KEY = recordSecret('sk-proj-CUSTODYclientOwnKey0123456789abcdefghij');
const SERVER_ANTHROPIC_KEY = recordSecret('sk-ant-api03-CUSTODYserverKey0123456789abcdefg');

let openai: MockOpenAI;
let anthropic: MockAnthropic;
beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startMockOpenAI(), startMockAnthropic()]);
});
afterAll(async () => {
  await Promise.all([openai.close(), anthropic.close()]);
});

/** Every key-carrying header any upstream received, with the model it was for. */
function keysSeen(): Array<{ upstream: string; model: string; key: string }> {
  const out: Array<{ upstream: string; model: string; key: string }> = [];
  for (const r of openai.requests) out.push({ upstream: r.path.startsWith('/v1') ? 'openai-mock' : r.path, model: String(r.body?.model), key: String(r.headers.authorization ?? '') });
  for (const r of anthropic.requests) out.push({ upstream: 'anthropic-mock', model: String(r.body?.model), key: String(r.headers['x-api-key'] ?? r.headers.authorization ?? '') });
  return out;
}

async function chat(gw: TestGateway, model: string): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_OPENAI_KEY}`, 'x-keygate-key': gw.adminKey },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
  });
}

describe('KEY_MODE=passthrough: the client key stays with the addressed provider', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'custody-passthrough',
      env: { KEY_MODE: 'passthrough', OPENAI_BASE_URL: openai.url, GROQ_BASE_URL: openai.url, ANTHROPIC_BASE_URL: anthropic.url },
      config: {
        upstream: { retries: 0 },
        models: {
          fallbacks: { 'openai/mock-fail-99-503': ['anthropic/claude-custody', 'groq/custody-groq', 'openai/custody-same-provider'] },
          groups: { mixed: { strategy: 'weighted', targets: [{ model: 'openai/mock-fail-99-502', weight: 1000 }, { model: 'anthropic/claude-group', weight: 0.001 }] } },
        },
      },
    });
  });
  afterAll(() => gw.stop());

  it('a fallback chain skips other providers and tries the same provider with the client key', async () => {
    const res = await chat(gw, 'mock-fail-99-503');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keygate-provider')).toBe('openai');
    expect(res.headers.get('x-keygate-model')).toBe('custody-same-provider');
    const seen = keysSeen();
    expect(seen.filter((s) => s.model === 'mock-fail-99-503' || s.model === 'custody-same-provider').map((s) => s.key)).toEqual([`Bearer ${CLIENT_OPENAI_KEY}`, `Bearer ${CLIENT_OPENAI_KEY}`]);
    // Neither Anthropic nor Groq was called: they would have had only the OpenAI key to carry.
    expect(seen.some((s) => s.model === 'claude-custody' || s.model === 'custody-groq')).toBe(false);
    expect(anthropic.requests).toHaveLength(0);
  });

  it('a group member on another provider is skipped, and the client gets the primary failure', async () => {
    const res = await chat(gw, 'mixed');
    expect(res.status).toBe(502);
    expect(anthropic.requests).toHaveLength(0);
    expect(keysSeen().every((s) => s.upstream !== 'anthropic-mock')).toBe(true);
  });
});

describe('KEY_MODE=auto: other providers take the gateway key or are skipped', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    openai.requests.length = 0;
    anthropic.requests.length = 0;
    gw = await startTestGateway({
      label: 'custody-auto',
      env: { KEY_MODE: 'auto', OPENAI_BASE_URL: openai.url, GROQ_BASE_URL: openai.url, ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: SERVER_ANTHROPIC_KEY },
      config: {
        upstream: { retries: 0 },
        models: { fallbacks: { 'openai/mock-fail-99-500': ['groq/custody-auto-groq', 'anthropic/claude-custody-auto'] } },
      },
    });
  });
  afterAll(() => gw.stop());

  it('Groq (no gateway key) is skipped; Anthropic answers with the gateway key, never the client key', async () => {
    const res = await chat(gw, 'mock-fail-99-500');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keygate-provider')).toBe('anthropic');
    const seen = keysSeen();
    expect(seen.find((s) => s.model === 'mock-fail-99-500')?.key).toBe(`Bearer ${CLIENT_OPENAI_KEY}`);
    expect(seen.some((s) => s.model === 'custody-auto-groq')).toBe(false);
    expect(anthropic.requests.map((r) => r.headers['x-api-key'])).toEqual([SERVER_ANTHROPIC_KEY]);
    expect(seen.filter((s) => s.key.includes(CLIENT_OPENAI_KEY)).map((s) => s.model)).toEqual(['mock-fail-99-500']);
  });
});
