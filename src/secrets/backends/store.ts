/**
 * The `store` backend (the default): provider keys as rows of keygate's own database
 * (`provider_secrets`), each sealed with the AES-256-GCM envelope under the master key, with the
 * secret's name as AAD so a row copied under another name does not open. Opening accepts the
 * current key and any previous ones (master-key rotation in progress); writing always seals
 * under the current key.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { EnvelopeError, openEnvelopeSecret, sealEnvelope, type EnvelopeKey } from '../../crypto/index.js';
import type { SecretString } from '../../crypto/secret-string.js';
import type { Store } from '../../store/connect.js';
import { assertSecretName, type SecretBackend, type SecretBackendCapabilities } from '../backend.js';
import { SecretBackendError, SecretNotFoundError, describeCause, type SecretOperation } from '../errors.js';

export interface StoreBackendOptions {
  store: Store;
  /** Seals new values; listed first when opening. */
  key: EnvelopeKey;
  /** Other master keys still accepted when opening (during a master-key rotation); a function is asked on each read. */
  previousKeys?: readonly EnvelopeKey[] | (() => readonly EnvelopeKey[]);
  now?: () => number;
}

export class StoreBackend implements SecretBackend {
  readonly name = 'store';
  readonly capabilities: SecretBackendCapabilities = { read: true, write: true, delete: true, list: true };
  readonly #store: Store;
  readonly #key: EnvelopeKey;
  readonly #previous: readonly EnvelopeKey[] | (() => readonly EnvelopeKey[]);
  readonly #now: () => number;

  constructor(opts: StoreBackendOptions) {
    this.#store = opts.store;
    this.#key = opts.key;
    this.#previous = opts.previousKeys ?? [];
    this.#now = opts.now ?? Date.now;
  }

  async get(name: string): Promise<SecretString> {
    assertSecretName(name);
    const row = await this.#run('get', name, () => this.#store.db.selectFrom('provider_secrets').select('sealed').where('name', '=', name).executeTakeFirst());
    if (!row) throw new SecretNotFoundError(this.name, name);
    try {
      const previous = typeof this.#previous === 'function' ? this.#previous() : this.#previous;
      return openEnvelopeSecret([this.#key, ...previous.filter((k) => k.id !== this.#key.id)], row.sealed, name);
    } catch (err) {
      const why =
        err instanceof EnvelopeError && err.code === 'unknown-key'
          ? 'it was sealed under a master key that is not loaded (start keygate with the master key this database uses)'
          : 'it failed authentication (altered, or copied from another name)';
      throw new SecretBackendError(this.name, 'get', why, { secretName: name, code: err instanceof EnvelopeError ? err.code : undefined });
    }
  }

  async put(name: string, value: SecretString): Promise<void> {
    assertSecretName(name);
    const now = this.#now();
    const sealed = value.use((plain) => sealEnvelope(this.#key, plain, name));
    await this.#run('put', name, () =>
      this.#store.db
        .insertInto('provider_secrets')
        .values({ name, sealed, master_key_id: this.#key.id, created_at: now, updated_at: now })
        // updated_at strictly grows on every write, so version() always moves.
        .onConflict((oc) =>
          oc.column('name').doUpdateSet({
            sealed,
            master_key_id: this.#key.id,
            updated_at: sql<number>`CASE WHEN provider_secrets.updated_at >= ${now} THEN provider_secrets.updated_at + 1 ELSE ${now} END`,
          }),
        )
        .execute(),
    );
  }

  async delete(name: string): Promise<void> {
    assertSecretName(name);
    const r = await this.#run('delete', name, () => this.#store.db.deleteFrom('provider_secrets').where('name', '=', name).executeTakeFirst());
    if (Number(r.numDeletedRows) === 0) throw new SecretNotFoundError(this.name, name);
  }

  async list(): Promise<string[]> {
    const rows = await this.#run('list', undefined, () => this.#store.db.selectFrom('provider_secrets').select('name').orderBy('name').execute());
    return rows.map((r) => r.name);
  }

  /**
   * A cheap marker that changes on every write or delete (each row's name and update time; a
   * handful of rows), polled by running gateways to pick up a rotation made in another process.
   */
  async version(): Promise<string> {
    const rows = await this.#run('list', undefined, () => this.#store.db.selectFrom('provider_secrets').select(['name', 'updated_at']).orderBy('name').execute());
    return createHash('sha256').update(rows.map((r) => `${r.name}@${Number(r.updated_at)}`).join('\n')).digest('base64url');
  }

  /** The table is reachable and every row opens with the loaded master keys. */
  async validate(): Promise<void> {
    for (const name of await this.list()) await this.get(name);
  }

  async #run<T>(op: SecretOperation, name: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new SecretBackendError(this.name, op, describeCause(err), { secretName: name });
    }
  }
}
