/**
 * Turns a requested model into an ordered plan of upstream targets: the primary (picked
 * from a load-balancing group when the name is one: weighted or least-busy), then the
 * group's other members, then the configured fallback chain. Each target is a ModelRoute.
 */
import { GatewayError, errors } from '../core/errors.js';
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
    // A group member or fallback that does not resolve is left out (start-up checks make this
    // rare): one bad entry must not turn every request for the primary into a 404.
    const routes = group ? this.#resolveAll(this.#order(group)) : [this.registry.resolve(requested)];
    if (routes.length === 0) throw errors.unknownModel(requested);
    const primary = routes[0];
    const chain = this.fallbacks[requested] ?? this.fallbacks[`${primary.provider.id}/${primary.model}`] ?? [];
    routes.push(...this.#resolveAll(chain));
    // The same target twice would only repeat a failure.
    const seen = new Set<string>();
    return routes.filter((r) => {
      const id = `${r.provider.id}/${r.model}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }

  #resolveAll(names: readonly string[]): ModelRoute[] {
    const out: ModelRoute[] = [];
    for (const n of names) {
      try {
        out.push(this.registry.resolve(n));
      } catch {
        // unusable entry: skipped
      }
    }
    return out;
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
        const [r] = this.#resolveAll([m]);
        const busy = r ? (this.#inFlight.get(`${r.provider.id}/${r.model}`) ?? 0) : Number.POSITIVE_INFINITY;
        return busy / Math.max(1e-9, targets.find((t) => t.model === m)?.weight ?? 1);
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

/**
 * Start-up check of fallback chains and group targets: every entry must resolve to a
 * configured provider. Returns one message per bad entry, naming it and the fix.
 */
export function routingProblems(
  registry: ProviderRegistry,
  models: { fallbacks: Readonly<Record<string, readonly string[]>>; groups: Readonly<Record<string, GroupConfig>> },
): string[] {
  const problems: string[] = [];
  const configured = registry.all().map((p) => p.id).join(', ');
  const check = (where: string, name: string) => {
    try {
      registry.resolve(name);
    } catch (err) {
      const slash = name.indexOf('/');
      const why = err instanceof GatewayError && err.code === 'provider_not_found' ? `the provider '${name.slice(0, slash)}' is not configured` : 'it does not name a served model';
      problems.push(`${where}: '${name}' cannot be routed: ${why} (configured providers: ${configured}). Use "provider/model" with one of them, or configure that provider (its base URL and key).`);
    }
  };
  for (const [from, chain] of Object.entries(models.fallbacks)) chain.forEach((n, i) => check(`models.fallbacks.${from}[${i}]`, n));
  for (const [name, g] of Object.entries(models.groups)) g.targets.forEach((t, i) => check(`models.groups.${name}.targets[${i}].model`, t.model));
  return problems;
}
