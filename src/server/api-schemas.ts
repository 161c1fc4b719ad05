/**
 * What the HTTP API sends, as zod schemas: the source of the response schemas in
 * /openapi.json (converted with z.toJSONSchema). Objects are closed (no undocumented field),
 * so the OpenAPI test catches a field added to a view without being documented here. No
 * schema holds a secret except the shown-once fields named so in their description.
 */
import { z } from 'zod';
import { limitsSchema } from '../limits/schema.js';
import { WEBHOOK_EVENTS } from '../usage/webhooks/types.js';

const iso = z.string().describe('ISO 8601 time');
const epochMs = z.number().int().describe('epoch milliseconds');
const id = z.string();
const strings = z.array(z.string());
const shownOnce = (what: string) => z.string().describe(`${what}: shown in this response only, never again`);

export const healthSchema = z.object({ status: z.literal('ok') });
export const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
});

export const modelListSchema = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() })),
});

// Provider answers carry fields keygate passes on untouched: open objects.
export const chatCompletionSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(z.looseObject({ index: z.number().int(), message: z.looseObject({ role: z.string() }), finish_reason: z.string().nullable() })),
  usage: z.looseObject({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() }).optional(),
});
export const embeddingsSchema = z.looseObject({
  object: z.literal('list'),
  data: z.array(z.looseObject({ object: z.literal('embedding'), index: z.number().int(), embedding: z.union([z.array(z.number()), z.string()]) })),
  model: z.string(),
  usage: z.looseObject({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }).optional(),
});

export const keyViewSchema = z.object({
  id,
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, for recognising it; never the key'),
  scopes: strings,
  userId: id.nullable(),
  appId: id.nullable(),
  clientId: z.string(),
  models: strings.nullable(),
  providers: strings.nullable(),
  routes: strings.nullable().optional(),
  ipAllow: strings.nullable(),
  limits: limitsSchema.nullable(),
  createdAt: iso,
  expiresAt: iso.nullable(),
  revokedAt: iso.nullable(),
  status: z.enum(['active', 'revoked', 'expired']),
});
export const createdKeySchema = keyViewSchema.extend({ key: shownOnce('The keygate key') });

const limitStateSchema = z.looseObject({ subject: z.string(), limit: z.string(), unit: z.string(), limitValue: z.number(), used: z.number(), remaining: z.number(), resetSeconds: z.number() });
export const keyUsageSchema = z.object({
  keyId: id,
  subjects: z.array(z.object({ subject: z.string(), limits: limitsSchema, states: z.array(limitStateSchema) })),
});

const identityBase = { id, name: z.string(), limits: limitsSchema.nullable(), createdAt: iso, disabled: z.boolean() };
export const userViewSchema = z.object({ ...identityBase, appId: id.nullable() });
export const appViewSchema = z.object({ ...identityBase, hasSecret: z.boolean() });
export const appSecretSchema = z.object({ appId: id, name: z.string(), secret: shownOnce('The app secret') });

export const ipRuleViewSchema = z.object({ id, list: z.enum(['allow', 'deny']), cidr: z.string(), note: z.string().nullable(), createdAt: iso });

/** A list page: `nextCursor` goes back as `cursor` for the next page; null on the last. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable(), total: z.number().int() });
}
export const ipRulePageSchema = pageOf(ipRuleViewSchema).extend({ config: z.object({ allow: strings, deny: strings }) });

export const issuedTokenSchema = z.object({
  access_token: shownOnce('The signed token'),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  scope: z.string(),
  jti: z.string(),
});
export const adminRevokedSchema = z.object({ revoked: z.literal(true), jti: z.string(), until: iso });
export const tokenSecretRotatedSchema = z.object({ kid: z.string(), overlapSeconds: z.number().int(), note: z.string() });
export const revokedSchema = z.object({ revoked: z.literal(true), jti: z.string() });

const metrics = {
  requests: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  promptTokens: z.number(),
  completionTokens: z.number(),
  totalTokens: z.number(),
  costMicros: z.number(),
  costUsd: z.number(),
  unpricedRequests: z.number(),
  estimatedRequests: z.number(),
  latency: z.object({ avgMs: z.number().nullable(), p50Ms: z.number().nullable(), p95Ms: z.number().nullable(), approximate: z.literal(true) }),
};
const dims = { key: z.string().nullable(), user: z.string().nullable(), app: z.string().nullable(), provider: z.string().nullable(), model: z.string().nullable(), status: z.string().nullable() };
const metricsSchema = z.object(metrics);
const groupSchema = z.object({ ...metrics, ...z.object(dims).partial().shape });
const pointSchema = groupSchema.extend({ t: epochMs });
export const summarySchema = z.object({ from: epochMs, to: epochMs, totals: metricsSchema, groups: z.array(groupSchema).optional() });
export const timeseriesSchema = z.object({ from: epochMs, to: epochMs, bucket: z.enum(['hour', 'day']), data: z.array(pointSchema) });
export const topSchema = z.object({ from: epochMs, to: epochMs, by: z.enum(['cost', 'tokens', 'requests']), groupBy: z.string(), data: z.array(groupSchema) });
export const usageExportSchema = z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()])));
export const ownUsageSchema = summarySchema.extend({
  keyId: id.optional(),
  appId: id.optional(),
  bucket: z.enum(['hour', 'day']).optional(),
  series: z.array(pointSchema).optional(),
});

export const auditRecordSchema = z.object({
  seq: z.number().int(),
  ts: epochMs,
  actor: z.string(),
  client_id: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  outcome: z.enum(['success', 'failure', 'denied']),
  address: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  prev_hash: z.string(),
  hash: z.string(),
});
export const auditPageSchema = z.object({ data: z.array(auditRecordSchema), nextCursor: z.number().int().nullable() });
export const auditVerifySchema = z.union([
  z.object({ ok: z.literal(true), count: z.number().int(), head: z.object({ seq: z.number().int(), hash: z.string() }).nullable() }),
  z.object({ ok: z.literal(false), firstBrokenSeq: z.number().int(), reason: z.string() }),
]);

export const webhookEndpointSchema = z.object({
  id,
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.enum([...WEBHOOK_EVENTS, '*'])),
  enabled: z.boolean(),
  createdAt: epochMs,
  updatedAt: epochMs,
});
export const webhookListSchema = pageOf(webhookEndpointSchema);
export const createdWebhookSchema = webhookEndpointSchema.extend({ secret: shownOnce('The signing secret') });
export const webhookSecretSchema = z.object({ id, secret: shownOnce('The new signing secret') });
export const deliverySchema = z.object({
  id,
  endpointId: id,
  eventId: id,
  event: z.string(),
  attempts: z.number().int(),
  status: z.enum(['pending', 'delivering', 'succeeded', 'failed']),
  nextAttemptAt: epochMs.nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: epochMs,
  deliveredAt: epochMs.nullable(),
});
export const deliveryPageSchema = z.object({ data: z.array(deliverySchema), nextCursor: z.string().nullable() });

export const threatPageSchema = z.object({
  data: z.array(
    z.object({
      id: z.number().int(),
      ts: epochMs,
      request_id: z.string(),
      key_id: z.string().nullable(),
      client_id: z.string().nullable(),
      direction: z.string(),
      categories: strings,
      risk: z.number(),
      action: z.string(),
      excerpt: z.string().nullable().describe('Truncated and redacted'),
      findings: z.array(z.looseObject({ category: z.string() })),
    }),
  ),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page'),
  nextBefore: z.number().int().nullable().describe('The same, as a number (older name)'),
});

export const providerKeysSchema = z.object({
  backend: z.looseObject({ backend: z.string(), healthy: z.boolean() }),
  providers: z.array(z.object({ provider: z.string(), keys: z.array(z.looseObject({ keyId: z.string() }).describe('Ids, states and masks; never key material')) })),
});
export const providerKeyRotatedSchema = z.object({ provider: z.string(), keyId: z.string(), draining: z.array(z.string()).describe('Key ids still serving in-flight calls') });

const splitKeyViewSchema = z.object({
  id,
  owner: z.string(),
  provider: z.string(),
  status: z.string(),
  created_at: iso,
  rotated_at: iso.nullable(),
  revoked_at: iso.nullable(),
  last_used_at: iso.nullable(),
  use_count: z.number().int(),
});
export { splitKeyViewSchema };
export const createdSplitKeySchema = z.object({ id, client_part: shownOnce('The client part of the split key'), provider: z.string(), created_at: iso });
export const rotatedSplitKeySchema = createdSplitKeySchema.extend({ replaces: id });
export const splitKeyListSchema = z.object({ object: z.literal('list'), data: z.array(splitKeyViewSchema) });
