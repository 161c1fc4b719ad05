import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretString } from '../crypto/secret-string.js';
import type { SecretBackend } from './backend.js';
import { EnvBackend } from './backends/env.js';
import { parseDotenv, removeFromDotenv } from './dotenv.js';
import { SecretNotFoundError } from './errors.js';
import { formatMigration, migrateFromEnv, planMigration } from './migrate.js';
import { recordSecret, keptRejection } from '../../test/mock-secrets/scan.js';

class MemoryBackend implements SecretBackend {
  readonly name = 'memory';
  readonly capabilities = { read: true, write: true, delete: true, list: true };
  readonly values = new Map<string, string>();
  puts = 0;
  corruptWrites = false;
  async get(name: string): Promise<SecretString> {
    const v = this.values.get(name);
    if (v === undefined) throw new SecretNotFoundError(this.name, name);
    return SecretString.from(v);
  }
  async put(name: string, value: SecretString): Promise<void> {
    this.puts++;
    this.values.set(name, this.corruptWrites ? `${value.reveal()}x` : value.reveal());
  }
  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }
  async list(): Promise<string[]> {
    return [...this.values.keys()];
  }
  async validate(): Promise<void> {}
}

const OPENAI = recordSecret('sk-proj-migrateOpenai0123456789abcdef');
const OPENAI2 = recordSecret('sk-proj-migrateOpenaiTwo0123456789ab');
const ANTHROPIC = recordSecret('sk-ant-api03-migrateAnthropic0123456789');
const GROQ = recordSecret('gsk_migrateGroqKey0123456789abcdefgh');

const dir = mkdtempSync(join(tmpdir(), 'kg-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dotenvText = [
  '# provider keys',
  `export ANTHROPIC_API_KEY="${ANTHROPIC}"`,
  `GROQ_API_KEY=${GROQ} # groq`,
  `OPENAI_API_KEY=${OPENAI}`,
  'MISTRAL_API_KEY=enc:gAAAAABencryptedAlreadyEncrypted0123456789',
  'PORT=8080',
  '',
].join('\n');
const dotenvPath = join(dir, '.env');
writeFileSync(dotenvPath, dotenvText);

describe('migration from environment variables', () => {
  it('parses .env and removes variables from it', () => {
    expect(parseDotenv(dotenvText).map((e) => [e.key, e.value])).toContainEqual(['GROQ_API_KEY', GROQ]);
    expect(parseDotenv(dotenvText).find((e) => e.key === 'ANTHROPIC_API_KEY')?.value).toBe(ANTHROPIC);
    const left = removeFromDotenv(dotenvText, ['GROQ_API_KEY', 'ANTHROPIC_API_KEY']);
    expect(left).not.toContain(GROQ);
    expect(left).not.toContain(ANTHROPIC);
    expect(left).toContain('PORT=8080');
  });

  it("follows the config's variables: providers.<id>.apiKeyEnv, a custom provider's apiKeyEnv, OLLAMA_API_KEY", async () => {
    const backend = new MemoryBackend();
    const [mine, mine2, custom, ollama] = ['sk-proj-myOpenaiVar0123456789abcd', 'sk-proj-myOpenaiVarTwo0123456789ab', 'cst-customProviderKey0123456789ab', 'ollama-cloudKey0123456789abcdefgh'].map(recordSecret);
    const env = { MY_OPENAI_KEY: mine, MY_OPENAI_KEY_2: mine2, OPENAI_API_KEY: OPENAI, LLM_TOKEN: custom, OLLAMA_API_KEY: ollama };
    const providerVars = [
      { provider: 'openai', envVar: 'MY_OPENAI_KEY' },
      { provider: 'my-llm', envVar: 'LLM_TOKEN' },
      { provider: 'ollama', envVar: 'OLLAMA_API_KEY' },
      { provider: 'groq', envVar: 'GROQ_API_KEY' },
    ];
    const plan = await planMigration({ env, backend, providerVars });
    // OPENAI_API_KEY is not what this gateway reads for openai (apiKeyEnv replaced it): left alone.
    expect(plan.map((s) => [s.variable, s.secretName])).toEqual([
      ['LLM_TOKEN', 'my-llm'],
      ['MY_OPENAI_KEY', 'openai'],
      ['MY_OPENAI_KEY_2', 'openai.2'],
      ['OLLAMA_API_KEY', 'ollama'],
    ]);
    const done = await migrateFromEnv({ env, backend, providerVars });
    expect(done.steps.every((s) => s.status === 'migrated')).toBe(true);
    expect(backend.values.get('openai')).toBe(mine);
    expect(backend.values.get('my-llm')).toBe(custom);
    expect(done.toDelete.env).toEqual(['LLM_TOKEN', 'MY_OPENAI_KEY', 'MY_OPENAI_KEY_2', 'OLLAMA_API_KEY']);
    // Without the config, OLLAMA_API_KEY is still known.
    expect((await planMigration({ env: { OLLAMA_API_KEY: ollama }, backend: new MemoryBackend() })).map((s) => s.secretName)).toEqual(['ollama']);
  });

  it('plans, migrates, verifies, is idempotent, and lists what to delete; never prints a key', async () => {
    const backend = new MemoryBackend();
    const env = { OPENAI_API_KEY: OPENAI, OPENAI_API_KEY_2: OPENAI2, PATH: '/usr/bin' };
    const plan = await planMigration({ env, dotenvPath, backend });
    expect(plan.map((s) => [s.variable, s.secretName, s.action, s.sources])).toEqual([
      ['ANTHROPIC_API_KEY', 'anthropic', 'put', ['dotenv']],
      ['GROQ_API_KEY', 'groq', 'put', ['dotenv']],
      ['MISTRAL_API_KEY', 'mistral', 'skip_encrypted', ['dotenv']],
      ['OPENAI_API_KEY', 'openai', 'put', ['env', 'dotenv']],
      ['OPENAI_API_KEY_2', 'openai.2', 'put', ['env']],
    ]);

    const dry = await migrateFromEnv({ env, dotenvPath, backend, dryRun: true });
    expect(backend.puts).toBe(0);
    expect(dry.toDelete).toEqual({ env: [], dotenv: [] });
    expect(dry.steps.filter((s) => s.status === 'planned')).toHaveLength(4);

    const done = await migrateFromEnv({ env, dotenvPath, backend });
    expect(done.steps.map((s) => s.status)).toEqual(['migrated', 'migrated', 'skipped', 'migrated', 'migrated']);
    expect(backend.values.get('openai.2')).toBe(OPENAI2);
    expect(done.toDelete).toEqual({ env: ['OPENAI_API_KEY', 'OPENAI_API_KEY_2'], dotenv: ['ANTHROPIC_API_KEY', 'GROQ_API_KEY', 'OPENAI_API_KEY'] });

    const again = await migrateFromEnv({ env, dotenvPath, backend });
    expect(backend.puts).toBe(4);
    expect(again.steps.map((s) => s.status)).toEqual(['already_present', 'already_present', 'skipped', 'already_present', 'already_present']);

    const printed = JSON.stringify([plan, dry, done, again]) + formatMigration(done);
    for (const k of [OPENAI, OPENAI2, ANTHROPIC, GROQ]) expect(printed).not.toContain(k);
    expect(formatMigration(done)).toContain('remove from .env: ANTHROPIC_API_KEY, GROQ_API_KEY, OPENAI_API_KEY');
  });

  it('a different value already in the backend is a conflict unless overwrite', async () => {
    const backend = new MemoryBackend();
    backend.values.set('openai', 'sk-proj-someOtherValue0123456789abc');
    const r = await migrateFromEnv({ env: { OPENAI_API_KEY: OPENAI }, backend });
    expect(r.steps[0]).toMatchObject({ status: 'conflict' });
    expect(r.toDelete.env).toEqual([]);
    const o = await migrateFromEnv({ env: { OPENAI_API_KEY: OPENAI }, backend, overwrite: true });
    expect(o.steps[0].status).toBe('migrated');
    expect(backend.values.get('openai')).toBe(OPENAI);
  });

  it('a read-back mismatch fails the step and keeps the variable', async () => {
    const backend = new MemoryBackend();
    backend.corruptWrites = true;
    const r = await migrateFromEnv({ env: { GROQ_API_KEY: GROQ }, backend });
    expect(r.steps[0]).toMatchObject({ status: 'failed', error: 'read-back did not match what was written' });
    expect(r.toDelete.env).toEqual([]);
  });

  it('refuses a read-only target', async () => {
    await expect(keptRejection(migrateFromEnv({ env: {}, backend: new EnvBackend({ env: {} }) }))).rejects.toThrow(/read-only/);
  });
});
