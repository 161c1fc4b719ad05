/**
 * Operations wiring: every event of the request path goes to the tamper-evident audit log;
 * the events operators subscribe to go to webhooks; metrics are observed per request. All
 * of it happens after the fact and in batches: nothing here is awaited by a request.
 */
import { sealEnvelope, type MasterKey } from '../crypto/index.js';
import { MasterKeyRing } from '../keys/master-keys.js';
import { AuditLog } from '../usage/audit/index.js';
import { EventCoalescer } from '../usage/coalesce.js';
import type { GatewayMetrics } from '../usage/metrics.js';
import { WEBHOOK_EVENTS, WebhookDispatcher, type Sealer, type WebhookEventType } from '../usage/webhooks/index.js';
import type { Store } from '../store/connect.js';
import type { KeygateConfig } from '../config/schema.js';
import type { EventBus, GatewayEvent } from './events.js';
import type { Logger } from './logger.js';

const WEBHOOK_TYPES = new Set<string>(WEBHOOK_EVENTS);
/** Events a client can cause at will, one per refused request. */
const COALESCED = new Set<string>(['rate_limited', 'credential.rejected', 'credential.revoked_used', 'ip.denied']);

/**
 * Webhook secrets at rest: AES-256-GCM under the master key, bound to their purpose. Opened
 * with the whole ring, so a `keygate master-key rotate` under a running gateway (rows
 * re-wrapped under a key it did not start with) does not fail its deliveries.
 */
export function masterKeySealer(keys: MasterKey | MasterKeyRing): Sealer {
  const aad = 'keygate webhook secret';
  const ring = MasterKeyRing.of(keys);
  return {
    seal: (plain) => sealEnvelope(ring.current.envelopeKey(), plain, aad),
    open: (sealed) => ring.open(sealed, aad).toString('utf8'),
  };
}

export function createOperations(deps: { store: Store; config: KeygateConfig; masterKey: MasterKey | MasterKeyRing; events: EventBus; metrics: GatewayMetrics; logger: Logger }) {
  const { store, config, events, metrics, logger } = deps;
  const audit = new AuditLog(store, { onError: (err, lost) => logger.error({ err, lost }, 'audit batch could not be written') });
  const webhooks = new WebhookDispatcher(store, {
    sealer: masterKeySealer(deps.masterKey),
    policy: config.webhooks,
    retentionMs: config.webhooks.deliveryRetentionDays * 86_400_000,
    onError: (err) => logger.warn({ err }, 'webhook delivery error'),
  });

  const tell = (e: GatewayEvent): void => {
    audit.record({
      actor: e.actor,
      action: e.type,
      outcome: e.outcome,
      target: e.target ?? null,
      clientId: e.clientId ?? null,
      address: e.address ?? null,
      details: e.details ?? null,
    });
    if (WEBHOOK_TYPES.has(e.type)) {
      webhooks.emit(e.type as WebhookEventType, { actor: e.actor, target: e.target ?? null, outcome: e.outcome, ...(e.details ?? {}) }).catch((err: unknown) => logger.warn({ err }, 'webhook event could not be queued'));
    }
  };
  // Refusals come in floods: one audit record and one webhook per key or address per window, with a count.
  const windowSeconds = config.events.coalesceSeconds;
  const coalescer = new EventCoalescer<GatewayEvent>({ windowMs: windowSeconds * 1000 }, (e, count) => tell({ ...e, details: { ...e.details, count, windowSeconds } }));

  events.on((e: GatewayEvent) => {
    // Per credential and what it hit when it is known, else per address.
    if (windowSeconds > 0 && COALESCED.has(e.type)) coalescer.offer(e.type, e.actor !== 'anonymous' ? `${e.actor}\u0001${e.target ?? ''}` : (e.address ?? ''), e);
    else tell(e);
    // Metrics count every event, coalesced or not.
    if (e.type === 'rate_limited') metrics.limitRejected(limitLabel(String(e.details?.limit ?? '')));
    if (e.type === 'upstream.down' && e.target) metrics.circuitState(e.target, 'open');
    if (e.type === 'upstream.recovered' && e.target) metrics.circuitState(e.target, 'closed');
  });

  return {
    audit,
    webhooks,
    start(): void {
      webhooks.start();
    },
    async close(): Promise<void> {
      coalescer.close();
      await webhooks.close();
      await audit.close();
    },
  };
}

export type Operations = ReturnType<typeof createOperations>;

/** Our limit names -> the metric's bounded label set. */
function limitLabel(limit: string): string {
  if (limit === 'rpm') return 'rate_requests';
  if (limit === 'tpm') return 'rate_tokens';
  if (limit === 'maxParallel') return 'concurrency';
  if (/Requests$/.test(limit)) return 'quota_requests';
  if (/Tokens$/.test(limit)) return 'quota_tokens';
  if (/Budget/.test(limit)) return 'quota_cost';
  return 'other';
}
