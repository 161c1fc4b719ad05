/**
 * On PostgreSQL a running gateway learns of changes made elsewhere (the CLI, another replica)
 * through LISTEN. When that connection is killed, revocations must still be seen: while it is
 * down the caches count as stale, and it reconnects by itself and hears notifications again.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_CHANNEL, openStore, type Store } from '../../src/store/connect.js';
import { ApiKeyRepository } from '../../src/store/repositories/api-keys.js';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { POSTGRES_URL, createTempDatabase, postgresAvailable } from '../support/services.js';

const pgUp = await postgresAvailable();

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

describe.skipIf(!pgUp)('the PostgreSQL change listener', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let other: Store;
  let repo: ApiKeyRepository;
  let admin: pg.Client;
  let dbName = '';
  let otherListener: number[] = [];
  let drop: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    const db = await createTempDatabase();
    drop = db.drop;
    dbName = new URL(db.url).pathname.slice(1);
    gw = await startTestGateway({ label: 'pg-listener', databaseUrl: db.url, env: { KEY_MODE: 'passthrough' } });
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    const gatewayOnly = await listenerPids();
    other = await openStore(db.url);
    // The other handle listens too; its listener is not the one under test.
    otherListener = (await listenerPids()).filter((p) => !gatewayOnly.includes(p));
    repo = new ApiKeyRepository(other);
  });
  afterAll(async () => {
    await admin?.end();
    await other?.close();
    await gw?.stop();
    await drop();
  });

  /** Backend pids of this database's LISTEN connections but the other handle's: the gateway's listener. */
  async function listenerPids(): Promise<number[]> {
    const r = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query = $2`, [dbName, `LISTEN ${CHANGE_CHANNEL}`]);
    return r.rows.map((x) => x.pid).filter((p) => !otherListener.includes(p));
  }

  const status = async (key: string) => (await fetch(`${gw.url}/v1/models`, { headers: { 'x-keygate-key': key } })).status;

  async function cachedKey(name: string): Promise<string> {
    const { key } = await repo.create({ name });
    recordSecret(key);
    expect(await status(key)).toBe(200);
    expect(await status(key)).toBe(200); // served from the cache now
    return key;
  }

  it('a revocation made while the listener is being replaced is still seen, and a reconnected listener hears the next one', async () => {
    expect(otherListener).toHaveLength(1);
    const first = await listenerPids();
    expect(first).toHaveLength(1);
    const key1 = await cachedKey('before-kill');
    await admin.query('SELECT pg_terminate_backend($1)', [first[0]]);
    // One request after the kill, then the revocation: without a live listener (or treating the
    // cache as stale meanwhile) this key would stay valid for good.
    await status(key1);
    await repo.revoke('before-kill');
    await until('the revoked key is refused', async () => (await status(key1)) === 401);

    await until('the listener reconnects', async () => {
      const now = await listenerPids();
      return now.length === 1 && now[0] !== first[0];
    });
    const key2 = await cachedKey('after-reconnect');
    await repo.revoke('after-reconnect');
    await until('the revocation is heard by the new listener', async () => (await status(key2)) === 401);
  });
});

describe.skipIf(!pgUp)('a pooled PostgreSQL connection killed while in use', { timeout: 60_000 }, () => {
  it('fails the query it was running; the process goes on and the store answers again', async () => {
    const db = await createTempDatabase();
    const store = await openStore(db.url);
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      const running = sql`SELECT pg_sleep(30)`.execute(store.db).then(
        () => null,
        (err: unknown) => err,
      );
      const dbName = new URL(db.url).pathname.slice(1);
      await until('the query is running', async () => (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'SELECT pg_sleep%'`, [dbName])).rowCount === 1);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'SELECT pg_sleep%'`, [dbName]);
      // Without a listener on checked-out clients, pg emits 'error' with nobody to hear it: an uncaught exception.
      expect(await running).toBeInstanceOf(Error);
      // The dead client may be handed out once more before its end is seen (a pg-pool race); then a new one.
      await until('the store answers again', () => sql`SELECT 1 AS one`.execute(store.db).then((r) => r.rows.length === 1, () => false));
    } finally {
      await admin.end();
      await store.close();
      await db.drop();
    }
  });
});
