/**
 * What happened, told once by the request path and heard by whoever cares (the audit log,
 * webhooks, metrics). Listeners run after the fact and must not throw into the caller.
 */
export type GatewayEventType =
  | 'key.created'
  | 'key.revoked'
  | 'key.updated'
  | 'key.deleted'
  | 'key.rotated'
  | 'token.issued'
  | 'token.revoked'
  | 'credential.rejected'
  | 'credential.revoked_used'
  | 'rate_limited'
  | 'quota.threshold'
  | 'quota.exceeded'
  | 'ip.denied'
  | 'admin.action'
  | 'admin.lockout'
  | 'threat.blocked'
  | 'threat.detected'
  | 'policy.changed'
  | 'upstream.down'
  | 'upstream.recovered'
  | 'audit.chain_broken';

export interface GatewayEvent {
  type: GatewayEventType;
  /** Who did it: a key id, 'cli', 'system' or 'anonymous'. */
  actor: string;
  clientId?: string | null;
  /** What it was done to (a key id, a provider, a jti...). Never a secret. */
  target?: string | null;
  outcome: 'success' | 'failure' | 'denied';
  address?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

type Listener = (e: GatewayEvent) => void;

export class EventBus {
  readonly #listeners: Listener[] = [];

  on(listener: Listener): void {
    this.#listeners.push(listener);
  }

  emit(e: GatewayEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch {
        /* a listener's failure is its own; the request path goes on */
      }
    }
  }
}
