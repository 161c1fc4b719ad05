/**
 * Malformed tool and content shapes sent to translated providers (Anthropic, Gemini): a 400
 * naming the parameter, never a 500; and a request the gateway refuses itself while a
 * circuit is half-open neither closes the circuit nor holds its probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockAnthropic, type MockAnthropic } from '../mock-upstream/anthropic.js';
import { startMockGemini, type MockGemini } from '../mock-upstream/gemini.js';

const ANTHROPIC_KEY = recordSecret('sk-ant-api03-BADINPUTserverKey0123456789abcdefgh');
const GEMINI_KEY = recordSecret('AIzaBADINPUTserverGeminiKey0123456789abcd');

let anthropic: MockAnthropic;
let gemini: MockGemini;
let gw: TestGateway;
beforeAll(async () => {
  [anthropic, gemini] = await Promise.all([startMockAnthropic(), startMockGemini()]);
  gw = await startTestGateway({
    label: 'translated-bad-input',
    env: { KEY_MODE: 'server', ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.url, GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.url },
    // A 1 ms cooldown: the next request after a failure is the half-open probe.
    config: { upstream: { retries: 0, circuitBreaker: { failureThreshold: 1, cooldownMs: 1 } } },
  });
});
afterAll(async () => {
  await gw.stop();
  await Promise.all([anthropic.close(), gemini.close()]);
});

async function chat(body: Record<string, unknown>): Promise<{ status: number; body: { error?: { message: string; type: string; code: string; param?: string } } }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  recordOutput('translated-bad-input', text);
  return { status: res.status, body: JSON.parse(text) as { error?: { message: string; type: string; code: string; param?: string } } };
}

const user = [{ role: 'user', content: 'x' }];
const MALFORMED: Array<[string, Record<string, unknown>, string]> = [
  ['an empty tool', { messages: user, tools: [{}] }, 'tools[0].function'],
  ['a tool without a name', { messages: user, tools: [{ type: 'function', function: { description: 'd' } }] }, 'tools[0].function.name'],
  ['a tool call without a function', { messages: [...user, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function' }] }, { role: 'tool', tool_call_id: 'c1', content: 'r' }] }, 'messages[1].tool_calls[0].function'],
  ['a null content part', { messages: [{ role: 'user', content: [null] }] }, 'messages[0].content[0]'],
  ['a content part without a type', { messages: [{ role: 'user', content: [{ text: 'x' }] }] }, 'messages[0].content[0].type'],
  ['a forced tool_choice naming no function', { messages: user, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function' } }, 'tool_choice.function'],
];

describe.each(['anthropic/claude-sonnet-4-5', 'gemini/gemini-2.5-flash'])('%s', (model) => {
  it.each(MALFORMED)('%s: 400 naming the parameter, nothing sent upstream', async (_name, body, param) => {
    const before = anthropic.requests.length + gemini.requests.length;
    const res = await chat({ model, ...body });
    expect(res.status).toBe(400);
    expect(res.body.error?.type).toBe('invalid_request_error');
    expect(res.body.error?.param).toBe(param);
    expect(anthropic.requests.length + gemini.requests.length).toBe(before);
  });
});

describe('the breaker probe survives a request the gateway refuses itself', () => {
  it('half-open: a translator refusal leaves the circuit half-open, and the next call probes and closes it', async () => {
    expect((await chat({ model: 'anthropic/mock-overloaded', messages: user })).status).toBeGreaterThanOrEqual(500);
    expect(gw.ctx.breakers.state('anthropic')).toBe('open');
    // Passes the schema, refused by the Anthropic translator (no audio input) after the breaker let it through.
    const refused = await chat({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] });
    expect(refused.status).toBe(400);
    expect(gw.ctx.breakers.state('anthropic')).toBe('half_open');
    const before = anthropic.requests.length;
    const probe = await chat({ model: 'anthropic/claude-sonnet-4-5', messages: user });
    expect(probe.status).toBe(200);
    expect(anthropic.requests.length).toBe(before + 1);
    expect(gw.ctx.breakers.state('anthropic')).toBe('closed');
  });
});
