/** Table types, as Kysely sees them. Times are epoch milliseconds (portable across dialects). */
import type { Generated } from 'kysely';

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
}

export interface Database {
  api_keys: ApiKeysTable;
  requests: RequestsTable;
}
