/**
 * Which policy applies to a call. Overrides come from config and from the database (the
 * admin API), per key id, per app id and per route operation; each is merged over the
 * default, least specific first: default <- route <- app <- key (within a scope, the stored
 * override over the config one). Keys and apps are matched by id only: names are not unique,
 * and an app token carries its app's name, so a name would hand its policy to any namesake.
 *
 * Route operations name what a call does, whatever path reached it: `chat` (/v1/chat/completions,
 * /api/chat/completions, /openai/v1/chat/completions, /api/openai/proxy with /chat/completions,
 * and every provider's native generating endpoint), `embeddings`, and, more specific,
 * `native:<provider>:<endpoint>` (e.g. `native:anthropic:messages`). Config keys that are the
 * paths `/v1/chat/completions` and `/v1/embeddings` are read as `chat` and `embeddings`.
 */
import { mergePolicy, type GuardPolicy, type GuardPolicyOverride } from './policy.js';

export type PolicyScope = 'key' | 'app' | 'route';
export const POLICY_SCOPES: readonly PolicyScope[] = ['key', 'app', 'route'];

export interface PolicyCaller {
  keyId?: string | null;
  appId?: string | null;
  /** Route operations of the call, most specific first (`native:anthropic:messages`, `chat`). */
  operations: readonly string[];
}

export interface StoredOverride {
  scope: PolicyScope;
  subject: string;
  policy: GuardPolicyOverride;
}

export interface PolicyOverrides {
  keys?: Record<string, GuardPolicyOverride>;
  apps?: Record<string, GuardPolicyOverride>;
  routes?: Record<string, GuardPolicyOverride>;
}

const ROUTE_ALIASES: Readonly<Record<string, string>> = {
  '/v1/chat/completions': 'chat',
  '/api/chat/completions': 'chat',
  '/v1/embeddings': 'embeddings',
};

/** The canonical name of a route subject (paths of the OpenAI routes become their operation). */
export function routeOperation(subject: string): string {
  return ROUTE_ALIASES[subject] ?? subject;
}

const MAX_CACHED = 10_000;
type Layer = Map<string, GuardPolicyOverride>;
const empty = (): Record<PolicyScope, Layer> => ({ key: new Map(), app: new Map(), route: new Map() });

export class GuardPolicyBook {
  readonly #config = empty();
  #stored = empty();
  // Merged policies by caller: a policy object is reused, so its compiled custom patterns are too.
  readonly #cache = new Map<string, GuardPolicy>();

  constructor(
    readonly defaultPolicy: GuardPolicy,
    config: PolicyOverrides = {},
  ) {
    for (const [k, v] of Object.entries(config.keys ?? {})) this.#config.key.set(k, v);
    for (const [k, v] of Object.entries(config.apps ?? {})) this.#config.app.set(k, v);
    for (const [k, v] of Object.entries(config.routes ?? {})) this.#config.route.set(routeOperation(k), v);
  }

  /** Replaces the stored layer (all rows of the database table). */
  setStored(rows: readonly StoredOverride[]): void {
    const next = empty();
    for (const r of rows) next[r.scope].set(r.scope === 'route' ? routeOperation(r.subject) : r.subject, r.policy);
    this.#stored = next;
    this.#cache.clear();
  }

  /** The overrides in force for one scope and subject: config's, then the stored one. */
  overridesOf(scope: PolicyScope, subject: string): { config: GuardPolicyOverride | null; stored: GuardPolicyOverride | null } {
    const s = scope === 'route' ? routeOperation(subject) : subject;
    return { config: this.#config[scope].get(s) ?? null, stored: this.#stored[scope].get(s) ?? null };
  }

  resolve(caller: PolicyCaller): GuardPolicy {
    const layers: GuardPolicyOverride[] = [];
    const add = (scope: PolicyScope, subject: string | null | undefined): boolean => {
      if (!subject) return false;
      const c = this.#config[scope].get(subject);
      const s = this.#stored[scope].get(subject);
      if (c) layers.push(c);
      if (s) layers.push(s);
      return !!(c || s);
    };
    // The most specific operation that has a policy stands for the route.
    for (const op of caller.operations) if (add('route', op)) break;
    add('app', caller.appId);
    add('key', caller.keyId);
    if (layers.length === 0) return this.defaultPolicy;
    const id = `${caller.keyId ?? ''}\u0000${caller.appId ?? ''}\u0000${caller.operations.join(',')}`;
    let p = this.#cache.get(id);
    if (!p) {
      p = layers.reduce(mergePolicy, this.defaultPolicy);
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
      this.#cache.set(id, p);
    }
    return p;
  }
}

// Route subjects are operations: `chat`, `embeddings`, `native:<provider>:<endpoint>`.
const ROUTE_OPERATION = /^(?:chat|embeddings|native:[a-z0-9-]{1,40}:[A-Za-z0-9_]{1,60})$/;

/** A subject as policies are stored (route paths as their operation), or what is wrong with it. */
export function policySubject(scope: string, subject: string): { scope: PolicyScope; subject: string } | { problem: string } {
  if (!POLICY_SCOPES.includes(scope as PolicyScope)) return { problem: `The scope must be key, app or route; got '${scope.slice(0, 20)}'.` };
  if (subject.length === 0 || subject.length > 200) return { problem: 'The subject must be 1-200 characters.' };
  if (scope !== 'route') return { scope: scope as PolicyScope, subject };
  const op = routeOperation(subject);
  if (!ROUTE_OPERATION.test(op)) return { problem: "A route policy names an operation: 'chat', 'embeddings' or 'native:<provider>:<endpoint>' (e.g. native:anthropic:messages)." };
  return { scope: 'route', subject: op };
}
