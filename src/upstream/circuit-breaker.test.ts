import { describe, expect, it } from 'vitest';
import { CircuitBreakers, circuitId, type CircuitState } from './circuit-breaker.js';
import { parseRetryAfter, retryDelayMs } from './retry-policy.js';

describe('CircuitBreakers', () => {
  it('opens after N failures in a row, probes once after the cooldown, closes on success', () => {
    let t = 0;
    const changes: Array<[CircuitState, CircuitState]> = [];
    const cb = new CircuitBreakers({ failureThreshold: 3, cooldownMs: 1000 }, (_id, from, to) => changes.push([from, to]), () => t);
    cb.failure('a');
    cb.failure('a');
    expect(cb.allow('a')).toBe(true);
    cb.failure('a');
    expect(cb.state('a')).toBe('open');
    expect(cb.allow('a')).toBe(false);
    expect(cb.allow('b')).toBe(true); // circuits are per upstream
    t = 1000;
    expect(cb.allow('a')).toBe(true); // the probe
    expect(cb.allow('a')).toBe(false); // only one at a time
    cb.success('a');
    expect(cb.state('a')).toBe('closed');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
  });

  it('an abandoned probe frees the slot without judging the upstream', () => {
    let t = 0;
    const cb = new CircuitBreakers({ failureThreshold: 1, cooldownMs: 1000 }, undefined, () => t);
    cb.failure('a');
    t = 1000;
    expect(cb.allow('a')).toBe(true);
    expect(cb.allow('a')).toBe(false);
    cb.abandon('a');
    expect(cb.state('a')).toBe('half_open');
    expect(cb.allow('a')).toBe(true); // the next caller may probe
    cb.success('a');
    expect(cb.state('a')).toBe('closed');
  });

  it('circuits are per provider, or per provider and model where each model is its own upstream', () => {
    const provider = (id: string, circuitPerModel?: boolean) => ({ id, adapter: { circuitPerModel } });
    expect(circuitId({ provider: provider('openai'), model: 'gpt-4o' })).toBe('openai');
    expect(circuitId({ provider: provider('azure-openai', true), model: 'eu-gpt4o' })).toBe('azure-openai/eu-gpt4o');
  });

  it('a failed probe re-opens the circuit for another cooldown', () => {
    let t = 0;
    const cb = new CircuitBreakers({ failureThreshold: 1, cooldownMs: 100 }, undefined, () => t);
    cb.failure('a');
    t = 100;
    expect(cb.allow('a')).toBe(true);
    cb.failure('a');
    expect(cb.state('a')).toBe('open');
    t = 150;
    expect(cb.allow('a')).toBe(false);
  });

  it('a success resets the failure count', () => {
    const cb = new CircuitBreakers({ failureThreshold: 2, cooldownMs: 100 });
    cb.failure('a');
    cb.success('a');
    cb.failure('a');
    expect(cb.state('a')).toBe('closed');
  });
});

describe('retry delays', () => {
  const opts = { retries: 3, baseDelayMs: 100, maxDelayMs: 1000 };
  it('grow exponentially with full jitter, capped', () => {
    expect(retryDelayMs(1, opts, undefined, () => 1)).toBe(100);
    expect(retryDelayMs(3, opts, undefined, () => 1)).toBe(400);
    expect(retryDelayMs(10, opts, undefined, () => 1)).toBe(1000);
    expect(retryDelayMs(3, opts, undefined, () => 0)).toBe(0);
  });
  it('honour Retry-After in seconds or as a date, capped', () => {
    expect(retryDelayMs(1, opts, '0.5')).toBe(500);
    expect(retryDelayMs(1, opts, '30')).toBe(1000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 8_000)).toBe(2_000);
    expect(parseRetryAfter('soon')).toBeNull();
  });
});
