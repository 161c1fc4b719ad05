import { describe, expect, it } from 'vitest';
import { SecretString } from '../crypto/secret-string.js';
import type { SecretBackend } from './backend.js';
import { CachedBackend, type BackendStatus } from './cached-backend.js';
import { SecretBackendError, SecretNotFoundError } from './errors.js';
import { kept, recordSecret } from '../../test/mock-secrets/scan.js';

/** An in-memory backend that can be switched off and counts reads. */
class FlakyBackend implements SecretBackend {
  readonly name = 'flaky';
  readonly capabilities = { read: true, write: true, delete: true, list: true };
  values = new Map<string, string>();
  down = false;
  reads = 0;
  async get(name: string): Promise<SecretString> {
    this.reads++;
    if (this.down) throw new SecretBackendError('flaky', 'get', 'HTTP 503 token=sk-proj-leakyTokenInError0123456789', { secretName: name });
    const v = this.values.get(name);
    if (v === undefined) throw new SecretNotFoundError('flaky', name);
    return SecretString.from(v);
  }
  async put(name: string, value: SecretString): Promise<void> {
    this.values.set(name, value.reveal());
  }
  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }
  async list(): Promise<string[]> {
    return [...this.values.keys()];
  }
  async validate(): Promise<void> {
    if (this.down) throw new SecretBackendError('flaky', 'validate', 'HTTP 503');
  }
}

const K1 = recordSecret('sk-proj-cachedFirstValue0123456789');
const K2 = recordSecret('sk-proj-cachedSecondValue012345678');

describe('CachedBackend', () => {
  it('serves from cache within the TTL and reads again after it', async () => {
    let now = 0;
    const inner = new FlakyBackend();
    inner.values.set('openai', K1);
    const c = new CachedBackend(inner, { ttlMs: 1000, now: () => now });
    await c.get('openai');
    await c.get('openai');
    expect(inner.reads).toBe(1);
    now = 1000;
    await c.get('openai');
    expect(inner.reads).toBe(2);
  });

  it('concurrent misses share one backend read', async () => {
    const inner = new FlakyBackend();
    inner.values.set('openai', K1);
    const c = new CachedBackend(inner);
    await Promise.all([c.get('openai'), c.get('openai'), c.get('openai')]);
    expect(inner.reads).toBe(1);
  });

  it('keeps serving the last good value while the backend is down, and says so', async () => {
    let now = 0;
    const inner = new FlakyBackend();
    inner.values.set('openai', K1);
    const c = new CachedBackend(inner, { ttlMs: 1000, now: () => now });
    const seen: BackendStatus[] = [];
    c.onStatusChange((s) => seen.push(s));
    await c.get('openai');
    inner.down = true;
    now = 5000;
    expect((await c.get('openai')).equals(K1)).toBe(true);
    const st = c.status();
    expect(st.healthy).toBe(false);
    expect(st.staleSince).toBe(new Date(5000).toISOString());
    expect(st.lastError).toContain('HTTP 503');
    expect(st.lastError).not.toContain('leakyTokenInError');
    // What /readyz and the log show of the failure goes through the leak scan too.
    recordSecret('sk-proj-leakyTokenInError0123456789');
    kept(new Error(String(st.lastError)));
    // A name never cached cannot be served.
    await expect(c.get('anthropic')).rejects.toBeInstanceOf(SecretBackendError);
    inner.down = false;
    now = 7000;
    await c.get('openai');
    expect(c.status()).toEqual({ healthy: true });
    expect(seen.map((s) => s.healthy)).toEqual([false, true]);
  });

  it('stops serving stale values after maxStaleMs', async () => {
    let now = 0;
    const inner = new FlakyBackend();
    inner.values.set('openai', K1);
    const c = new CachedBackend(inner, { ttlMs: 10, maxStaleMs: 100, now: () => now });
    await c.get('openai');
    inner.down = true;
    now = 20;
    await c.get('openai');
    now = 200;
    await expect(c.get('openai')).rejects.toBeInstanceOf(SecretBackendError);
  });

  it('not found is authoritative: a deleted secret is not served from cache', async () => {
    let now = 0;
    const inner = new FlakyBackend();
    inner.values.set('openai', K1);
    const c = new CachedBackend(inner, { ttlMs: 10, now: () => now });
    await c.get('openai');
    inner.values.delete('openai');
    now = 20;
    await expect(c.get('openai')).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('refresh() re-reads every cached name and reports what changed', async () => {
    const inner = new FlakyBackend();
    inner.values.set('openai', K1);
    inner.values.set('groq', K1);
    inner.values.set('mistral', K1);
    const c = new CachedBackend(inner, { ttlMs: 60_000 });
    await c.get('openai');
    await c.get('groq');
    await c.get('mistral');
    inner.values.set('openai', K2);
    inner.values.delete('mistral');
    expect(await c.refresh()).toEqual({ changed: ['openai'], failed: [], removed: ['mistral'] });
    expect((await c.get('openai')).equals(K2)).toBe(true);
    inner.down = true;
    expect((await c.refresh()).failed).toEqual(['openai', 'groq']);
    expect((await c.get('openai')).equals(K2)).toBe(true);
  });
});
