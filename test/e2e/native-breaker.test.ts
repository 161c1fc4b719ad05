/**
 * Native pass-through and the circuit breaker: native calls are not retried or re-routed
 * (a native body is provider-specific), but a failing upstream opens the provider's circuit
 * for native and translated calls alike, and an open circuit sheds native calls too.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockAnthropic, type MockAnthropic } from '../mock-upstream/anthropic.js';

const ANTHROPIC_KEY = recordSecret('sk-ant-api03-NATIVEbreakerKey0123456789abcdefghij');

let mock: MockAnthropic;
let gw: TestGateway;
let client: Anthropic;
beforeAll(async () => {
  mock = await startMockAnthropic();
  gw = await startTestGateway({
    label: 'native-breaker',
    env: { KEY_MODE: 'server', ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: mock.url },
    config: { upstream: { retries: 0, circuitBreaker: { failureThreshold: 2, cooldownMs: 600_000 } } },
  });
  client = new Anthropic({ apiKey: gw.adminKey, baseURL: `${gw.url}/anthropic`, maxRetries: 0 });
});
afterAll(async () => {
  await gw.stop();
  await mock.close();
});

const ask = (model: string) => client.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] });

describe('native calls feed and respect the breaker', () => {
  it('a native call is sent once, never retried', async () => {
    const err = await ask('mock-overloaded').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(mock.requests.filter((r) => r.body?.model === 'mock-overloaded')).toHaveLength(1);
    expect(gw.ctx.breakers.state('anthropic')).toBe('closed');
  });

  it('failures of native calls open the circuit; then native and translated calls are shed without reaching the upstream', async () => {
    await ask('mock-overloaded').catch(() => undefined);
    expect(gw.ctx.breakers.state('anthropic')).toBe('open');
    const before = mock.requests.length;
    const shed = await ask('claude-sonnet-4-5').catch((e: unknown) => e);
    expect(shed).toBeInstanceOf(Anthropic.APIError);
    expect((shed as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    const translated = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
      body: JSON.stringify({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(translated.status).toBe(503);
    expect(mock.requests.length).toBe(before);
  });
});
