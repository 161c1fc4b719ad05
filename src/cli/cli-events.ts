/**
 * What a CLI command changed, told the way the gateway tells its own events: one record in
 * the hash-chained audit log (actor `cli`, address `local`), and, for the events operators
 * subscribe to (key.created, key.revoked, key.rotated...), webhook deliveries queued in the
 * persisted queue, which a running gateway's dispatcher sends on its next poll. Appended
 * before the command returns, so nothing is lost when the process exits.
 */
import type { LoadedConfig } from '../config/load.js';
import type { GatewayEventType } from '../server/events.js';
import type { Store } from '../store/connect.js';
import { AuditLog } from '../usage/audit/index.js';
import { WEBHOOK_EVENTS, WebhookDispatcher, type Sealer, type WebhookEventType } from '../usage/webhooks/index.js';

export interface CliEvent {
  type: GatewayEventType;
  /** What it was done to (a key id, a provider, a jti...). Never a secret. */
  target?: string | null;
  outcome?: 'success' | 'failure' | 'denied';
  /** What changed, never a secret (redacted again before it is stored or sent). */
  details?: Record<string, unknown>;
}

const WEBHOOK_TYPES = new Set<string>(WEBHOOK_EVENTS);

// Queuing a delivery signs nothing: the gateway that delivers opens the endpoint's secret.
const queueOnly: Sealer = {
  seal: () => {
    throw new Error('the CLI only queues webhook deliveries');
  },
  open: () => {
    throw new Error('the CLI only queues webhook deliveries');
  },
};

/** Audits each event, then queues its webhook deliveries. */
export async function recordCliEvents(store: Store, loaded: LoadedConfig, events: readonly CliEvent[]): Promise<void> {
  if (events.length === 0) return;
  const audit = new AuditLog(store);
  try {
    for (const e of events) {
      await audit.append({ actor: 'cli', address: 'local', action: e.type, outcome: e.outcome ?? 'success', target: e.target ?? null, details: e.details ?? null });
    }
  } finally {
    await audit.close();
  }
  const hooks = events.filter((e) => WEBHOOK_TYPES.has(e.type));
  if (hooks.length === 0) return;
  const webhooks = new WebhookDispatcher(store, { sealer: queueOnly, policy: loaded.config.webhooks });
  try {
    for (const e of hooks) {
      await webhooks.emit(e.type as WebhookEventType, { actor: 'cli', target: e.target ?? null, outcome: e.outcome ?? 'success', ...(e.details ?? {}) });
    }
  } finally {
    await webhooks.close();
  }
}

/** One event. */
export function recordCliEvent(store: Store, loaded: LoadedConfig, event: CliEvent): Promise<void> {
  return recordCliEvents(store, loaded, [event]);
}

/** The fields a command set (names and non-secret values), for the audit record. */
export function changed(fields: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
