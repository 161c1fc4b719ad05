/**
 * On PostgreSQL a running gateway learns of changes made elsewhere (the CLI, another replica)
 * through LISTEN. When that connection is killed, revocations must still be seen: while it is
 * down the caches count as stale, and it reconnects by itself and hears notifications again.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANGE_CHANNEL, openStore, type Store } from '../../src/store/connect.js';
import { ApiKeyRepository } from '../../src/store/repositories/api-keys.js';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { POSTGRES_URL, createTempDatabase, postgresAvailable } from '../support/services.js';

const pgUp = await postgresAvailable();
/** Polling for what the gateway reaches by itself (a reconnect, a notification), bounded. */
const WAIT = { timeout: 20_000, interval: 50 };

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
    await vi.waitFor(async () => expect(await status(key1), 'the revoked key is refused').toBe(401), WAIT);

    await vi.waitFor(async () => {
      const now = await listenerPids();
      expect(now, 'the listener reconnects').toHaveLength(1);
      expect(now[0], 'a new listener').not.toBe(first[0]);
    }, WAIT);
    const key2 = await cachedKey('after-reconnect');
    await repo.revoke('after-reconnect');
    await vi.waitFor(async () => expect(await status(key2), 'the revocation is heard by the new listener').toBe(401), WAIT);
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
      await vi.waitFor(async () => expect((await admin.query(`SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'SELECT pg_sleep%'`, [dbName])).rowCount, 'the query is running').toBe(1), WAIT);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'SELECT pg_sleep%'`, [dbName]);
      // Without a listener on checked-out clients, pg emits 'error' with nobody to hear it: an uncaught exception.
      expect(await running).toBeInstanceOf(Error);
      // The dead client may be handed out once more before its end is seen (a pg-pool race); then a new one.
      await vi.waitFor(async () => expect((await sql`SELECT 1 AS one`.execute(store.db)).rows, 'the store answers again').toHaveLength(1), WAIT);
    } finally {
      await admin.end();
      await store.close();
      await db.drop();
    }
  });
});
