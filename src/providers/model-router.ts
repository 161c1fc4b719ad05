/**
 * Turns a requested model into an ordered plan of upstream targets: the primary (picked
 * from a load-balancing group when the name is one: weighted or least-busy), then the
 * group's other members, then the configured fallback chain. Each target is a ModelRoute.
 */
import type { ModelRoute, ProviderRegistry } from './registry.js';

export interface GroupConfig {
  strategy: 'weighted' | 'least-busy';
  targets: ReadonlyArray<{ model: string; weight: number }>;
}

export class ModelRouter {
  readonly #inFlight = new Map<string, number>();

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly groups: Readonly<Record<string, GroupConfig>>,
    private readonly fallbacks: Readonly<Record<string, readonly string[]>>,
    private readonly random: () => number = Math.random,
  ) {}

  plan(requested: string): ModelRoute[] {
    const group = this.groups[requested];
    const names = group ? this.#order(group) : [requested];
    const routes = names.map((n) => this.registry.resolve(n));
    const primary = routes[0];
    const chain = this.fallbacks[requested] ?? this.fallbacks[`${primary.provider.id}/${primary.model}`] ?? [];
    for (const n of chain) routes.push(this.registry.resolve(n));
    // The same target twice would only repeat a failure.
    const seen = new Set<string>();
    return routes.filter((r) => {
      const id = `${r.provider.id}/${r.model}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }

  /** Least-busy bookkeeping: call around each upstream call. */
  begin(route: ModelRoute): void {
    const id = `${route.provider.id}/${route.model}`;
    this.#inFlight.set(id, (this.#inFlight.get(id) ?? 0) + 1);
  }

  end(route: ModelRoute): void {
    const id = `${route.provider.id}/${route.model}`;
    this.#inFlight.set(id, Math.max(0, (this.#inFlight.get(id) ?? 1) - 1));
  }

  #order(group: GroupConfig): string[] {
    const targets = [...group.targets];
    if (group.strategy === 'least-busy') {
      const load = (m: string) => {
        const r = this.registry.resolve(m);
        return (this.#inFlight.get(`${r.provider.id}/${r.model}`) ?? 0) / Math.max(1e-9, targets.find((t) => t.model === m)?.weight ?? 1);
      };
      return targets.sort((a, b) => load(a.model) - load(b.model)).map((t) => t.model);
    }
    // Weighted: draw the primary by weight; the rest follow by weight.
    const total = targets.reduce((s, t) => s + t.weight, 0);
    let pick = this.random() * total;
    const i = Math.max(0, targets.findIndex((t) => (pick -= t.weight) < 0));
    const [first] = targets.splice(i === -1 ? 0 : i, 1);
    return [first.model, ...targets.sort((a, b) => b.weight - a.weight).map((t) => t.model)];
  }
}
