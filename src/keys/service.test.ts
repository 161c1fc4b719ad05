/** ProviderKeyService without a gateway: sources, rotation on reload, outages, the last key. */
import { describe, expect, it } from 'vitest';
import { SecretString } from '../crypto/secret-string.js';
import type { SecretBackend } from '../secrets/backend.js';
import { SecretBackendError, SecretNotFoundError } from '../secrets/errors.js';
import { ProviderKeyService } from './service.js';
import { recordSecret } from '../../test/mock-secrets/scan.js';

// Every key literal below, for the leak scan.
for (const k of ['sk-from-backend-1', 'sk-from-env-0001', 'sk-from-env-0002', 'sk-last-good-001', 'sk-new-key-00002', 'sk-old-key-00001', 'sk-only-key-0001', 'sk-second-key-02']) recordSecret(k);

class MemoryBackend implements SecretBackend {
  readonly name = 'memory';
  readonly capabilities = { read: true, write: true, delete: true, list: true };
  readonly values = new Map<string, string>();
  down = false;
  async get(name: string): Promise<SecretString> {
    if (this.down) throw new SecretBackendError(this.name, 'get', 'connection refused', { secretName: name });
    const v = this.values.get(name);
    if (v === undefined) throw new SecretNotFoundError(this.name, name);
    return SecretString.from(v);
  }
  async put(name: string, value: SecretString): Promise<void> {
    this.values.set(name, value.reveal());
  }
  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }
  async list(): Promise<string[]> {
    if (this.down) throw new SecretBackendError(this.name, 'list', 'connection refused');
    return [...this.values.keys()].sort();
  }
  async validate(): Promise<void> {}
}

function service(env: Record<string, string>, backend: MemoryBackend) {
  return new ProviderKeyService({
    providers: [{ id: 'openai', envVar: 'OPENAI_API_KEY' }, { id: 'groq', envVar: 'GROQ_API_KEY' }],
    env,
    readEnvKey: (v) => (env[v] ? SecretString.from(env[v]) : null),
    backend,
  });
}

const reveal = (s: ProviderKeyService, p: string) => {
  const lease = s.acquire(p)!;
  lease.release('ok');
  return lease.key.reveal();
};

describe('ProviderKeyService', () => {
  it('reads env keys (numbered too) and backend keys; a backend entry overrides the variable of the same name', async () => {
    const b = new MemoryBackend();
    b.values.set('openai', 'sk-from-backend-1');
    const s = service({ OPENAI_API_KEY: 'sk-from-env-0001', OPENAI_API_KEY_2: 'sk-from-env-0002' }, b);
    await s.reload();
    const seen = new Set([reveal(s, 'openai'), reveal(s, 'openai'), reveal(s, 'openai')]);
    expect([...seen].sort()).toEqual(['sk-from-backend-1', 'sk-from-env-0002']);
    expect(s.has('groq')).toBe(false);
    expect(s.acquire('groq')).toBeNull();
  });

  it('a changed value is a rotation: the old key drains while leased, then retires', async () => {
    const b = new MemoryBackend();
    b.values.set('openai', 'sk-old-key-00001');
    const s = service({}, b);
    await s.reload();
    const held = s.acquire('openai')!;
    const r = await s.rotate('openai', SecretString.from('sk-new-key-00002'));
    expect(r.draining).toEqual([held.keyId]);
    expect(reveal(s, 'openai')).toBe('sk-new-key-00002');
    let retired = false;
    void r.retired.then(() => (retired = true));
    await Promise.resolve();
    expect(retired).toBe(false);
    held.release('ok');
    await r.retired;
    expect(s.snapshot()[0].keys.map((k) => k.state)).toEqual(['active']);
  });

  it('a backend that is down keeps serving the last good keys and says so', async () => {
    const b = new MemoryBackend();
    b.values.set('openai', 'sk-last-good-001');
    const s = service({}, b);
    await s.reload();
    b.down = true;
    await s.reload();
    expect(reveal(s, 'openai')).toBe('sk-last-good-001');
    expect(s.status()).toMatchObject({ backend: 'memory', healthy: false });
    expect(s.status().lastError).toContain('connection refused');
    b.down = false;
    await s.reload();
    expect(s.status().healthy).toBe(true);
  });

  it('benches a refused key only when another key can take over', async () => {
    const b = new MemoryBackend();
    b.values.set('openai', 'sk-only-key-0001');
    const s = service({}, b);
    await s.reload();
    s.acquire('openai')!.release('auth_failed');
    expect(s.snapshot()[0].keys[0].state).toBe('active');
    b.values.set('openai.2', 'sk-second-key-02');
    await s.reload();
    const lease = s.acquire('openai')!;
    lease.release('auth_failed');
    expect(s.snapshot()[0].keys.find((k) => k.keyId === lease.keyId)?.state).toBe('cooling');
    expect(() => s.acquire('openai')!.release('ok')).not.toThrow();
  });
});
