/**
 * A fresh PostgreSQL database for the keygate-on-PostgreSQL run (dropped and created each
 * run), so the bench never touches the test suite's database and starts from empty tables.
 */
import pg from 'pg';

export const BENCH_PG_ADMIN_URL = process.env.KEYGATE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DB = 'keygate_bench';

export async function freshBenchDatabase(): Promise<{ ok: true; url: string } | { ok: false; reason: string }> {
  const client = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${DB}`);
    const url = new URL(BENCH_PG_ADMIN_URL);
    url.pathname = `/${DB}`;
    return { ok: true, url: url.toString() };
  } catch (err) {
    return { ok: false, reason: `PostgreSQL at ${new URL(BENCH_PG_ADMIN_URL).host} not usable: ${(err as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}
