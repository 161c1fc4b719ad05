/**
 * Transactions on SQLite begin IMMEDIATE, against a real file and a second real connection
 * (what the usage worker is) that writes between a transaction's read and its write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './connect.js';

const tmp = mkdtempSync(join(tmpdir(), 'keygate-immediate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A migrated store on a fresh file, a scratch table, and the other writer on the same file. */
async function setUp(): Promise<{ store: Store; other: BetterSqlite3.Database; file: string }> {
  const file = join(tmp, `db-${++n}.sqlite`);
  const store = await openStore(`sqlite:${file}`);
  store.sqlite!.exec('CREATE TABLE probe (id INTEGER PRIMARY KEY, who TEXT NOT NULL)');
  const other = new BetterSqlite3(file);
  // No waiting: the other writer either gets the lock at once or reports SQLITE_BUSY.
  other.pragma('busy_timeout = 0');
  cleanups.push(() => {
    other.close();
  }, () => store.close());
  return { store, other, file };
}

/** What the other connection's write did: landed, or refused because the lock was held. */
function otherWrites(other: BetterSqlite3.Database): 'written' | string {
  try {
    other.prepare("INSERT INTO probe (who) VALUES ('worker')").run();
    return 'written';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** Read, let the other connection try to commit, then write: the race the usage worker makes. */
async function readThenWrite(db: Kysely<any>, other: BetterSqlite3.Database): Promise<string> {
  let between = '';
  await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM probe`.execute(trx);
    between = otherWrites(other);
    await sql`INSERT INTO probe (who) VALUES (${`main saw ${rows[0].n}`})`.execute(trx);
  });
  return between;
}

describe('SQLite transactions begin IMMEDIATE', () => {
  it('a transaction that reads then writes commits although another connection wants to write in between', async () => {
    const { store, other } = await setUp();
    // The lock is held from BEGIN: the other writer waits (here: refused at once), the transaction commits.
    expect(await readThenWrite(store.db, other)).toBe('SQLITE_BUSY');
    expect(otherWrites(other)).toBe('written');
    const rows = store.sqlite!.prepare('SELECT who FROM probe ORDER BY id').pluck().all();
    expect(rows).toEqual(['main saw 0', 'worker']);
  });

  it('the same race with a deferred BEGIN (Kysely stock dialect) fails with SQLITE_BUSY_SNAPSHOT', async () => {
    // Control: proves the scenario above is the real one, not a race that cannot happen.
    const { other, file } = await setUp();
    const raw = new BetterSqlite3(file);
    raw.pragma('busy_timeout = 5000');
    const stock = new Kysely<any>({ dialect: new SqliteDialect({ database: raw }) });
    cleanups.push(() => stock.destroy());
    await expect(readThenWrite(stock, other)).rejects.toMatchObject({ code: 'SQLITE_BUSY_SNAPSHOT' });
    expect(raw.prepare('SELECT who FROM probe').pluck().all()).toEqual(['worker']);
  });

  it('a transaction that throws still rolls back, and the lock is free afterwards', async () => {
    const { store, other } = await setUp();
    await expect(
      store.db.transaction().execute(async (trx) => {
        await sql`INSERT INTO probe (who) VALUES ('doomed')`.execute(trx);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(otherWrites(other)).toBe('written');
    expect(store.sqlite!.prepare('SELECT who FROM probe').pluck().all()).toEqual(['worker']);
  });
});
