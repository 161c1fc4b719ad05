export { WebhookDispatcher, type WebhookDispatcherOptions } from './dispatcher.js';
export type { EndpointInput, EndpointRepository } from './endpoints.js';
export { verifyWebhookSignature, signPayload, SIGNATURE_HEADER } from './signature.js';
export { checkTarget, checkUrlShape, TargetRefused, TargetUnresolved, type TargetPolicy, type Resolver, type CheckedTarget } from './ssrf.js';
export { isBlockedIp, parseIp } from './ip.js';
export {
  WEBHOOK_EVENTS,
  TEST_EVENT,
  type WebhookEventType,
  type Sealer,
  type WebhookEndpoint,
  type WebhookDelivery,
  type WebhookPayload,
  type DeliveryStatus,
  type WebhookTables,
  type WebhookEndpointsTable,
  type WebhookDeliveriesTable,
} from './types.js';
