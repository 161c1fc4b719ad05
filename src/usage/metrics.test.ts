import { describe, expect, it } from 'vitest';
import { createMetrics, endpointLabel, statusClass } from './metrics.js';

describe('metrics', () => {
  it('exposes every series with bounded labels', async () => {
    const m = createMetrics({ knownModels: ['gpt-4o-mini'] });
    m.observeRequest({ provider: 'openai', model: 'gpt-4o-mini', endpoint: '/v1/chat/completions', status: 200, gatewayMs: 2, upstreamMs: 300, promptTokens: 10, completionTokens: 5, cachedTokens: 3, costUsd: 0.0012 });
    m.observeRequest({ provider: 'openai', model: 'gpt-4o-mini', endpoint: 'chat', status: 429, gatewayMs: 1 });
    m.error('rate_limit_error');
    m.limitRejected('quota_tokens');
    m.threat('prompt_injection', 'block');
    m.circuitState('anthropic', 'open');
    m.poolSaturation('openai', 0.25);
    const text = await m.exposition();
    expect(text).toContain('keygate_requests_total{provider="openai",model="gpt-4o-mini",status="2xx",endpoint="chat"} 1');
    expect(text).toContain('keygate_requests_total{provider="openai",model="gpt-4o-mini",status="4xx",endpoint="chat"} 1');
    expect(text).toContain('keygate_gateway_overhead_seconds_count{provider="openai"} 2');
    expect(text).toContain('keygate_upstream_duration_seconds_count{provider="openai"} 1');
    expect(text).toContain('keygate_request_duration_seconds_bucket{le="0.5",provider="openai",endpoint="chat"} 2');
    expect(text).toContain('keygate_tokens_total{provider="openai",model="gpt-4o-mini",kind="prompt"} 10');
    expect(text).toContain('keygate_tokens_total{provider="openai",model="gpt-4o-mini",kind="completion"} 5');
    expect(text).toContain('keygate_tokens_total{provider="openai",model="gpt-4o-mini",kind="cached"} 3');
    expect(text).toContain('keygate_cost_usd_total{provider="openai",model="gpt-4o-mini"} 0.0012');
    expect(text).toContain('keygate_errors_total{type="rate_limit_error"} 1');
    expect(text).toContain('keygate_limit_rejections_total{limit="quota_tokens"} 1');
    expect(text).toContain('keygate_threats_total{category="prompt_injection",action="block"} 1');
    expect(text).toContain('keygate_upstream_circuit_state{provider="anthropic"} 2');
    expect(text).toContain('keygate_upstream_pool_saturation{provider="openai"} 0.25');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(m.contentType).toMatch(/^text\/plain/);
  });

  it('turns every client-supplied value it does not know into "other"', async () => {
    const m = createMetrics({ knownModels: ['gpt-4o-mini'], collectDefaults: false });
    const secret = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
    m.observeRequest({ provider: 'evil"provider', model: `my-model ${secret}`, endpoint: '/v1/../../admin', status: 200, gatewayMs: 1 });
    m.error(secret);
    m.limitRejected('x'.repeat(1000));
    m.threat('made_up', secret);
    const text = await m.exposition();
    expect(text).toContain('keygate_requests_total{provider="other",model="other",status="2xx",endpoint="other"} 1');
    expect(text).toContain('keygate_errors_total{type="other"} 1');
    expect(text).toContain('keygate_limit_rejections_total{limit="other"} 1');
    expect(text).toContain('keygate_threats_total{category="other",action="other"} 1');
    expect(text).not.toContain('sk-proj');
    expect(text).not.toContain('my-model');
    expect(text).not.toContain('evil');
  });

  it('writes histograms as Prometheus expects: cumulative buckets, +Inf, sum and count per series', async () => {
    const m = createMetrics({ knownModels: ['gpt-4o-mini'], collectDefaults: false });
    // Overhead buckets 0.0005, 0.001, 0.0025, ... seconds: 0.4 ms, 1 ms (on the bound), 2 ms, 2 s (above all).
    for (const ms of [0.4, 1, 2, 2000]) m.observeRequest({ provider: 'openai', model: 'gpt-4o-mini', endpoint: 'chat', status: 200, gatewayMs: ms });
    m.observeRequest({ provider: 'anthropic', model: 'x', endpoint: 'chat', status: 200, gatewayMs: 0.1 });
    m.observeRequest({ provider: 'openai', model: 'gpt-4o-mini', endpoint: 'chat', status: 200, gatewayMs: Number.NaN });
    const text = await m.exposition();
    expect(text).toContain('keygate_gateway_overhead_seconds_bucket{le="0.0005",provider="openai"} 1\n');
    expect(text).toContain('keygate_gateway_overhead_seconds_bucket{le="0.001",provider="openai"} 2\n');
    expect(text).toContain('keygate_gateway_overhead_seconds_bucket{le="0.0025",provider="openai"} 3\n');
    expect(text).toContain('keygate_gateway_overhead_seconds_bucket{le="1",provider="openai"} 3\n');
    expect(text).toContain('keygate_gateway_overhead_seconds_bucket{le="+Inf",provider="openai"} 4\n');
    expect(text).toContain('keygate_gateway_overhead_seconds_sum{provider="openai"} 2.0034\n');
    expect(text).toContain('keygate_gateway_overhead_seconds_count{provider="openai"} 4\n');
    expect(text).toContain('keygate_gateway_overhead_seconds_count{provider="anthropic"} 1\n');
    expect(text).toContain('# TYPE keygate_gateway_overhead_seconds histogram');
    expect(text).toContain('# TYPE keygate_requests_total counter');
    // The NaN observation is not counted anywhere; the request itself is.
    expect(text).toContain('keygate_requests_total{provider="openai",model="gpt-4o-mini",status="2xx",endpoint="chat"} 5');
  });

  it('follows the server model list when it changes', async () => {
    const m = createMetrics({ knownModels: [], collectDefaults: false });
    m.observeRequest({ provider: 'groq', model: 'llama-3.3-70b', endpoint: 'chat', status: 500, gatewayMs: 1 });
    m.setKnownModels(['llama-3.3-70b']);
    m.observeRequest({ provider: 'groq', model: 'llama-3.3-70b', endpoint: 'chat', status: 500, gatewayMs: 1 });
    const text = await m.exposition();
    expect(text).toContain('keygate_requests_total{provider="groq",model="other",status="5xx",endpoint="chat"} 1');
    expect(text).toContain('keygate_requests_total{provider="groq",model="llama-3.3-70b",status="5xx",endpoint="chat"} 1');
  });

  it('maps endpoints and status classes', () => {
    expect(endpointLabel('/v1/embeddings')).toBe('embeddings');
    expect(endpointLabel('/v1/messages?beta=true')).toBe('messages');
    expect(endpointLabel('chat')).toBe('chat');
    expect(endpointLabel('/v1/whatever')).toBe('other');
    expect(statusClass(201)).toBe('2xx');
    expect(statusClass(99)).toBe('other');
  });
});
