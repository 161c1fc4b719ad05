import { describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import { ModelRouter, routingProblems, type GroupConfig } from './model-router.js';
import { ProviderRegistry } from './registry.js';

function registry(input: ConfigInput = {}): ProviderRegistry {
  return new ProviderRegistry(configSchema.parse(input), {}, () => null);
}

/** A seeded generator (mulberry32), so a distribution test is repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ids = (routes: Array<{ provider: { id: string }; model: string }>) => routes.map((r) => `${r.provider.id}/${r.model}`);

describe('ModelRouter.plan', () => {
  it('primary, then the fallback chain, without repeats', () => {
    const router = new ModelRouter(registry(), {}, { 'gpt-4o': ['anthropic/claude-sonnet-4-5', 'openai/gpt-4o', 'groq/llama'] });
    expect(ids(router.plan('gpt-4o'))).toEqual(['openai/gpt-4o', 'anthropic/claude-sonnet-4-5', 'groq/llama']);
  });

  it('an unusable fallback entry is skipped: the primary still works', () => {
    const router = new ModelRouter(registry(), {}, { 'gpt-4o': ['anthropc/claude-sonnet-4-5', 'groq/llama'] });
    expect(ids(router.plan('gpt-4o'))).toEqual(['openai/gpt-4o', 'groq/llama']);
  });

  it('an unusable group member is skipped; a group with none usable is a 404', () => {
    const groups: Record<string, GroupConfig> = {
      g: { strategy: 'weighted', targets: [{ model: 'nope/a', weight: 1 }, { model: 'groq/b', weight: 1 }] },
      bad: { strategy: 'weighted', targets: [{ model: 'nope/a', weight: 1 }] },
    };
    const router = new ModelRouter(registry(), groups, {}, () => 0);
    expect(ids(router.plan('g'))).toEqual(['groq/b']);
    expect(() => router.plan('bad')).toThrow(GatewayError);
  });

  it('weighted: the primary is drawn roughly in proportion to the weights', () => {
    const groups: Record<string, GroupConfig> = { g: { strategy: 'weighted', targets: [{ model: 'openai/a', weight: 3 }, { model: 'groq/b', weight: 1 }] } };
    const router = new ModelRouter(registry(), groups, {}, seeded(42));
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const first = ids(router.plan('g'))[0];
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    const shareA = (counts.get('openai/a') ?? 0) / 4000;
    expect(shareA).toBeGreaterThan(0.7);
    expect(shareA).toBeLessThan(0.8);
    // The other member always follows, as a fallback.
    expect(ids(router.plan('g'))).toHaveLength(2);
  });

  it('weighted: the draw follows the injected random', () => {
    const groups: Record<string, GroupConfig> = { g: { strategy: 'weighted', targets: [{ model: 'openai/a', weight: 1 }, { model: 'groq/b', weight: 1 }] } };
    expect(ids(new ModelRouter(registry(), groups, {}, () => 0.1).plan('g'))).toEqual(['openai/a', 'groq/b']);
    expect(ids(new ModelRouter(registry(), groups, {}, () => 0.9).plan('g'))).toEqual(['groq/b', 'openai/a']);
  });

  it('least-busy: picks the target with the fewest calls in flight per unit of weight', () => {
    const groups: Record<string, GroupConfig> = { g: { strategy: 'least-busy', targets: [{ model: 'openai/a', weight: 1 }, { model: 'groq/b', weight: 1 }] } };
    const router = new ModelRouter(registry(), groups, {});
    const a = router.plan('g').find((r) => r.model === 'a')!;
    router.begin(a);
    expect(ids(router.plan('g'))[0]).toBe('groq/b');
    const b = router.plan('g')[0];
    router.begin(b);
    router.begin(b);
    expect(ids(router.plan('g'))[0]).toBe('openai/a');
    router.end(b);
    router.end(b);
    router.end(a);
    router.begin(b);
    expect(ids(router.plan('g'))[0]).toBe('openai/a');
  });
});

describe('routingProblems (start-up check)', () => {
  it('names each bad fallback entry and group target, and the fix', () => {
    const problems = routingProblems(registry(), {
      fallbacks: { 'gpt-4o': ['anthropic/claude-sonnet-4-5', 'antropic/claude-sonnet-4-5'] },
      groups: { smart: { strategy: 'weighted', targets: [{ model: 'openai/gpt-4o', weight: 1 }, { model: 'azure-openai/eu', weight: 1 }] } },
    });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain("models.fallbacks.gpt-4o[1]: 'antropic/claude-sonnet-4-5' cannot be routed: the provider 'antropic' is not configured");
    expect(problems[0]).toContain('Use "provider/model"');
    // Azure is enabled only with a base URL.
    expect(problems[1]).toContain('models.groups.smart.targets[1].model');
  });

  it('a clean config has no problems', () => {
    expect(routingProblems(registry(), { fallbacks: { 'gpt-4o': ['groq/llama'] }, groups: {} })).toEqual([]);
  });
});
