/**
 * The split-key server secret: 32 random bytes made on first use and kept in `server_secrets`
 * sealed under the master key (envelope), never derived from it, so split keys survive a
 * master-key rotation (the envelope is re-wrapped; the secret inside stays the same).
 */
import { EnvelopeError, generateSplitKeyServerSecret, sealEnvelope, type MasterKey } from '../crypto/index.js';
import { MasterKeyRing } from '../keys/master-keys.js';
import type { Store } from '../store/connect.js';

/** Row name, also the envelope's AAD, so the sealed value cannot be moved to another row. */
export const SPLIT_KEY_SECRET_NAME = 'split-keys.v1';

export class ServerSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerSecretError';
  }
}

/**
 * Reads the secret, creating it if absent. Processes starting at once may each make one: the
 * insert keeps the first and ignores the rest, and everyone uses what the table then holds.
 * Opened with the whole ring: during a master-key rotation the row may be under the new key
 * while this process still runs on the old one (or the other way round).
 */
export async function loadServerSecret(store: Store, keys: MasterKey | MasterKeyRing, name = SPLIT_KEY_SECRET_NAME, now = Date.now()): Promise<Buffer> {
  const ring = MasterKeyRing.of(keys);
  const read = () => store.db.selectFrom('server_secrets').select('sealed').where('name', '=', name).executeTakeFirst();
  let row = await read();
  if (!row) {
    const fresh = generateSplitKeyServerSecret();
    try {
      const sealed = sealEnvelope(ring.current.envelopeKey(), fresh, name);
      await store.db.insertInto('server_secrets').values({ name, sealed, created_at: now }).onConflict((oc) => oc.column('name').doNothing()).execute();
    } finally {
      fresh.fill(0);
    }
    row = await read();
    if (!row) throw new ServerSecretError(`The server secret '${name}' could not be stored.`);
  }
  try {
    return ring.open(row.sealed, name);
  } catch (err) {
    const why = err instanceof EnvelopeError && err.code === 'unknown-key' ? 'it was sealed under another master key' : 'it failed authentication';
    throw new ServerSecretError(`The server secret '${name}' cannot be opened (${why}). Start keygate with the master key this database was set up with.`);
  }
}
