/** Everything the routes need, built once at start-up (see server/gateway.ts). */
import type { AccessControl } from '../auth/access-control.js';
import type { TrustedProxies } from '../auth/client-ip.js';
import type { SignedTokenService } from '../auth/signed-tokens.js';
import type { KeygateConfig } from '../config/schema.js';
import type { MasterKey } from '../crypto/master-key.js';
import type { LimitStore } from '../limits/index.js';
import type { ModelRouter } from '../providers/model-router.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { CircuitBreakers } from '../upstream/circuit-breaker.js';
import type { Store } from '../store/connect.js';
import type { ApiKeyRepository } from '../store/repositories/api-keys.js';
import type { IdentityRepository } from '../store/repositories/identities.js';
import type { IpRuleRepository } from '../store/repositories/ip-rules.js';
import type { RequestRepository } from '../store/repositories/requests.js';
import type { RevokedTokenRepository } from '../store/repositories/revoked-tokens.js';
import type { ThreatRepository } from '../store/repositories/threats.js';
import type { GuardPolicyBook } from '../guard/policy-book.js';
import type { GuardPolicyRepository } from '../store/repositories/guard-policies.js';
import type { MasterKeyRing, ProviderKeyService } from '../keys/index.js';
import type { UpstreamClient } from '../upstream/http-client.js';
import type { Tracing } from './tracing.js';
import type { PriceTable } from '../usage/prices.js';
import type { UsageWriter } from '../usage/usage-writer.js';
import type { GatewayMetrics } from '../usage/metrics.js';
import type { Operations } from './operations.js';
import type { EventBus } from './events.js';
import type { Logger } from './logger.js';

/**
 * BYOK split keys: rebuilds a user's provider key from the request's X-Partial-Key-Id and
 * X-Partial-Key headers, bound to the caller and to the provider the request is routed to.
 * Returns null when the request carries no split key.
 */
export interface SplitKeyResolver {
  resolve(req: import('fastify').FastifyRequest, provider: string): Promise<import('../crypto/secret-string.js').SecretString | null>;
}

export interface Repositories {
  keys: ApiKeyRepository;
  users: IdentityRepository<'users'>;
  apps: IdentityRepository<'apps'>;
  ipRules: IpRuleRepository;
  revokedTokens: RevokedTokenRepository;
  requests: RequestRepository;
  threats: ThreatRepository;
  guardPolicies: GuardPolicyRepository;
}

export interface GatewayContext {
  config: KeygateConfig;
  dataDir: string;
  masterKey: MasterKey;
  registry: ProviderRegistry;
  router: ModelRouter;
  breakers: CircuitBreakers;
  store: Store;
  repos: Repositories;
  access: AccessControl;
  tokens: SignedTokenService;
  limits: LimitStore;
  prices: PriceTable;
  usage: UsageWriter;
  upstream: UpstreamClient;
  /** OpenTelemetry tracing; null when no OTLP endpoint is configured. */
  tracing?: Tracing | null;
  events: EventBus;
  /** The shield's policies: the default, and overrides per key, app and route from config and the admin API. */
  guardPolicies: GuardPolicyBook;
  metrics: GatewayMetrics;
  /** Audit log and webhooks (src/usage/audit, src/usage/webhooks). */
  ops: Operations;
  trustProxy: TrustedProxies;
  /** The gateway's provider keys in service: pools, reload, rotation (src/keys). */
  providerKeys: ProviderKeyService;
  /** The current master key and, during a master-key rotation, the others (src/keys/master-keys.ts). */
  masterKeys: MasterKeyRing;
  /** Set when BYOK split keys are enabled (src/byok). */
  splitKeys?: SplitKeyResolver;
  logger: Logger;
}
