/**
 * The real OS keyring: a private gnome-keyring under its own session D-Bus (see
 * test/mock-secrets/keyring-session.ts). Skips visibly when the daemons are not installed,
 * and fails instead when KEYGATE_REQUIRE_SERVICES=1 (CI).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretString } from '../../crypto/secret-string.js';
import { keyringUnavailableReason, startKeyringSession, type KeyringSession } from '../../../test/mock-secrets/keyring-session.js';
import { SecretNotFoundError } from '../errors.js';
import { KeyringBackend } from './keyring.js';
import { recordSecret, keptRejection } from '../../../test/mock-secrets/scan.js';
import { warnSkip } from '../../../test/support/skip-log.js';

const REQUIRE = process.env.KEYGATE_REQUIRE_SERVICES === '1';
const reason = keyringUnavailableReason();
if (reason && REQUIRE) throw new Error(`The keyring test is required (KEYGATE_REQUIRE_SERVICES=1) but cannot run: ${reason}`);
if (reason) warnSkip(`[skip] keyring backend tests: ${reason}`);

const KEY = recordSecret('sk-proj-keyringTestKey0123456789abcdef');

describe.skipIf(reason !== undefined)('KeyringBackend on a real Secret Service (gnome-keyring)', () => {
  let session: KeyringSession;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    session = await startKeyringSession();
    for (const [k, v] of Object.entries(session.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await session?.stop();
  });

  // Pinned to secret-service so a silent fallback to the kernel keyring would fail the test.
  const backend = new KeyringBackend({ service: 'keygate-test', linuxStore: 'secret-service' });

  it('stores, reads, lists and deletes an entry (service keygate-test, account = name)', async () => {
    await backend.validate();
    await backend.put('openai', SecretString.from(KEY));
    await backend.put('anthropic', SecretString.from(`${KEY}-2`));
    expect((await backend.get('openai')).equals(KEY)).toBe(true);
    expect(await backend.list()).toEqual(['anthropic', 'openai']);
    await backend.put('openai', SecretString.from(`${KEY}-v2`));
    expect((await backend.get('openai')).equals(`${KEY}-v2`)).toBe(true);
    await backend.delete('openai');
    await expect(keptRejection(backend.get('openai'))).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(keptRejection(backend.delete('openai'))).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(await backend.list()).toEqual(['anthropic']);
  });

  it('the entry is really in the Secret Service: secret-tool (libsecret) reads it back', async () => {
    await backend.put('groq', SecretString.from(KEY));
    const hasTool = spawnSync('sh', ['-c', 'command -v secret-tool']).status === 0;
    if (!hasTool && REQUIRE) throw new Error('secret-tool (libsecret-tools) is required for this check');
    if (!hasTool) return void warnSkip('[skip] secret-tool not installed; cross-check skipped');
    const out = spawnSync('secret-tool', ['lookup', 'service', 'keygate-test', 'username', 'groq'], { env: process.env, encoding: 'utf8' });
    expect(out.status).toBe(0);
    expect(out.stdout.trim() === KEY).toBe(true);
  });
});
