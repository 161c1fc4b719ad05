import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Fernet, generateFernetKey } from './fernet.js';
import {
  loadMasterKey,
  MASTER_KEY_FILE,
  MASTER_SALT_FILE,
  MasterKey,
  MasterKeyError,
  PBKDF2_MIN_ITERATIONS,
} from './master-key.js';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keygate-mk-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<MasterKeyError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(MasterKeyError);
    return err as MasterKeyError;
  }
  throw new Error('expected MasterKeyError');
}

const PASSPHRASE = 'correct horse battery staple';
const posix = process.platform !== 'win32';

describe('KEYGATE_MASTER_KEY', () => {
  it('takes a key exactly as Fernet.generate_key() prints it', async () => {
    const key = generateFernetKey();
    const { key: mk, origin } = await loadMasterKey({ dataDir: freshDir(), env: { KEYGATE_MASTER_KEY: key } });
    expect(origin).toBe('KEYGATE_MASTER_KEY');
    expect(mk.source).toBe('env-key');
    // Same key, same Fernet: tokens made with the key elsewhere (e.g. Python) open here.
    expect(mk.fernet().decrypt(new Fernet(key).encrypt('v')).toString()).toBe('v');
  });

  it('refuses a malformed key, naming the variable and not the value', async () => {
    const bad = 'not-a-real-key-but-secret-looking-0123456789';
    const err = await failure(loadMasterKey({ dataDir: freshDir(), env: { KEYGATE_MASTER_KEY: bad } }));
    expect(err.code).toBe('invalid-env-key');
    expect(err.message).toContain('KEYGATE_MASTER_KEY');
    expect(err.message).not.toContain(bad);
  });

  it('wins over a passphrase, and says the passphrase is ignored', async () => {
    const dir = freshDir();
    const { key, notes } = await loadMasterKey({ dataDir: dir, env: { KEYGATE_MASTER_KEY: generateFernetKey(), KEYGATE_MASTER_PASSPHRASE: PASSPHRASE } });
    expect(key.source).toBe('env-key');
    expect(notes.join(' ')).toMatch(/KEYGATE_MASTER_PASSPHRASE is ignored/);
    expect(existsSync(join(dir, MASTER_SALT_FILE))).toBe(false);
    expect(existsSync(join(dir, MASTER_KEY_FILE))).toBe(false);
  });
});

describe('KEYGATE_MASTER_PASSPHRASE', () => {
  it('derives a stable key with PBKDF2 and a stored random salt, without blocking the event loop', async () => {
    const dir = freshDir();
    let ticks = 0;
    let done = false;
    const spin = (): void => {
      if (done) return;
      ticks++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const first = await loadMasterKey({ dataDir: dir, env: { KEYGATE_MASTER_PASSPHRASE: PASSPHRASE } });
    done = true;
    expect(ticks).toBeGreaterThan(1); // a sync pbkdf2 would starve the loop: zero or one tick
    expect(first.key.source).toBe('passphrase');

    const salt = JSON.parse(readFileSync(join(dir, MASTER_SALT_FILE), 'utf8')) as { iterations: number; salt: string; verifier: string };
    expect(salt.iterations).toBeGreaterThanOrEqual(PBKDF2_MIN_ITERATIONS);
    expect(Buffer.from(salt.salt, 'base64url')).toHaveLength(16);
    expect(JSON.stringify(salt)).not.toContain(PASSPHRASE);
    if (posix) expect(statSync(join(dir, MASTER_SALT_FILE)).mode & 0o777).toBe(0o600);

    const again = await loadMasterKey({ dataDir: dir, env: { KEYGATE_MASTER_PASSPHRASE: PASSPHRASE } });
    expect(again.key.id).toBe(first.key.id);
    // A different data dir has a different salt, hence a different key.
    const other = await loadMasterKey({ dataDir: freshDir(), env: { KEYGATE_MASTER_PASSPHRASE: PASSPHRASE } });
    expect(other.key.id).not.toBe(first.key.id);
  });

  it('detects and names a wrong passphrase instead of producing another key', async () => {
    const dir = freshDir();
    await loadMasterKey({ dataDir: dir, env: { KEYGATE_MASTER_PASSPHRASE: PASSPHRASE } });
    const wrong = 'incorrect horse battery staple';
    const err = await failure(loadMasterKey({ dataDir: dir, env: { KEYGATE_MASTER_PASSPHRASE: wrong } }));
    expect(err.code).toBe('wrong-passphrase');
    expect(err.message).toContain('KEYGATE_MASTER_PASSPHRASE');
    expect(err.message).not.toContain(wrong);
  });

  it('refuses a short passphrase and a salt file that asks for too few iterations', async () => {
    expect((await failure(loadMasterKey({ dataDir: freshDir(), env: { KEYGATE_MASTER_PASSPHRASE: 'short' } }))).code).toBe('weak-passphrase');
    const dir = freshDir();
    await loadMasterKey({ dataDir: dir, env: { KEYGATE_MASTER_PASSPHRASE: PASSPHRASE } });
    const path = join(dir, MASTER_SALT_FILE);
    const f = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    writeFileSync(path, JSON.stringify({ ...f, iterations: 1000 }));
    const err = await failure(loadMasterKey({ dataDir: dir, env: { KEYGATE_MASTER_PASSPHRASE: PASSPHRASE } }));
    expect(err.code).toBe('bad-salt-file');
    expect(err.message).toContain(path);
  });

  it('agrees on one salt when two processes start at once', async () => {
    const dir = freshDir();
    const env = { KEYGATE_MASTER_PASSPHRASE: PASSPHRASE };
    const [a, b] = await Promise.all([loadMasterKey({ dataDir: dir, env }), loadMasterKey({ dataDir: dir, env })]);
    expect(a.key.id).toBe(b.key.id);
  });
});

describe('key file', () => {
  it('is created on first use with mode 0600 and read back on the next start', async () => {
    const dir = join(freshDir(), 'nested', 'data');
    const first = await loadMasterKey({ dataDir: dir, env: {} });
    const path = join(dir, MASTER_KEY_FILE);
    expect(first.origin).toBe(path);
    expect(first.key.source).toBe('key-file');
    expect(readFileSync(path, 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}=\n$/); // also a valid KEYGATE_MASTER_KEY
    if (posix) expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = await loadMasterKey({ dataDir: dir, env: {} });
    expect(again.key.id).toBe(first.key.id);
    const sameViaEnv = await loadMasterKey({ dataDir: freshDir(), env: { KEYGATE_MASTER_KEY: readFileSync(path, 'utf8').trim() } });
    expect(sameViaEnv.key.id).toBe(first.key.id);
  });

  it.runIf(posix)('refuses a file readable by group or others, with the fix', async () => {
    const dir = freshDir();
    await loadMasterKey({ dataDir: dir, env: {} });
    const path = join(dir, MASTER_KEY_FILE);
    chmodSync(path, 0o644);
    const err = await failure(loadMasterKey({ dataDir: dir, env: {} }));
    expect(err.code).toBe('insecure-key-file');
    expect(err.message).toContain(path);
    expect(err.message).toContain(`chmod 600 ${path}`);
    expect(err.message).not.toContain(readFileSync(path, 'utf8').trim());
  });

  it('refuses a corrupt file and, when asked not to create one, a missing file', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, MASTER_KEY_FILE), 'garbage\n', { mode: 0o600 });
    expect((await failure(loadMasterKey({ dataDir: dir, env: {} }))).code).toBe('bad-key-file');
    const err = await failure(loadMasterKey({ dataDir: freshDir(), env: {}, createIfMissing: false }));
    expect(err.code).toBe('missing');
    expect(err.message).toMatch(/KEYGATE_MASTER_KEY/);
  });
});

describe('MasterKey', () => {
  it('never prints its bytes and derives distinct sub-keys per purpose', () => {
    const fk = generateFernetKey();
    const mk = MasterKey.fromFernetKey(fk);
    for (const shown of [String(mk), JSON.stringify({ mk }), inspect(mk), inspect({ mk })]) {
      expect(shown).not.toContain(fk.slice(0, 20));
      expect(shown).toContain(mk.id);
    }
    expect(mk.id).toMatch(/^mk-[A-Za-z0-9_-]{12}$/);
    expect(mk.deriveKey('a').equals(mk.deriveKey('b'))).toBe(false);
    expect(mk.deriveKey('a').equals(MasterKey.fromFernetKey(fk).deriveKey('a'))).toBe(true);
    expect(mk.envelopeKey().id).toBe(mk.id);
    expect(mk.envelopeKey().key.equals(Buffer.from(fk, 'base64url'))).toBe(false);
  });
});
