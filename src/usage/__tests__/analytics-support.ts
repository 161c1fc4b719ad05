/** Test helper: fresh, migrated stores on SQLite and (when reachable) PostgreSQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTempDatabase, postgresAvailable } from '../../../test/support/services.js';
import { openStore, type Store } from '../../store/connect.js';
import type { RequestRecord } from '../../store/repositories/requests.js';
import { HOUR_MS } from '../rollup.js';

export interface DialectTarget {
  name: 'sqlite' | 'postgres';
  open(): Promise<Store>;
}

export async function dialectTargets(label: string): Promise<{ targets: DialectTarget[]; cleanup: () => Promise<void> }> {
  const tmp = mkdtempSync(join(tmpdir(), `keygate-${label}-`));
  const drops: Array<() => Promise<void>> = [];
  let n = 0;
  const targets: DialectTarget[] = [{ name: 'sqlite', open: () => openStore(`sqlite:${join(tmp, `${n++}.db`)}`) }];
  if (await postgresAvailable()) {
    targets.push({
      name: 'postgres',
      open: async () => {
        const db = await createTempDatabase();
        drops.push(db.drop);
        return openStore(db.url);
      },
    });
  }
  return {
    targets,
    cleanup: async () => {
      for (const d of drops) await d();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);

/** A deterministic mix: keys, users, apps, providers, models, statuses, latencies, prices. */
export function mixedRecords(n: number, t0 = T0): RequestRecord[] {
  const statuses = [200, 200, 200, 429, 500, 499, 200, 502];
  const out: RequestRecord[] = [];
  for (let i = 0; i < n; i++) {
    const status = statuses[i % statuses.length];
    const known = i % 5 !== 0;
    out.push({
      request_id: `r-${i}`,
      ts: t0 + ((i * 7919) % (5 * HOUR_MS)),
      key_id: i % 4 === 3 ? null : `key_${i % 3}`,
      user_id: i % 2 ? `usr_${i % 3}` : null,
      app_id: i % 6 === 0 ? 'app_a' : null,
      provider: i % 3 === 0 ? 'groq' : 'openai',
      model: i % 2 ? 'gpt-4o-mini' : 'gpt-4o',
      endpoint: 'chat',
      status,
      latency_ms: (i * 37) % 12_000,
      prompt_tokens: status < 400 ? 10 + (i % 7) : null,
      completion_tokens: status < 400 ? 5 + (i % 3) : null,
      total_tokens: null,
      stream: i % 2,
      custody: 'server',
      error_code: status >= 400 ? 'x' : i % 11 === 0 ? 'stream_incomplete' : null,
      cost_micros: known ? 100 + i : null,
      price_known: known ? 1 : 0,
      usage_estimated: i % 9 === 0 ? 1 : 0,
    });
  }
  return out;
}

