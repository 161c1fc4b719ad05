/** Table types, as Kysely sees them. Times are epoch milliseconds (portable across dialects). */
import type { Generated } from 'kysely';
import type { AuditTables } from '../usage/audit/types.js';
import type { WebhookTables } from '../usage/webhooks/types.js';

export interface ApiKeysTable {
  id: string;
  name: string;
  /** SHA-256 of the full key, hex. The key itself is never stored. */
  key_hash: string;
  /** First characters of the key, for people to recognise it (`kg-AbC1`). */
  key_prefix: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  user_id: string | null;
  app_id: string | null;
  /** Reported in audit records; defaults to the key's name. */
  client_id: string | null;
  /** JSON arrays of allow-list patterns (`gpt-4o*`, `anthropic/*`); null = any. */
  models: string | null;
  providers: string | null;
  /** JSON array of allowed route patterns (`/v1/embeddings`, `/anthropic/*`); null = any. */
  routes: string | null;
  ip_allow: string | null;
  /** JSON of limits (see src/limits/schema.ts); null = none of its own. */
  limits: string | null;
}

export interface AppsTable {
  id: string;
  name: string;
  /** SHA-256 of the app secret that can obtain signed tokens; null = none. */
  secret_hash: string | null;
  limits: string | null;
  created_at: number;
  disabled_at: number | null;
}

export interface UsersTable {
  id: string;
  name: string;
  app_id: string | null;
  limits: string | null;
  created_at: number;
  disabled_at: number | null;
}

export interface ThreatsTable {
  id: Generated<number>;
  ts: number;
  request_id: string;
  key_id: string | null;
  client_id: string | null;
  /** 'request' (the prompt) or 'answer'. */
  direction: string;
  /** Comma-separated categories found. */
  categories: string;
  risk: number;
  /** What the policy did: block, redact or log. */
  action: string;
  /** Truncated, redacted excerpt: never a raw secret, never the whole prompt. */
  excerpt: string | null;
  /** JSON: [{category, detector, score, path}]. */
  findings: string;
}

export interface RevokedTokensTable {
  jti: string;
  /** When the token would have expired anyway; the row can be pruned after that. */
  expires_at: number;
  revoked_at: number;
}

export interface IpRulesTable {
  id: string;
  list: 'allow' | 'deny';
  cidr: string;
  note: string | null;
  created_at: number;
}

export interface RequestsTable {
  id: Generated<number>;
  request_id: string;
  ts: number;
  key_id: string | null;
  provider: string;
  model: string;
  endpoint: string;
  status: number;
  latency_ms: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  stream: number;
  /** 'server' when the gateway's key was used, 'client' for passthrough. */
  custody: string;
  error_code: string | null;
  /** The BYOK split key the request used (custody 'byok'); null otherwise. */
  split_key_id: string | null;
  /** Cost in micro-dollars; null when the model's price is unknown (never guessed). */
  cost_micros: number | null;
  price_known: Generated<number>;
  /** 1 when the provider reported no usage and the tokens are an estimate. */
  usage_estimated: Generated<number>;
  user_id: string | null;
  app_id: string | null;
}

/** Hourly rollup of `requests` (src/usage/rollup.ts); dimensions use '' for none. */
export interface UsageHourlyTable {
  hour: number;
  key_id: string;
  user_id: string;
  app_id: string;
  provider: string;
  model: string;
  /** '2xx', '4xx', '5xx' or '499' (client closed). */
  status_class: string;
  requests: number;
  errors: number;
  /** Requests whose price was unknown (their cost is not in cost_micros). */
  unpriced: number;
  estimated: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micros: number;
  latency_sum_ms: number;
  /** Latency histogram: requests with latency <= N ms (and above the previous bound). */
  lat_le_50: number;
  lat_le_100: number;
  lat_le_250: number;
  lat_le_500: number;
  lat_le_1000: number;
  lat_le_2500: number;
  lat_le_5000: number;
  lat_le_10000: number;
  lat_inf: number;
}

/** A BYOK split key: only the ciphertext side of the split (see src/byok). */
export interface SplitKeysTable {
  key_id: string;
  /** The caller it belongs to: a user id, or a key id for keys without a user. */
  owner_id: string;
  provider: string;
  ciphertext: string;
  iv: string;
  tag: string;
  salt: string;
  created_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  use_count: Generated<number>;
}

/** Server-side secrets (e.g. the split-key server secret), sealed under the master key. */
export interface ServerSecretsTable {
  name: string;
  sealed: string;
  created_at: number;
}

/** Provider keys of the `store` secret backend, sealed under the master key (AAD = name). */
export interface ProviderSecretsTable {
  name: string;
  sealed: string;
  /** The master key that sealed it (also in the envelope header), to find rows to re-wrap. */
  master_key_id: string;
  created_at: number;
  updated_at: number;
}

/** A shield policy override set through the admin API (JSON of the override's fields). */
export interface GuardPoliciesTable {
  scope: string;
  subject: string;
  policy: string;
  updated_at: number;
  updated_by: string | null;
}

export interface Database extends AuditTables, WebhookTables {
  api_keys: ApiKeysTable;
  requests: RequestsTable;
  apps: AppsTable;
  users: UsersTable;
  revoked_tokens: RevokedTokensTable;
  threats: ThreatsTable;
  guard_policies: GuardPoliciesTable;
  ip_rules: IpRulesTable;
  split_keys: SplitKeysTable;
  server_secrets: ServerSecretsTable;
  provider_secrets: ProviderSecretsTable;
  usage_hourly: UsageHourlyTable;
}
