/**
 * The master keys a process can open envelopes with: the current one (sealing) and, during a
 * master-key rotation, the others found in the data directory (`master.key.previous`, the
 * new key not yet installed as `master.key.new`, or `master.key` when the current key comes
 * from the environment). Re-read on demand so a running gateway can open rows another process
 * re-wrapped, without a restart.
 */
import { readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MasterKey, type EnvelopeKey } from '../crypto/index.js';

export const PREVIOUS_MASTER_KEY_FILE = 'master.key.previous';
export const NEW_MASTER_KEY_FILE = 'master.key.new';
const EXTRA_FILES = ['master.key', NEW_MASTER_KEY_FILE, PREVIOUS_MASTER_KEY_FILE];

export class MasterKeyRing {
  readonly current: MasterKey;
  readonly #dataDir: string;
  #extra: MasterKey[] = [];

  constructor(current: MasterKey, dataDir: string) {
    this.current = current;
    this.#dataDir = dataDir;
  }

  /** Older or newer keys, besides the current one (none outside a rotation). */
  get extra(): readonly MasterKey[] {
    return this.#extra;
  }

  /** Envelope keys for opening: the current one first. */
  openingKeys(): EnvelopeKey[] {
    return [this.current.envelopeKey(), ...this.#extra.map((k) => k.envelopeKey())];
  }

  /** Re-reads the key files; unreadable or group-readable files are ignored (the main loader reports those). */
  async refresh(): Promise<void> {
    const found: MasterKey[] = [];
    for (const f of EXTRA_FILES) {
      const k = await readKeyFile(join(this.#dataDir, f));
      if (k && k.id !== this.current.id && !found.some((x) => x.id === k.id)) found.push(k);
    }
    this.#extra = found;
  }

  /**
   * After a start on the new key: once no sealed value is left under `master.key.previous`,
   * the file is deleted (it is a copy of a retired key). Returns true when it was deleted.
   */
  async confirmPrevious(stillUsed: (keyId: string) => Promise<boolean>): Promise<boolean> {
    const path = join(this.#dataDir, PREVIOUS_MASTER_KEY_FILE);
    const prev = await readKeyFile(path);
    if (!prev || prev.id === this.current.id || (await stillUsed(prev.id))) return false;
    await unlink(path);
    await this.refresh();
    return true;
  }
}

async function readKeyFile(path: string): Promise<MasterKey | null> {
  try {
    const st = await stat(path);
    if (!st.isFile() || (process.platform !== 'win32' && (st.mode & 0o077) !== 0)) return null;
    return MasterKey.fromFernetKey((await readFile(path, 'utf8')).trim(), 'key-file');
  } catch {
    return null;
  }
}
