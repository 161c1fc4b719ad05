/**
 * The master keys a process can open envelopes with: the current one (sealing) and, during a
 * master-key rotation, the others found in the data directory (`master.key.previous`, the
 * new key not yet installed as `master.key.new`, or `master.key` when the current key comes
 * from the environment). Re-read on demand so a running gateway can open rows another process
 * re-wrapped, without a restart.
 */
import { readFileSync, statSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvelopeError, MasterKey, openEnvelope, type EnvelopeKey, type SecretString } from '../crypto/index.js';

export const PREVIOUS_MASTER_KEY_FILE = 'master.key.previous';
export const NEW_MASTER_KEY_FILE = 'master.key.new';
const EXTRA_FILES = ['master.key', NEW_MASTER_KEY_FILE, PREVIOUS_MASTER_KEY_FILE];

export type PreviousKeyOutcome =
  | { outcome: 'none' }
  | { outcome: 'deleted'; keyId: string }
  /** `encVars` empty: stored rows still need it (they are re-wrapped at the next start). */
  | { outcome: 'kept'; keyId: string; encVars: string[] };

export class MasterKeyRing {
  readonly current: MasterKey;
  readonly #dataDir: string | null;
  #extra: MasterKey[] = [];
  /** Variables whose `enc:` value opened only with another key than the current one, by key id. */
  readonly #encNeeds = new Map<string, Set<string>>();

  /** `dataDir` null: a ring of one key that never looks at files (tools, tests). */
  constructor(current: MasterKey, dataDir: string | null) {
    this.current = current;
    this.#dataDir = dataDir;
  }

  /** A ring for callers that may hold a bare master key. */
  static of(keys: MasterKey | MasterKeyRing): MasterKeyRing {
    return keys instanceof MasterKeyRing ? keys : new MasterKeyRing(keys, null);
  }

  /** Older or newer keys, besides the current one (none outside a rotation). */
  get extra(): readonly MasterKey[] {
    return this.#extra;
  }

  /** Envelope keys for opening: the current one first. */
  openingKeys(): EnvelopeKey[] {
    return [this.current.envelopeKey(), ...this.#extra.map((k) => k.envelopeKey())];
  }

  /**
   * Opens an envelope with any key of the ring. A value sealed under a key not loaded yet (a
   * rotation by another process since the last refresh) makes the ring re-read the key files
   * once and try again, so a running gateway never fails on a freshly re-wrapped row.
   */
  open(sealed: string, aad: string): Buffer {
    try {
      return openEnvelope(this.openingKeys(), sealed, aad);
    } catch (err) {
      if (!(err instanceof EnvelopeError && err.code === 'unknown-key') || this.#dataDir === null) throw err;
      this.refreshSync();
      return openEnvelope(this.openingKeys(), sealed, aad);
    }
  }

  /**
   * Opens an `enc:` value with the current key, else with another key of the ring (values made
   * before a rotation). Which variables needed an old key is remembered, so that key's file is
   * kept until they are re-encrypted. The error (the current key's) names the variable only.
   */
  decryptValue(value: string, varName: string): SecretString {
    try {
      return this.current.decryptValue(value, varName);
    } catch (err) {
      for (const other of this.#extra) {
        try {
          const v = other.decryptValue(value, varName);
          const vars = this.#encNeeds.get(other.id) ?? new Set<string>();
          this.#encNeeds.set(other.id, vars.add(varName));
          return v;
        } catch {
          /* not this one either */
        }
      }
      throw err;
    }
  }

  /** The environment variables whose `enc:` value needs the key `keyId` (sorted). */
  encValuesUnder(keyId: string): string[] {
    return [...(this.#encNeeds.get(keyId) ?? [])].sort();
  }

  /** Re-reads the key files; unreadable or group-readable files are ignored (the main loader reports those). */
  async refresh(): Promise<void> {
    this.refreshSync();
  }

  /** Synchronous, for openers on the request path (three tiny files, read only when a key is missing). */
  refreshSync(): void {
    if (this.#dataDir === null) return;
    const found: MasterKey[] = [];
    for (const f of EXTRA_FILES) {
      const k = readKeyFile(join(this.#dataDir, f));
      if (k && k.id !== this.current.id && !found.some((x) => x.id === k.id)) found.push(k);
    }
    this.#extra = found;
  }

  /**
   * After a start on the new key: once no sealed value is left under `master.key.previous` and
   * no `enc:` value read at this start needed it, the file is deleted (it is a copy of a
   * retired key); otherwise it is kept and the answer says why.
   */
  async confirmPrevious(stillUsed: (keyId: string) => Promise<boolean>): Promise<PreviousKeyOutcome> {
    if (this.#dataDir === null) return { outcome: 'none' };
    const path = join(this.#dataDir, PREVIOUS_MASTER_KEY_FILE);
    const prev = readKeyFile(path);
    if (!prev || prev.id === this.current.id) return { outcome: 'none' };
    // Rows first (the caller re-wraps what it can), then the enc: values, which only the operator can re-make.
    const rowsNeedIt = await stillUsed(prev.id);
    const encVars = this.encValuesUnder(prev.id);
    if (encVars.length > 0 || rowsNeedIt) return { outcome: 'kept', keyId: prev.id, encVars };
    await unlink(path);
    this.refreshSync();
    return { outcome: 'deleted', keyId: prev.id };
  }
}

function readKeyFile(path: string): MasterKey | null {
  try {
    const st = statSync(path);
    if (!st.isFile() || (process.platform !== 'win32' && (st.mode & 0o077) !== 0)) return null;
    return MasterKey.fromFernetKey(readFileSync(path, 'utf8').trim(), 'key-file');
  } catch {
    return null;
  }
}
