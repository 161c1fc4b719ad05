/** A split key as its owner, the API and the CLI see it: never any key material. */
import { statusOf, type SplitKeyRow, type SplitKeyStatus } from './repository.js';

export interface SplitKeyView {
  id: string;
  owner: string;
  provider: string;
  status: SplitKeyStatus;
  created_at: string;
  rotated_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  use_count: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function splitKeyView(row: SplitKeyRow): SplitKeyView {
  return {
    id: row.key_id,
    owner: row.owner_id,
    provider: row.provider,
    status: statusOf(row),
    created_at: new Date(row.created_at).toISOString(),
    rotated_at: iso(row.rotated_at),
    revoked_at: iso(row.revoked_at),
    last_used_at: iso(row.last_used_at),
    use_count: Number(row.use_count),
  };
}
