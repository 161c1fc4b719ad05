/** The split-key server secret on both dialects: made once, sealed, shared by concurrent starters. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTempDatabase, postgresAvailable } from '../../test/support/services.js';
import { MasterKey, openEnvelope } from '../crypto/index.js';
import { openStore, type Store } from '../store/connect.js';
import { loadServerSecret, ServerSecretError, SPLIT_KEY_SECRET_NAME } from './server-secret.js';

const tmp = mkdtempSync(join(tmpdir(), 'keygate-byok-'));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(tmp, { recursive: true, force: true });
});

const pgUp = await postgresAvailable();
const dialects = ['sqlite', ...(pgUp ? ['postgres'] : [])];

/** A fresh database and `n` independent connections to it, as if from `n` processes. */
async function stores(dialect: string, n: number): Promise<Store[]> {
  let url = `sqlite:${join(tmp, `${randomBytes(6).toString('hex')}.db`)}`;
  if (dialect === 'postgres') {
    const db = await createTempDatabase();
    url = db.url;
    cleanups.push(db.drop);
  }
  const first = await openStore(url);
  const rest = await Promise.all(Array.from({ length: n - 1 }, () => openStore(url, { migrate: false })));
  const all = [first, ...rest];
  cleanups.push(async () => {
    for (const s of all) await s.close();
  });
  return all;
}

describe.each(dialects)('split-key server secret on %s', (dialect) => {
  it('is created once: processes starting at once all get the same 32 bytes', async () => {
    const all = await stores(dialect, 4);
    const mk = MasterKey.fromBytes(randomBytes(32));
    const secrets = await Promise.all(all.map((s) => loadServerSecret(s, mk)));
    for (const s of secrets) {
      expect(s.length).toBe(32);
      expect(s.equals(secrets[0]!)).toBe(true);
    }
    const rows = await all[0]!.db.selectFrom('server_secrets').selectAll().execute();
    expect(rows).toHaveLength(1);
    // Reused thereafter, not re-made.
    expect((await loadServerSecret(all[1]!, mk)).equals(secrets[0]!)).toBe(true);
  });

  it('is stored sealed under the master key, not derived from it', async () => {
    const [store] = await stores(dialect, 1);
    const mk = MasterKey.fromBytes(randomBytes(32));
    const secret = await loadServerSecret(store!, mk);
    const row = await store!.db.selectFrom('server_secrets').selectAll().executeTakeFirstOrThrow();
    expect(row.name).toBe(SPLIT_KEY_SECRET_NAME);
    expect(row.sealed).toMatch(new RegExp(`^kge1\\.${mk.id}\\.`));
    for (const enc of ['hex', 'base64', 'base64url'] as const) expect(row.sealed).not.toContain(secret.toString(enc).slice(0, 12));
    expect(openEnvelope(mk.envelopeKey(), row.sealed, SPLIT_KEY_SECRET_NAME).equals(secret)).toBe(true);
    // Bound to its row name: the same envelope under another name does not open.
    expect(() => openEnvelope(mk.envelopeKey(), row.sealed, 'other')).toThrow();
    // Random, so another database with the same master key gets another secret.
    const [other] = await stores(dialect, 1);
    expect((await loadServerSecret(other!, mk)).equals(secret)).toBe(false);
  });

  it('refuses another master key with a message that says what to do and carries no secret', async () => {
    const [store] = await stores(dialect, 1);
    const secret = await loadServerSecret(store!, MasterKey.fromBytes(randomBytes(32)));
    const err = await loadServerSecret(store!, MasterKey.fromBytes(randomBytes(32))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerSecretError);
    expect((err as Error).message).toContain('sealed under another master key');
    expect((err as Error).message).not.toContain(secret.toString('base64url').slice(0, 12));
  });
});
