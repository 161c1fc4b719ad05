/**
 * The configuration file's schema (YAML). Every field has a default so a fresh start needs
 * no file at all. Validation errors are turned into messages naming the field and the fix
 * (see load.ts).
 */
import { z } from 'zod';
import { limitsSchema, timeZoneSchema } from '../limits/schema.js';
import { guardPolicyOverrideSchema, guardPolicySchema } from '../guard/policy.js';
import { secretsSchema } from '../keys/config.js';


const port = z.number().int().min(0).max(65535);
const ms = z.number().int().positive();

export const keyModeSchema = z.enum(['server', 'passthrough', 'auto']);
export type KeyMode = z.infer<typeof keyModeSchema>;

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), { message: 'must start with http:// or https://' });

/** A built-in provider's settings; every field optional (env vars and defaults fill in). */
export const providerSettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    baseUrl: httpUrl.optional(),
    /** Name of the environment variable holding the key (default: the provider's convention). */
    apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name like OPENAI_API_KEY').optional(),
    /** Models listed by GET /v1/models for this provider (replacing the built-in list). */
    models: z.array(z.string().min(1)).optional(),
    /** Account-wide native endpoint groups to open under /<provider>/* (e.g. batches, files); none by default. */
    nativeEndpoints: z.array(z.string().regex(/^[A-Za-z_]{1,40}$/, 'must be an endpoint group name such as batches or files')).optional(),
  })
  .strict();

/** Any OpenAI-compatible server declared in config (DeepSeek, Together, vLLM, LM Studio...). */
export const customProviderSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, - or _ (it is the model prefix, as in "id/model")'),
    name: z.string().optional(),
    baseUrl: httpUrl,
    apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name like DEEPSEEK_API_KEY').optional(),
    keyOptional: z.boolean().default(false),
    streamUsage: z.boolean().default(true),
    models: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8787),
        /** Largest accepted request body, in bytes. */
        bodyLimit: z.number().int().min(1024).default(4 * 1024 * 1024),
        /** How long a graceful shutdown waits for in-flight requests and streams. */
        shutdownTimeoutMs: ms.default(30_000),
        /** Deepest JSON nesting accepted in a body. */
        maxJsonDepth: z.number().int().min(4).max(1000).default(64),
        /** Serve HTTPS directly with these PEM files. */
        tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).strict().optional(),
        /** Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (CIDRs). None by default. */
        trustProxy: z.array(z.string().min(1)).default([]),
        /** Refuse plain HTTP (unless it arrived as HTTPS at a trusted proxy). */
        requireHttps: z.boolean().default(false),
        cors: z
          .object({
            /** Allowed browser origins, e.g. https://app.example.com. None by default. */
            origins: z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'must be an origin like https://app.example.com (scheme, host, optional port; no path) or *')).default([]),
            maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
          })
          .strict()
          .default({ origins: [], maxAgeSeconds: 600 }),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8787, bodyLimit: 4 * 1024 * 1024, shutdownTimeoutMs: 30_000, maxJsonDepth: 64, trustProxy: [], requireHttps: false, cors: { origins: [], maxAgeSeconds: 600 } }),
    keyMode: keyModeSchema.default('auto'),
    auth: z
      .object({
        /** Gateway auth (keygate keys). Turning it off is for local experiments only. */
        enabled: z.boolean().default(true),
        /** Signed bearer tokens (POST /auth/token). */
        tokens: z
          .object({
            ttlSeconds: z.number().int().min(30).max(86_400).default(900),
            maxTtlSeconds: z.number().int().min(30).max(604_800).default(86_400),
            /** How long an old signing secret still verifies after a rotation. */
            rotationOverlapSeconds: z.number().int().min(0).default(86_400),
            issuer: z.string().min(1).default('keygate'),
          })
          .strict()
          .default({ ttlSeconds: 900, maxTtlSeconds: 86_400, rotationOverlapSeconds: 86_400, issuer: 'keygate' }),
        /** Admin routes: lock an address out after this many failed admin authentications in the window. */
        adminLockout: z
          .object({ maxFailures: z.number().int().min(1).default(10), windowSeconds: z.number().int().min(1).default(900), lockSeconds: z.number().int().min(1).default(900) })
          .strict()
          .default({ maxFailures: 10, windowSeconds: 900, lockSeconds: 900 }),
        /** Admin routes' own rate limit per address. */
        adminRpm: z.number().int().min(1).default(120),
      })
      .strict()
      .default({
        enabled: true,
        tokens: { ttlSeconds: 900, maxTtlSeconds: 86_400, rotationOverlapSeconds: 86_400, issuer: 'keygate' },
        adminLockout: { maxFailures: 10, windowSeconds: 900, lockSeconds: 900 },
        adminRpm: 120,
      }),
    /** Global IP rules (CIDR, IPv4 and IPv6); deny wins; with an allow list, unlisted addresses are refused. */
    ipRules: z
      .object({ allow: z.array(z.string()).default([]), deny: z.array(z.string()).default([]) })
      .strict()
      .default({ allow: [], deny: [] }),
    limits: z
      .object({
        /** Daily and monthly windows start at midnight in this IANA zone. */
        timeZone: timeZoneSchema.default('UTC'),
        /** Limits for keys that have none of their own. */
        defaultKeyLimits: limitsSchema.optional(),
        /** Quota fractions that fire quota.threshold (1 fires quota.exceeded). */
        thresholds: z.array(z.number().gt(0).max(1)).default([0.8, 1]),
        /** Tokens reserved for a request that sets no max_tokens. */
        defaultMaxTokens: z.number().int().positive().default(1024),
        /** When the counter store (Redis) is unreachable: refuse (false, safe) or let calls through. */
        failOpen: z.boolean().default(false),
        /**
         * USD per million tokens charged against spend budgets for a model with no price (see
         * docs/limits.md). Absent: a call to such a model under a spend budget is refused (403).
         */
        unknownModelPrice: z.object({ input: z.number().min(0).max(100_000), output: z.number().min(0).max(100_000) }).strict().optional(),
      })
      .strict()
      .default({ timeZone: 'UTC', thresholds: [0.8, 1], defaultMaxTokens: 1024, failOpen: false }),
    database: z
      .object({
        /** `sqlite:PATH` or `postgres://...`; default: SQLite in the data directory. DATABASE_URL overrides. */
        url: z.string().optional(),
      })
      .strict()
      .default({}),
    providers: z
      .object({
        openai: providerSettingsSchema.optional(),
        groq: providerSettingsSchema.optional(),
        mistral: providerSettingsSchema.optional(),
        ollama: providerSettingsSchema.optional(),
        anthropic: providerSettingsSchema.optional(),
        gemini: providerSettingsSchema.optional(),
        'azure-openai': providerSettingsSchema.optional(),
        'ollama-native': providerSettingsSchema.optional(),
        custom: z.array(customProviderSchema).default([]),
      })
      .strict()
      .default({ custom: [] }),
    models: z
      .object({
        /** Provider used for a model name without a `provider/` prefix. */
        defaultProvider: z.string().default('openai'),
        /** Alias -> `provider/model`. */
        aliases: z.record(z.string(), z.string().regex(/^[^/]+\/.+$/, 'must be "provider/model"')).default({}),
        /** Drop OpenAI parameters a provider cannot honour instead of answering 400. */
        dropUnsupportedParams: z.boolean().default(false),
        /** max_tokens sent to providers that require one (Anthropic) when the request sets none. */
        defaultMaxTokens: z.number().int().positive().default(4096),
        /** Fallback chains: requested model (or provider/model) -> models to try, in order, when it fails. */
        fallbacks: z.record(z.string(), z.array(z.string().min(1)).min(1)).default({}),
        /** Upstream statuses that move on to the next target of the plan. */
        fallbackOn: z.array(z.number().int().min(400).max(599)).default([429, 500, 502, 503, 504]),
        /** Load-balancing groups: a model name served by several targets (keys, deployments, providers). */
        groups: z
          .record(
            z.string(),
            z
              .object({
                strategy: z.enum(['weighted', 'least-busy']).default('weighted'),
                targets: z.array(z.object({ model: z.string().min(1), weight: z.number().positive().default(1) }).strict()).min(1),
              })
              .strict(),
          )
          .default({}),
        /** Azure OpenAI api-version query parameter. */
        azureApiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'must look like 2024-10-21').default('2024-10-21'),
      })
      .strict()
      .default({ defaultProvider: 'openai', aliases: {}, dropUnsupportedParams: false, defaultMaxTokens: 4096, azureApiVersion: '2024-10-21', fallbacks: {}, fallbackOn: [429, 500, 502, 503, 504], groups: {} }),
    upstream: z
      .object({
        connectTimeoutMs: ms.default(10_000),
        /** Time to the upstream's response headers (first byte). */
        firstByteTimeoutMs: ms.default(120_000),
        /** Longest silence between two chunks of a body or stream. */
        idleTimeoutMs: ms.default(120_000),
        /** Whole-call deadline; a stream is held to it only until its response headers arrive (then idleTimeoutMs governs). */
        totalTimeoutMs: ms.default(600_000),
        connectionsPerOrigin: z.number().int().positive().default(128),
        /** Retries per target on connection errors, 429 and 5xx, before the first byte reaches the client. */
        retries: z.number().int().min(0).max(10).default(2),
        retryBaseDelayMs: z.number().int().min(0).default(250),
        retryMaxDelayMs: z.number().int().min(0).default(8_000),
        circuitBreaker: z
          .object({ failureThreshold: z.number().int().min(1).default(5), cooldownMs: ms.default(30_000) })
          .strict()
          .default({ failureThreshold: 5, cooldownMs: 30_000 }),
      })
      .strict()
      .default({
        connectTimeoutMs: 10_000,
        firstByteTimeoutMs: 120_000,
        idleTimeoutMs: 120_000,
        totalTimeoutMs: 600_000,
        connectionsPerOrigin: 128,
        retries: 2,
        retryBaseDelayMs: 250,
        retryMaxDelayMs: 8_000,
        circuitBreaker: { failureThreshold: 5, cooldownMs: 30_000 },
      }),
    usage: z
      .object({
        flushIntervalMs: ms.default(500),
        batchSize: z.number().int().positive().default(200),
        /** Raw request records older than this are deleted (in small batches, off the request path). */
        retentionDays: z.number().int().min(1).max(36_500).default(90),
        /** Hourly rollups (what analytics read) are kept this long. */
        rollupRetentionDays: z.number().int().min(1).max(36_500).default(730),
      })
      .strict()
      .default({ flushIntervalMs: 500, batchSize: 200, retentionDays: 90, rollupRetentionDays: 730 }),
    /** Price overrides, USD per million tokens: { 'openai/gpt-4o': { input, output, cachedInput } }. */
    prices: z
      .record(
        z.string().regex(/^[^/\s]+\/\S+$/, 'must be "provider/model", e.g. openai/gpt-4o'),
        z
          .object({
            input: z.number().min(0).max(100_000),
            output: z.number().min(0).max(100_000),
            cachedInput: z.number().min(0).max(100_000).optional(),
          })
          .strict(),
      )
      .default({}),
    /** The shield's default policy (see docs/shield.md): block injection at risk >= 70, redact secrets, log personal data. */
    /** Where provider keys live (default: sealed rows in keygate's database); see docs/key-management.md. */
    secrets: secretsSchema.prefault({}),
    guard: guardPolicySchema.prefault({}),
    /**
     * Overrides of the shield's policy for keys (by key id), apps (by app id) and route
     * operations (`chat`, `embeddings`, `native:anthropic:messages`...), each merged over
     * `guard`; the most specific is applied last (see src/guard/policy-book.ts).
     */
    guardPolicies: z
      .object({
        keys: z.record(z.string(), guardPolicyOverrideSchema).default({}),
        apps: z.record(z.string(), guardPolicyOverrideSchema).default({}),
        routes: z.record(z.string(), guardPolicyOverrideSchema).default({}),
      })
      .strict()
      .default({ keys: {}, apps: {}, routes: {} }),
    webhooks: z
      .object({
        /** Allow webhook targets on loopback, link-local or private addresses (off: SSRF protection). */
        allowPrivateTargets: z.boolean().default(false),
        /** Private ranges allowed anyway, e.g. an internal receiver's /32. */
        allowCidrs: z.array(z.string()).default([]),
        /** Allow http:// targets (off: https only). */
        allowHttp: z.boolean().default(false),
        /** Finished deliveries are deleted from the delivery log after this many days (0: kept). */
        deliveryRetentionDays: z.number().int().min(0).max(3650).default(30),
      })
      .strict()
      .default({ allowPrivateTargets: false, allowCidrs: [], allowHttp: false, deliveryRetentionDays: 30 }),
    events: z
      .object({
        /** Refusal events (rate_limited, credential.rejected, ...) per key or address: one audit record and webhook per this many seconds, with a count; 0 = every one. */
        coalesceSeconds: z.number().int().min(0).max(86_400).default(60),
      })
      .strict()
      .default({ coalesceSeconds: 60 }),
    tracing: z
      .object({
        /** OTLP/HTTP endpoint (JSON), e.g. http://collector:4318 (/v1/traces is appended). Unset: OTEL_EXPORTER_OTLP_ENDPOINT, else tracing is off. */
        otlpEndpoint: z.string().url().optional(),
        serviceName: z.string().min(1).max(100).default('keygate'),
        /** Share of requests traced, 0 to 1. */
        sampleRatio: z.number().min(0).max(1).default(1),
        /** Send the upstream span's W3C traceparent to the provider. */
        propagate: z.boolean().default(false),
      })
      .strict()
      .default({ serviceName: 'keygate', sampleRatio: 1, propagate: false }),
    metrics: z
      .object({
        enabled: z.boolean().default(true),
        /** Serve /metrics without credentials (off: an admin credential is required). */
        public: z.boolean().default(false),
      })
      .strict()
      .default({ enabled: true, public: false }),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type KeygateConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ProviderSettings = z.infer<typeof providerSettingsSchema>;
export type CustomProviderConfig = z.infer<typeof customProviderSchema>;
