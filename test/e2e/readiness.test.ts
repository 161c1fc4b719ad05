/**
 * /readyz says 503 when the gateway cannot serve: the store unreachable (a real PostgreSQL
 * that stops taking connections, then takes them again), or KEY_MODE=server with no provider
 * it can call. /healthz stays 200: the process is alive.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { POSTGRES_URL, createTempDatabase, postgresAvailable } from '../support/services.js';
import type { UsageWorkerSink } from '../../src/usage/usage-worker-sink.js';

const pgUp = await postgresAvailable();

interface Ready {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

async function ready(gw: TestGateway): Promise<{ status: number; body: Ready }> {
  const res = await fetch(`${gw.url}/readyz`);
  const text = await res.text();
  recordOutput('readiness', text);
  return { status: res.status, body: JSON.parse(text) as Ready };
}

describe.skipIf(!pgUp)('/readyz with the store down', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let admin: pg.Client;
  let dbName = '';
  let drop: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    const db = await createTempDatabase();
    drop = db.drop;
    dbName = new URL(db.url).pathname.slice(1);
    gw = await startTestGateway({ label: 'readiness-pg', databaseUrl: db.url, env: { KEY_MODE: 'passthrough' } });
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin?.end();
    await gw?.stop();
    await drop();
  });

  it('503 with the store check failing while PostgreSQL refuses connections, 200 again once it takes them', async () => {
    expect((await ready(gw)).status).toBe(200);
    // The database stops taking connections and loses the ones it had: the store is down.
    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
    const down = await ready(gw);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'not_ready', checks: { store: { ok: false, detail: 'the database is not reachable' }, providers: { ok: true } } });
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);

    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
    const up = await ready(gw);
    expect(up.status).toBe(200);
    expect(up.body.checks.store.ok).toBe(true);
    // The change listener, refused while the database was closed, comes back by itself.
    for (let i = 0; i < 200; i++) {
      const r = await admin.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query = $2', [dbName, 'LISTEN keygate_changed']);
      if (r.rowCount) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const listening = await admin.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query = $2', [dbName, 'LISTEN keygate_changed']);
    expect(listening.rowCount).toBe(1);
  });
});

describe('/readyz with no usable provider', () => {
  it('503 in server mode once the only provider key is removed from the secret backend (and the keyless providers are off)', async () => {
    // A first gateway stores an OpenAI key in the data dir's store backend, as `keygate keys rotate` would.
    const first = await startTestGateway({ label: 'readiness-seed', env: { KEY_MODE: 'auto' } });
    const dataDir = first.dataDir;
    const put = await fetch(`${first.url}/admin/provider-keys/openai/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: recordSecret('sk-proj-READINESSkey0123456789abcdefghijklmn') }),
    });
    recordOutput('readiness', await put.text());
    expect(put.status).toBe(200);
    await first.ctx.usage.flush();
    await first.close();

    const gw = await startTestGateway({
      label: 'readiness-providers',
      env: { KEY_MODE: 'server', KEYGATE_DATA_DIR: dataDir },
      config: { providers: { ollama: { enabled: false }, 'ollama-native': { enabled: false } } },
    });
    try {
      expect((await ready(gw)).status).toBe(200);
      await gw.ctx.store.db.deleteFrom('provider_secrets').execute();
      await gw.ctx.providerKeys.reload();
      const r = await ready(gw);
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ status: 'not_ready', checks: { store: { ok: true }, providers: { ok: false, detail: 'no provider is usable' } } });
    } finally {
      await gw.stop();
      await first.stop();
    }
  });
});

describe('/readyz and the SQLite usage worker', () => {
  it('names the worker while it writes, and says degraded (still 200) once it has stopped and batches go to the event loop', async () => {
    const gw = await startTestGateway({ label: 'readiness-usage-worker', env: { KEY_MODE: 'passthrough' } });
    try {
      const sink = gw.ctx.usage.sink as UsageWorkerSink;
      expect(await sink.started()).toBe('worker');
      const up = await ready(gw);
      expect(up.status).toBe(200);
      expect(up.body.checks.usage).toEqual({ ok: true, detail: 'usage worker: worker' });
      await sink.worker.terminate();
      await vi.waitFor(() => expect(gw.ctx.usage.sinkMode).toBe('event-loop'));
      const down = await ready(gw);
      expect(down.status).toBe(200);
      expect(down.body.checks.usage.detail).toMatch(/^degraded: the usage worker stopped/);
    } finally {
      await gw.stop();
    }
  });
});
