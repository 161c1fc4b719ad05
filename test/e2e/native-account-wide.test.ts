/**
 * Account-wide data through endpoints that are open by default: OpenAI's stored responses
 * (`previous_response_id`) and files, Anthropic's files (a `file_id` source, the files-api
 * beta header), Gemini's cached contents and files (`cachedContent`, `fileData.fileUri`).
 * Refused with 403 before the upstream unless the operator enabled the matching group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockAnthropic, type MockAnthropic } from '../mock-upstream/anthropic.js';
import { startMockGemini, type MockGemini } from '../mock-upstream/gemini.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const ANTHROPIC_KEY = recordSecret('sk-ant-api03-ACCOUNTWIDEserverKey0123456789abcd');
const GEMINI_KEY = recordSecret('AIzaACCOUNTWIDEserverGeminiKey0123456789');
const OPENAI_KEY = recordSecret('sk-proj-ACCOUNTWIDEserverKey0123456789abcdefghij');

let anthropic: MockAnthropic;
let gemini: MockGemini;
let openai: MockOpenAI;
const upstreamCalls = () => anthropic.requests.length + gemini.requests.length + openai.requests.length;

beforeAll(async () => {
  [anthropic, gemini, openai] = await Promise.all([startMockAnthropic(), startMockGemini(), startMockOpenAI()]);
});
afterAll(async () => {
  await Promise.all([anthropic.close(), gemini.close(), openai.close()]);
});

const env = () => ({
  KEY_MODE: 'server',
  ANTHROPIC_API_KEY: ANTHROPIC_KEY,
  ANTHROPIC_BASE_URL: anthropic.url,
  GEMINI_API_KEY: GEMINI_KEY,
  GEMINI_BASE_URL: gemini.url,
  OPENAI_API_KEY: OPENAI_KEY,
  OPENAI_BASE_URL: openai.url,
});

interface Case {
  name: string;
  path: string;
  body: unknown;
  headers?: Record<string, string>;
  field: string;
  group: string;
  provider: string;
}

const claude = (content: unknown) => ({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content }] });
const CASES: Case[] = [
  { name: 'OpenAI previous_response_id', path: '/openai/v1/responses', body: { model: 'gpt-4o-mini', input: 'go on', previous_response_id: 'resp_someoneelse' }, field: 'previous_response_id', group: 'stored_responses', provider: 'openai' },
  { name: 'OpenAI conversation', path: '/openai/v1/responses', body: { model: 'gpt-4o-mini', input: 'go on', conversation: 'conv_123' }, field: 'conversation', group: 'stored_responses', provider: 'openai' },
  { name: 'OpenAI item_reference', path: '/openai/v1/responses', body: { model: 'gpt-4o-mini', input: [{ type: 'item_reference', id: 'msg_1' }] }, field: 'type: "item_reference"', group: 'stored_responses', provider: 'openai' },
  { name: 'OpenAI input_file file_id', path: '/openai/v1/responses', body: { model: 'gpt-4o-mini', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-abc' }] }] }, field: 'file_id', group: 'files', provider: 'openai' },
  { name: 'OpenAI chat file part', path: '/openai/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }] }, field: 'file_id', group: 'files', provider: 'openai' },
  { name: 'Anthropic file source', path: '/anthropic/v1/messages', body: claude([{ type: 'document', source: { type: 'file', file_id: 'file_011' } }]), field: 'file_id', group: 'files', provider: 'anthropic' },
  { name: 'Anthropic files beta header', path: '/anthropic/v1/messages', body: claude('hi'), headers: { 'anthropic-beta': 'files-api-2025-04-14' }, field: 'header anthropic-beta', group: 'files', provider: 'anthropic' },
  { name: 'Gemini cachedContent', path: '/gemini/v1beta/models/gemini-2.5-flash:generateContent', body: { cachedContent: 'cachedContents/abc', contents: [{ role: 'user', parts: [{ text: 'x' }] }] }, field: 'cachedContent', group: 'cachedContents', provider: 'gemini' },
  { name: 'Gemini cached_content (snake case)', path: '/gemini/v1beta/models/gemini-2.5-flash:countTokens', body: { generate_content_request: { cached_content: 'cachedContents/abc' } }, field: 'cached_content', group: 'cachedContents', provider: 'gemini' },
  { name: 'Gemini fileData.fileUri', path: '/gemini/v1beta/models/gemini-2.5-flash:generateContent', body: { contents: [{ role: 'user', parts: [{ fileData: { mimeType: 'application/pdf', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } }] }] }, field: 'fileUri', group: 'files', provider: 'gemini' },
];

function authFor(provider: string, key: string): Record<string, string> {
  if (provider === 'anthropic') return { 'x-api-key': key, 'anthropic-version': '2023-06-01' };
  if (provider === 'gemini') return { 'x-goog-api-key': key };
  return { authorization: `Bearer ${key}` };
}

async function post(gw: TestGateway, c: Case): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}${c.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authFor(c.provider, gw.adminKey), ...c.headers },
    body: JSON.stringify(c.body),
  });
  const text = await res.text();
  recordOutput('native-account-wide', text);
  return { status: res.status, text };
}

describe('account-wide groups off (the default)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ label: 'native-account-wide-off', env: env() });
  });
  afterAll(() => gw.stop());

  it.each(CASES.map((c) => [c.name, c] as const))('%s: 403 naming the field and the switch, nothing sent upstream', async (_name, c) => {
    const before = upstreamCalls();
    const res = await post(gw, c);
    expect(res.status).toBe(403);
    // Each provider's own error shape; all three put the message at error.message.
    const message = (JSON.parse(res.text) as { error: { message: string } }).error.message;
    expect(message).toContain(c.field);
    expect(message).toContain(`providers.${c.provider}.nativeEndpoints: [${c.group}]`);
    expect(upstreamCalls()).toBe(before);
  });

  it('the SafeAPI-Bridge proxy route is held to the same rule', async () => {
    const before = upstreamCalls();
    const res = await fetch(`${gw.url}/api/openai/proxy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
      body: JSON.stringify({ endpoint: '/responses', model: 'gpt-4o-mini', input: 'x', previous_response_id: 'resp_1' }),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('previous_response_id');
    expect(upstreamCalls()).toBe(before);
  });

  it('/v1/chat/completions to OpenAI (a body forwarded as it is) is held to the same rule', async () => {
    const before = upstreamCalls();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
      body: JSON.stringify(CASES[4].body),
    });
    expect(res.status).toBe(403);
    const e = ((await res.json()) as { error: { message: string; code: string } }).error;
    expect(e.code).toBe('account_wide_not_enabled');
    expect(e.message).toContain('providers.openai.nativeEndpoints: [files]');
    expect(upstreamCalls()).toBe(before);
  });

  it('a null previous_response_id and an ordinary beta header are not references', async () => {
    const before = openai.requests.length;
    const res = await post(gw, { ...CASES[0], body: { model: 'gpt-4o-mini', input: 'x', previous_response_id: null } });
    expect(res.status).not.toBe(403);
    expect(openai.requests.length).toBe(before + 1);
    const a = await post(gw, { ...CASES[6], headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } });
    expect(a.status).toBe(200);
    expect(anthropic.last().headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
  });
});

describe('account-wide groups enabled', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'native-account-wide-on',
      env: env(),
      config: {
        providers: {
          openai: { nativeEndpoints: ['stored_responses', 'files'] },
          anthropic: { nativeEndpoints: ['files'] },
          gemini: { nativeEndpoints: ['files', 'cachedContents'] },
        },
      },
    });
  });
  afterAll(() => gw.stop());

  it.each(CASES.map((c) => [c.name, c] as const))('%s reaches the upstream', async (_name, c) => {
    const before = upstreamCalls();
    const res = await post(gw, c);
    expect(res.status).not.toBe(403);
    expect(upstreamCalls()).toBe(before + 1);
  });

  it('/v1/chat/completions with a file part reaches OpenAI once files are enabled', async () => {
    const before = openai.requests.length;
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
      body: JSON.stringify(CASES[4].body),
    });
    expect(res.status).toBe(200);
    expect(openai.requests.length).toBe(before + 1);
  });

  it('the files beta header is forwarded once files are enabled', async () => {
    await post(gw, CASES[6]);
    expect(anthropic.last().headers['anthropic-beta']).toBe('files-api-2025-04-14');
  });
});
