/** The store backend on real SQLite and real PostgreSQL: sealed rows, AAD binding, versions. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordSecret } from '../../../test/support/artifacts.js';
import { createTempDatabase, postgresAvailable } from '../../../test/support/services.js';
import { MasterKey, SecretString, sealedKeyId } from '../../crypto/index.js';
import { openStore, type Store } from '../../store/connect.js';
import { SecretBackendError, SecretNotFoundError } from '../errors.js';
import { StoreBackend } from './store.js';
import { keptRejection } from '../../../test/mock-secrets/scan.js';

const tmp = mkdtempSync(join(tmpdir(), 'keygate-store-backend-'));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(tmp, { recursive: true, force: true });
});

const pgUp = await postgresAvailable();
const dialects = ['sqlite', ...(pgUp ? ['postgres'] : [])];

async function freshStore(dialect: string): Promise<Store> {
  let url = `sqlite:${join(tmp, `${randomBytes(6).toString('hex')}.db`)}`;
  if (dialect === 'postgres') {
    const db = await createTempDatabase();
    url = db.url;
    cleanups.push(db.drop);
  }
  const store = await openStore(url);
  cleanups.push(() => store.close());
  return store;
}

const fakeKey = () => recordSecret(`sk-test-${randomBytes(18).toString('hex')}`);

describe.each(dialects)('store backend on %s', (dialect) => {
  it('puts, gets, lists and deletes; rows hold no plaintext', async () => {
    const store = await freshStore(dialect);
    const mk = MasterKey.fromBytes(randomBytes(32));
    const b = new StoreBackend({ store, key: mk.envelopeKey() });
    const k1 = fakeKey();
    const k2 = fakeKey();
    await b.put('openai', SecretString.from(k1));
    await b.put('openai.2', SecretString.from(k2));
    expect((await b.get('openai')).reveal()).toBe(k1);
    expect(await b.list()).toEqual(['openai', 'openai.2']);
    const rows = await store.db.selectFrom('provider_secrets').selectAll().execute();
    const dump = JSON.stringify(rows);
    for (const k of [k1, k2]) for (let i = 0; i + 8 <= k.length; i += 4) expect(dump).not.toContain(k.slice(i, i + 8));
    for (const r of rows) {
      expect(r.master_key_id).toBe(mk.id);
      expect(sealedKeyId(r.sealed)).toBe(mk.id);
    }
    await b.delete('openai.2');
    await expect(keptRejection(b.get('openai.2'))).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(keptRejection(b.delete('openai.2'))).rejects.toBeInstanceOf(SecretNotFoundError);
    await b.validate();
  });

  it('a row copied under another name does not open', async () => {
    const store = await freshStore(dialect);
    const b = new StoreBackend({ store, key: MasterKey.fromBytes(randomBytes(32)).envelopeKey() });
    await b.put('openai', SecretString.from(fakeKey()));
    const row = await store.db.selectFrom('provider_secrets').selectAll().where('name', '=', 'openai').executeTakeFirstOrThrow();
    await store.db.insertInto('provider_secrets').values({ ...row, name: 'groq' }).execute();
    await expect(keptRejection(b.get('groq'))).rejects.toThrow(/failed authentication/);
    await expect(keptRejection(b.validate())).rejects.toBeInstanceOf(SecretBackendError);
  });

  it('opens rows of a previous master key, seals new ones under the current key', async () => {
    const store = await freshStore(dialect);
    const oldMk = MasterKey.fromBytes(randomBytes(32));
    const newMk = MasterKey.fromBytes(randomBytes(32));
    const k = fakeKey();
    await new StoreBackend({ store, key: oldMk.envelopeKey() }).put('openai', SecretString.from(k));
    await expect(keptRejection(new StoreBackend({ store, key: newMk.envelopeKey() }).get('openai'))).rejects.toThrow(/not loaded/);
    const both = new StoreBackend({ store, key: newMk.envelopeKey(), previousKeys: [oldMk.envelopeKey()] });
    expect((await both.get('openai')).reveal()).toBe(k);
    await both.put('openai.2', SecretString.from(fakeKey()));
    const row = await store.db.selectFrom('provider_secrets').selectAll().where('name', '=', 'openai.2').executeTakeFirstOrThrow();
    expect(row.master_key_id).toBe(newMk.id);
  });

  it('version() moves on every write, even within the same millisecond, and on delete', async () => {
    const store = await freshStore(dialect);
    const b = new StoreBackend({ store, key: MasterKey.fromBytes(randomBytes(32)).envelopeKey(), now: () => 1_700_000_000_000 });
    await b.put('openai', SecretString.from(fakeKey()));
    const versions = [await b.version()];
    await b.put('openai', SecretString.from(fakeKey()));
    versions.push(await b.version());
    await b.put('openai.2', SecretString.from(fakeKey()));
    versions.push(await b.version());
    await b.delete('openai');
    versions.push(await b.version());
    expect(new Set(versions).size).toBe(versions.length);
  });
});
