/**
 * A key's route and provider allow-lists (docs/admin-api.md, docs/security-model.md) on the
 * native routes of Anthropic and Gemini, through their official SDKs: a key limited to other
 * routes gets 403 route_not_allowed, one limited to other providers 403 provider_not_allowed
 * (also on endpoints that name no model, such as the model list), and nothing reaches the
 * provider; a key whose lists name the endpoint passes. The route is the whitelisted
 * endpoint's pattern under its provider, whether the call came through /anthropic/* or
 * /api/anthropic/proxy. (OpenAI's native routes are covered in admin.test.ts.)
 */
import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockAnthropic, type MockAnthropic } from '../mock-upstream/anthropic.js';
import { startMockGemini, type MockGemini } from '../mock-upstream/gemini.js';

let anthropicMock: MockAnthropic;
let geminiMock: MockGemini;
let gw: TestGateway;

beforeAll(async () => {
  anthropicMock = await startMockAnthropic();
  geminiMock = await startMockGemini();
  gw = await startTestGateway({
    label: 'native-route-access',
    env: {
      KEY_MODE: 'server',
      ANTHROPIC_API_KEY: recordSecret('sk-ant-api03-ROUTEACCESSserverKey0123456789abcdef'),
      ANTHROPIC_BASE_URL: anthropicMock.url,
      GEMINI_API_KEY: recordSecret('AIzaROUTEACCESSserverGeminiKey0123456789ab'),
      GEMINI_BASE_URL: geminiMock.url,
    },
  });
});
afterAll(async () => {
  await gw.stop();
  await Promise.all([anthropicMock.close(), geminiMock.close()]);
});

/** A key with these allow-lists, from the admin API (its secret recorded for the leak scan). */
async function keyWith(name: string, lists: { routes?: string[]; providers?: string[] }): Promise<string> {
  const res = await fetch(`${gw.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, ...lists }),
  });
  expect(res.status).toBe(201);
  return recordSecret(((await res.json()) as { key: string }).key);
}

type Outcome = { status: number; refused?: 'route' | 'provider'; shape?: string };

/**
 * How a call ended: 200, or the status, what the message says was refused, and the
 * provider-shaped error type (native routes answer in the provider's own error format, which
 * has no room for keygate's code: Anthropic's permission_error, Google's PERMISSION_DENIED).
 */
async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    await call();
    return { status: 200 };
  } catch (err) {
    let text: string;
    let status: number;
    let shape: string | undefined;
    if (err instanceof Anthropic.APIError) {
      text = JSON.stringify(err.error);
      status = err.status ?? 0;
      shape = (err.error as { error?: { type?: string } } | undefined)?.error?.type;
    } else if (err instanceof ApiError) {
      text = err.message;
      status = err.status;
      shape = /"status":\s*"([A-Z_]+)"/.exec(text)?.[1];
    } else throw err;
    recordOutput('native-route-access', text);
    const refused = /may not use the (route|provider) /.exec(text)?.[1] as Outcome['refused'];
    return { status, refused, shape };
  }
}

const ANTHROPIC_REFUSED = (refused: 'route' | 'provider'): Outcome => ({ status: 403, refused, shape: 'permission_error' });
const GEMINI_REFUSED = (refused: 'route' | 'provider'): Outcome => ({ status: 403, refused, shape: 'PERMISSION_DENIED' });

describe('/anthropic/* with @anthropic-ai/sdk', () => {
  const client = (key: string, base = `${gw.url}/anthropic`) => new Anthropic({ baseURL: base, apiKey: key, maxRetries: 0 });
  const message = (key: string) => client(key).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hello' }] });
  const countTokens = (key: string) => client(key).messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello' }] });
  const listModels = (key: string) => client(key).models.list();

  it('a key limited to the OpenAI-compatible routes is refused every Anthropic endpoint, model or none; nothing goes upstream', async () => {
    const key = await keyWith('v1-only', { routes: ['/v1/*'] });
    const before = anthropicMock.requests.length;
    for (const call of [message, countTokens, listModels]) expect(await outcome(() => call(key))).toEqual(ANTHROPIC_REFUSED('route'));
    expect(anthropicMock.requests.length).toBe(before);
  });

  it('routes: [/anthropic/v1/messages] allows messages only, not count_tokens nor the model list', async () => {
    const key = await keyWith('messages-only', { routes: ['/anthropic/v1/messages'] });
    expect(await outcome(() => message(key))).toEqual({ status: 200 });
    expect(anthropicMock.last().path).toBe('/v1/messages');
    expect(await outcome(() => countTokens(key))).toEqual(ANTHROPIC_REFUSED('route'));
    expect(await outcome(() => listModels(key))).toEqual(ANTHROPIC_REFUSED('route'));
  });

  it('routes: [/anthropic/*] allows every Anthropic endpoint but no Gemini one', async () => {
    const key = await keyWith('anthropic-routes', { routes: ['/anthropic/*'] });
    expect(await outcome(() => message(key))).toEqual({ status: 200 });
    expect(await outcome(() => countTokens(key))).toEqual({ status: 200 });
    const gemini = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${gw.url}/gemini` } });
    expect(await outcome(() => gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' }))).toEqual(GEMINI_REFUSED('route'));
  });

  it('the same route list holds through /api/anthropic/proxy', async () => {
    const messagesOnly = await keyWith('proxy-messages-only', { routes: ['/anthropic/v1/messages'] });
    const v1Only = await keyWith('proxy-v1-only', { routes: ['/v1/*'] });
    const proxy = async (key: string) => {
      const res = await fetch(`${gw.url}/api/anthropic/proxy`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ endpoint: '/messages', model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hello' }] }),
      });
      const text = await res.text();
      recordOutput('native-route-access', text);
      // The SafeAPI-Bridge route answers in keygate's own shape, code included.
      return { status: res.status, code: res.status === 200 ? undefined : (JSON.parse(text) as { error: { code: string } }).error.code };
    };
    expect(await proxy(messagesOnly)).toEqual({ status: 200 });
    expect(await proxy(v1Only)).toEqual({ status: 403, code: 'route_not_allowed' });
  });

  it("providers: ['openai'] is refused Anthropic endpoints, also the model list that names no model; providers: ['anthropic'] passes", async () => {
    const openaiOnly = await keyWith('openai-provider', { providers: ['openai'] });
    const before = anthropicMock.requests.length;
    for (const call of [message, listModels]) expect(await outcome(() => call(openaiOnly))).toEqual(ANTHROPIC_REFUSED('provider'));
    expect(anthropicMock.requests.length).toBe(before);
    const anthropicOnly = await keyWith('anthropic-provider', { providers: ['anthropic'] });
    expect(await outcome(() => message(anthropicOnly))).toEqual({ status: 200 });
  });
});

describe('/gemini/* with @google/genai', () => {
  const ai = (key: string) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${gw.url}/gemini` } });
  const generate = (key: string) => ai(key).models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' });
  const countTokens = (key: string) => ai(key).models.countTokens({ model: 'gemini-2.5-flash', contents: 'Hello' });

  it('a route glob over the endpoint pattern (models/{model}:generateContent): generateContent passes, countTokens is refused', async () => {
    // The pattern's {model} cannot be written in a key's list (braces are not allowed there); * stands for it.
    const key = await keyWith('gemini-generate-only', { routes: ['/gemini/v1beta/models/*:generateContent'] });
    expect(await outcome(() => generate(key))).toEqual({ status: 200 });
    expect(geminiMock.last().path).toMatch(/^\/v1beta\/models\/gemini-2\.5-flash:generateContent/);
    const before = geminiMock.requests.length;
    expect(await outcome(() => countTokens(key))).toEqual(GEMINI_REFUSED('route'));
    expect(geminiMock.requests.length).toBe(before);
  });

  it("providers: ['anthropic'] is refused Gemini endpoints; providers: ['gemini'] passes", async () => {
    const anthropicOnly = await keyWith('gemini-refused-provider', { providers: ['anthropic'] });
    const before = geminiMock.requests.length;
    expect(await outcome(() => generate(anthropicOnly))).toEqual(GEMINI_REFUSED('provider'));
    expect(geminiMock.requests.length).toBe(before);
    const geminiOnly = await keyWith('gemini-provider', { providers: ['gemini'] });
    expect(await outcome(() => generate(geminiOnly))).toEqual({ status: 200 });
  });
});
