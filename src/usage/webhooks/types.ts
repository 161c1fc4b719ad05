/** Webhook tables, events and the sealer the crypto module provides. Times are epoch ms. */
import type { Kysely } from 'kysely';
import type { Store } from '../../store/connect.js';

export const WEBHOOK_EVENTS = [
  'key.created',
  'key.revoked',
  'key.rotated',
  'quota.threshold',
  'quota.exceeded',
  'rate_limited',
  'threat.blocked',
  'upstream.down',
  'upstream.recovered',
  'audit.chain_broken',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
/** Sent only by testFire(); endpoints cannot subscribe to it. */
export const TEST_EVENT = 'webhook.test';

/** Encrypts endpoint secrets at rest (AES-GCM from src/crypto in production). */
export interface Sealer {
  seal(plain: string): string;
  open(sealed: string): string;
}

export type DeliveryStatus = 'pending' | 'delivering' | 'succeeded' | 'failed';

// Type aliases, not interfaces: Kysely's withTables<T>() needs index-signature-compatible types.
export type WebhookEndpointsTable = {
  id: string;
  url: string;
  description: string | null;
  /** JSON array of event types, or ["*"]. */
  events: string;
  /** Sealed with the injected Sealer; never returned by the API. */
  secret: string;
  enabled: number;
  created_at: number;
  updated_at: number;
};

export type WebhookDeliveriesTable = {
  id: string;
  endpoint_id: string;
  event_id: string;
  event: string;
  /** The exact JSON body that is signed and sent. */
  payload: string;
  attempts: number;
  next_attempt_at: number;
  status: DeliveryStatus;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
};

export type WebhookTables = {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
};

export type WebhookDb = Kysely<WebhookTables>;

export function webhookDb(store: Store): WebhookDb {
  return store.db.withTables<WebhookTables>() as unknown as WebhookDb;
}

/** An endpoint as the API shows it: no secret. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: Array<WebhookEventType | '*'>;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  event: string;
  attempts: number;
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** The JSON body of every delivery. */
export interface WebhookPayload {
  id: string;
  type: string;
  /** Unix seconds. */
  created: number;
  data: Record<string, unknown>;
}

export function toDelivery(r: WebhookDeliveriesTable): WebhookDelivery {
  const done = r.status === 'succeeded' || r.status === 'failed';
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    event: r.event,
    attempts: Number(r.attempts),
    status: r.status,
    nextAttemptAt: done ? null : Number(r.next_attempt_at),
    lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  };
}
