/**
 * One circuit breaker per upstream: after `failureThreshold` failures in a row the circuit
 * opens and calls skip that upstream (so fallbacks answer at once) until `cooldownMs` has
 * passed; then one probe goes through (half-open): success closes it, failure re-opens it.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitOptions {
  failureThreshold: number;
  cooldownMs: number;
}

interface Circuit {
  state: CircuitState;
  failures: number;
  openedAt: number;
  probing: boolean;
}

export class CircuitBreakers {
  readonly #circuits = new Map<string, Circuit>();

  constructor(
    private readonly opts: CircuitOptions,
    private readonly onChange: (id: string, from: CircuitState, to: CircuitState) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  #get(id: string): Circuit {
    let c = this.#circuits.get(id);
    if (!c) {
      c = { state: 'closed', failures: 0, openedAt: 0, probing: false };
      this.#circuits.set(id, c);
    }
    return c;
  }

  #set(id: string, c: Circuit, to: CircuitState): void {
    const from = c.state;
    c.state = to;
    if (from !== to) this.onChange(id, from, to);
  }

  /** May a call go to this upstream now? In half-open state only one probe at a time. */
  allow(id: string): boolean {
    const c = this.#get(id);
    if (c.state === 'closed') return true;
    if (c.state === 'open') {
      if (this.now() - c.openedAt < this.opts.cooldownMs) return false;
      this.#set(id, c, 'half_open');
    }
    if (c.probing) return false;
    c.probing = true;
    return true;
  }

  success(id: string): void {
    const c = this.#get(id);
    c.failures = 0;
    c.probing = false;
    this.#set(id, c, 'closed');
  }

  failure(id: string): void {
    const c = this.#get(id);
    c.failures++;
    c.probing = false;
    if (c.state === 'half_open' || c.failures >= this.opts.failureThreshold) {
      c.openedAt = this.now();
      this.#set(id, c, 'open');
    }
  }

  /**
   * A call that was let through but never reached the upstream (the gateway refused the
   * request, or failed itself): frees the probe slot without judging the upstream.
   */
  abandon(id: string): void {
    const c = this.#circuits.get(id);
    if (c) c.probing = false;
  }

  state(id: string): CircuitState {
    return this.#circuits.get(id)?.state ?? 'closed';
  }

  /** For metrics and /readyz. */
  snapshot(): Array<{ id: string; state: CircuitState; failures: number }> {
    return [...this.#circuits].map(([id, c]) => ({ id, state: c.state, failures: c.failures }));
  }
}

/** The circuit a target belongs to: its provider, or provider/model where each model is its own upstream. */
export function circuitId(route: { provider: { id: string; adapter: { circuitPerModel?: boolean } }; model: string }): string {
  return route.provider.adapter.circuitPerModel ? `${route.provider.id}/${route.model}` : route.provider.id;
}

/**
 * Settles one call the breaker let through: a 5xx (or a connection failure, told as one) is a
 * failure, a client that went away (499) or no status at all (the call never reached the
 * upstream) says nothing, anything else is an answer.
 */
export function settleCircuit(breakers: CircuitBreakers, id: string, status: number | null): void {
  if (status === null || status === 499) breakers.abandon(id);
  else if (status >= 500) breakers.failure(id);
  else breakers.success(id);
}
