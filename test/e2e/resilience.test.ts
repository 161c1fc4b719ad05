/**
 * Retries, fallback chains, circuit breaking and load balancing, against an upstream that
 * fails on cue (the mock's `mock-fail-N-SSS` models).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const KEY = recordSecret('sk-proj-RESILIENCEserverkey0123456789abcdefghi');
const GROQ_KEY = recordSecret('gsk_RESILIENCEgroqkey0123456789abcdefghijk');

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await startMockOpenAI();
});
afterAll(() => mock.close());

const countFor = (model: string) => mock.requests.filter((r) => r.body?.model === model).length;

async function chat(gw: TestGateway, model: string, stream = false): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], stream }),
  });
}

describe('retries and fallbacks', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'resilience',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url, GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: mock.url },
      config: {
        upstream: { retries: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 5, circuitBreaker: { failureThreshold: 1000 } },
        models: {
          fallbacks: { 'openai/mock-fail-99-503': ['groq/fallback-model'], 'openai/mock-fail-99-400': ['groq/fallback-model'] },
          groups: { balanced: { strategy: 'weighted', targets: [{ model: 'openai/lb-a', weight: 1 }, { model: 'groq/lb-b', weight: 1 }] } },
        },
      },
    });
  });
  afterAll(() => gw.stop());

  it('retries a 503 and succeeds on the third attempt', async () => {
    const res = await chat(gw, 'mock-fail-2-503');
    expect(res.status).toBe(200);
    expect(countFor('mock-fail-2-503')).toBe(3);
  });

  it('gives up after the configured retries and says why', async () => {
    const res = await chat(gw, 'mock-fail-5-502');
    expect(res.status).toBe(502);
    expect(countFor('mock-fail-5-502')).toBe(3);
  });

  it('does not retry a client error', async () => {
    const res = await chat(gw, 'mock-fail-1-400');
    expect(res.status).toBe(400);
    expect(countFor('mock-fail-1-400')).toBe(1);
  });

  it('never retries once a stream has started', async () => {
    const res = await chat(gw, 'mock-cut-stream', true);
    expect(res.status).toBe(200);
    await res.text();
    expect(countFor('mock-cut-stream')).toBe(1);
  });

  it('falls back to the next model of the chain and says who answered', async () => {
    const res = await chat(gw, 'mock-fail-99-503');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keygate-provider')).toBe('groq');
    expect(res.headers.get('x-keygate-model')).toBe('fallback-model');
    expect(mock.last().headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content).toBe('Hello from fallback-model');
    await gw.ctx.usage.flush();
    const row = await gw.ctx.store.db.selectFrom('requests').selectAll().where('model', '=', 'fallback-model').executeTakeFirstOrThrow();
    expect(row.provider).toBe('groq');
  });

  it('does not fall back on a status outside fallbackOn (400)', async () => {
    const res = await chat(gw, 'mock-fail-99-400');
    expect(res.status).toBe(400);
    expect(countFor('fallback-model')).toBe(1); // only the earlier test's
  });

  it('balances a group over its targets by weight', async () => {
    for (let i = 0; i < 30; i++) expect((await chat(gw, 'balanced')).status).toBe(200);
    expect(countFor('lb-a')).toBeGreaterThan(0);
    expect(countFor('lb-b')).toBeGreaterThan(0);
    expect(countFor('lb-a') + countFor('lb-b')).toBe(30);
  });
});

describe('circuit breaker', () => {
  let gw: TestGateway;
  const events: string[] = [];
  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'resilience-breaker',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url, GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: mock.url },
      config: {
        upstream: { retries: 0, circuitBreaker: { failureThreshold: 2, cooldownMs: 600_000 } },
        models: { fallbacks: { 'openai/mock-fail-99-500': ['groq/breaker-fallback'] } },
      },
    });
    gw.ctx.events.on((e) => events.push(`${e.type}:${e.target}`));
  });
  afterAll(() => gw.stop());

  it('opens after repeated failures and sheds the failing upstream: fallbacks answer without calling it', async () => {
    expect((await chat(gw, 'mock-fail-99-500')).status).toBe(200);
    expect((await chat(gw, 'mock-fail-99-500')).status).toBe(200);
    expect(countFor('mock-fail-99-500')).toBe(2);
    expect(gw.ctx.breakers.state('openai')).toBe('open');
    expect(events).toContain('upstream.down:openai');
    const res = await chat(gw, 'mock-fail-99-500');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keygate-provider')).toBe('groq');
    expect(countFor('mock-fail-99-500')).toBe(2); // not called while open
  });

  it('a call without a fallback gets 503 while the circuit is open', async () => {
    const res = await chat(gw, 'gpt-4o-mini');
    expect(res.status).toBe(503);
  });
});

describe('fallbackOn and Retry-After', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'resilience-fallbackon',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url, GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: mock.url },
      config: {
        upstream: { retries: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 50, circuitBreaker: { failureThreshold: 1000 } },
        models: {
          // Only the upstream's own 500 and 429 move on: our mapped 502 must not be what is compared.
          fallbackOn: [500, 429],
          fallbacks: {
            'openai/mock-fail-98-500': ['groq/fo-500-fallback'],
            'openai/mock-fail-99-503': ['groq/fo-503-fallback'],
            'openai/mock-fail-1-429-ra30': ['groq/fo-ra-fallback'],
            'openai/cooling-primary': ['groq/fo-cooling-fallback'],
          },
        },
      },
    });
  });
  afterAll(() => gw.stop());

  it('an upstream 500 listed in fallbackOn falls back (the client-facing status is 502)', async () => {
    const res = await chat(gw, 'mock-fail-98-500');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keygate-model')).toBe('fo-500-fallback');
    expect(countFor('mock-fail-98-500')).toBe(3);
  });

  it('an upstream 503 not listed does not fall back', async () => {
    const res = await chat(gw, 'mock-fail-99-503');
    expect(res.status).toBe(502);
    expect(countFor('fo-503-fallback')).toBe(0);
  });

  it('a Retry-After longer than retryMaxDelayMs is not retried early: the fallback answers', async () => {
    const res = await chat(gw, 'mock-fail-1-429-ra30');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keygate-model')).toBe('fo-ra-fallback');
    // One attempt only: a retry 50 ms later would have been against the upstream's word.
    expect(countFor('mock-fail-1-429-ra30')).toBe(1);
  });

  it('without a fallback the client gets the 429 and the Retry-After', async () => {
    const res = await chat(gw, 'mock-fail-1-429-ra40');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('40');
    expect(countFor('mock-fail-1-429-ra40')).toBe(1);
  });

  it('a short Retry-After is honoured by retrying the same target', async () => {
    const res = await chat(gw, 'mock-fail-1-429-ra0');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keygate-model')).toBe('mock-fail-1-429-ra0');
    expect(countFor('mock-fail-1-429-ra0')).toBe(2);
  });

  it('every key of the primary resting (503 provider_keys_cooling) moves on to the fallbacks', async () => {
    // The pool's only OpenAI key rests for ten minutes, as after a rate limit.
    gw.ctx.providerKeys.pool.acquire('openai').release('rate_limited', 600);
    const res = await chat(gw, 'cooling-primary');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keygate-provider')).toBe('groq');
    expect(res.headers.get('x-keygate-model')).toBe('fo-cooling-fallback');
    expect(countFor('cooling-primary')).toBe(0);
    // Without a fallback the client is told how long to wait.
    const alone = await chat(gw, 'cooling-alone');
    expect(alone.status).toBe(503);
    expect(((await alone.json()) as { error: { code: string } }).error.code).toBe('provider_keys_cooling');
    expect(Number(alone.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('routing config checked at start-up', () => {
  it('a typo in a fallback chain stops the start, naming the entry and the fix', async () => {
    await expect(
      startTestGateway({
        label: 'resilience-typo',
        env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url },
        config: { models: { fallbacks: { 'gpt-4o': ['groq/llama', 'antrhopic/claude-sonnet-4-5'] } } },
      }),
    ).rejects.toThrow(/models\.fallbacks\.gpt-4o\[1\]: 'antrhopic\/claude-sonnet-4-5' cannot be routed: the provider 'antrhopic' is not configured/);
  });

  it('a group target on a provider that is not configured stops the start', async () => {
    await expect(
      startTestGateway({
        label: 'resilience-group-typo',
        env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url },
        config: { models: { groups: { smart: { targets: [{ model: 'openai/gpt-4o' }, { model: 'azure-openai/eu-deployment' }] } } } },
      }),
    ).rejects.toThrow(/models\.groups\.smart\.targets\[1\]\.model/);
  });
});

describe('the breaker probes back', () => {
  let gw: TestGateway;
  const events: string[] = [];
  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'resilience-probe',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url },
      // A 1 ms cooldown: the call after the one that opened the circuit is the probe.
      config: { upstream: { retries: 0, circuitBreaker: { failureThreshold: 1, cooldownMs: 1 } } },
    });
    gw.ctx.events.on((e) => events.push(`${e.type}:${e.target}`));
  });
  afterAll(() => gw.stop());

  it('a failure opens the circuit; the probe after the cooldown succeeds and closes it', async () => {
    expect((await chat(gw, 'mock-fail-1-500')).status).toBe(502);
    expect(gw.ctx.breakers.state('openai')).toBe('open');
    const probe = await chat(gw, 'mock-fail-1-500');
    expect(probe.status).toBe(200);
    expect(countFor('mock-fail-1-500')).toBe(2);
    expect(gw.ctx.breakers.state('openai')).toBe('closed');
    expect(events).toEqual(expect.arrayContaining(['upstream.down:openai', 'upstream.recovered:openai']));
  });
});

describe('retries on connection errors', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'resilience-reset',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url },
      config: { upstream: { retries: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 5, circuitBreaker: { failureThreshold: 1000 } } },
    });
  });
  afterAll(() => gw.stop());

  it('a reset connection is retried up to the limit, then 502 upstream_unreachable', async () => {
    const res = await chat(gw, 'mock-reset');
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_unreachable');
    expect(countFor('mock-reset')).toBe(3);
  });
});

describe('Retry-After within retryMaxDelayMs', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'resilience-retry-after',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: mock.url, GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: mock.url },
      config: {
        upstream: { retries: 1, retryBaseDelayMs: 1, retryMaxDelayMs: 3000, circuitBreaker: { failureThreshold: 1000 } },
        models: { fallbacks: { 'openai/mock-fail-1-503-ra1': ['groq/ra-within-fallback'] } },
      },
    });
  });
  afterAll(() => gw.stop());

  it('is waited out and the same target retried, not the fallback', async () => {
    const res = await chat(gw, 'mock-fail-1-503-ra1');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keygate-provider')).toBe('openai');
    expect(countFor('mock-fail-1-503-ra1')).toBe(2);
    expect(countFor('ra-within-fallback')).toBe(0);
  });
});
