/**
 * `keygate keys migrate --from-env`: moves plaintext provider keys from the environment and a
 * .env file into a writable backend, verifies each by reading it back (constant-time compare),
 * skips keys already there and equal (idempotent), and lists what to delete afterwards.
 * Results carry masks only, never a key.
 */
import { readFile } from 'node:fs/promises';
import { SecretString } from '../crypto/secret-string.js';
import type { SecretBackend } from './backend.js';
import { nameForEnvVar } from './backends/env.js';
import { SecretNotFoundError, describeCause } from './errors.js';
import { parseDotenv } from './dotenv.js';

/** Provider key variables looked for, plus numbered pool variants (OPENAI_API_KEY_2 ...). */
export const PROVIDER_KEY_VARS = [
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
  'GROQ_API_KEY',
  'MISTRAL_API_KEY',
  'AZURE_OPENAI_API_KEY',
  'COHERE_API_KEY',
  'DEEPSEEK_API_KEY',
  'TOGETHER_API_KEY',
  'OPENROUTER_API_KEY',
  'XAI_API_KEY',
  'PERPLEXITY_API_KEY',
  'FIREWORKS_API_KEY',
  'OLLAMA_API_KEY',
] as const;

/** A provider's key variable as the gateway reads it (providers.<id>.apiKeyEnv, a custom provider's apiKeyEnv, or the adapter's own). */
export interface ProviderKeyVar {
  provider: string;
  envVar: string;
}

export type MigrationAction = 'put' | 'skip_equal' | 'conflict' | 'skip_encrypted';

export interface MigrationStep {
  variable: string;
  secretName: string;
  /** Where the value was found; the process environment wins over .env, as dotenv does. */
  sources: Array<'env' | 'dotenv'>;
  action: MigrationAction;
  masked: string;
  note?: string;
}

export interface MigrationInput {
  env?: Readonly<Record<string, string | undefined>>;
  /** Path of a .env file to read (missing file = nothing from it). */
  dotenvPath?: string;
  /** Or its text. */
  dotenvText?: string;
  backend: SecretBackend;
  /** Replace a different value already in the backend (default: report a conflict). */
  overwrite?: boolean;
  /** Extra variables to migrate. */
  variables?: readonly string[];
  /**
   * The gateway's own variable per provider (from its config): each is migrated under the
   * provider id (`MY_OPENAI_KEY` -> `openai`, `MY_OPENAI_KEY_2` -> `openai.2`), and a default
   * variable the config replaced (OPENAI_API_KEY when providers.openai.apiKeyEnv is set) is left alone.
   */
  providerVars?: readonly ProviderKeyVar[];
}

export interface MigrationResult {
  dryRun: boolean;
  steps: Array<MigrationStep & { status: 'migrated' | 'already_present' | 'conflict' | 'skipped' | 'failed' | 'planned'; error?: string }>;
  /** Safe to remove now: the backend holds exactly these values. */
  toDelete: { env: string[]; dotenv: string[] };
}

/** The secret name a variable migrates to, or null when it is not a provider key variable. */
function secretNameFor(name: string, input: MigrationInput): string | null {
  for (const { provider, envVar } of input.providerVars ?? []) {
    if (name === envVar) return provider;
    const m = new RegExp(`^${envVar}_([0-9]+)$`).exec(name);
    if (m) return `${provider}.${Number(m[1])}`;
  }
  const extra = input.variables ?? [];
  if (!extra.includes(name) && !PROVIDER_KEY_VARS.some((v) => name === v || new RegExp(`^${v}_[0-9]+$`).test(name))) return null;
  const secretName = nameForEnvVar(name) ?? name.toLowerCase();
  // The config gave this provider another variable: this one is not what the gateway reads.
  const provider = secretName.split('.')[0]!;
  if (!extra.includes(name) && (input.providerVars ?? []).some((p) => p.provider === provider)) return null;
  return secretName;
}

async function collect(input: MigrationInput): Promise<Map<string, { value: string; sources: Array<'env' | 'dotenv'> }>> {
  const found = new Map<string, { value: string; sources: Array<'env' | 'dotenv'> }>();
  let text = input.dotenvText;
  if (text === undefined && input.dotenvPath) text = await readFile(input.dotenvPath, 'utf8').catch(() => undefined);
  for (const e of text ? parseDotenv(text) : []) {
    if (secretNameFor(e.key, input) !== null && e.value) found.set(e.key, { value: e.value, sources: ['dotenv'] });
  }
  for (const [k, v] of Object.entries(input.env ?? {})) {
    if (!v || secretNameFor(k, input) === null) continue;
    const prev = found.get(k);
    found.set(k, { value: v.trim(), sources: prev ? ['env', 'dotenv'] : ['env'] });
  }
  return found;
}

/** What a migration would do; reads the backend, writes nothing. */
export async function planMigration(input: MigrationInput): Promise<MigrationStep[]> {
  const steps: MigrationStep[] = [];
  const found = await collect(input);
  for (const [variable, { value, sources }] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
    const secretName = secretNameFor(variable, input)!;
    const secret = SecretString.from(value);
    const step: MigrationStep = { variable, secretName, sources, action: 'put', masked: secret.masked };
    if (value.startsWith('enc:')) {
      step.action = 'skip_encrypted';
      step.note = `already encrypted (enc:); keep it, or store it with \`keygate keys rotate ${secretName.split('.')[0]}\` (the plaintext on standard input)`;
    } else {
      try {
        const existing = await input.backend.get(secretName);
        if (existing.equals(secret)) step.action = 'skip_equal';
        else if (!input.overwrite) {
          step.action = 'conflict';
          step.note = `the backend already holds a different value (${existing.masked}); use overwrite to replace it`;
        }
      } catch (err) {
        if (!(err instanceof SecretNotFoundError)) throw err;
      }
    }
    steps.push(step);
  }
  return steps;
}

export async function migrateFromEnv(input: MigrationInput & { dryRun?: boolean }): Promise<MigrationResult> {
  const dryRun = input.dryRun === true;
  if (!input.backend.capabilities.write) {
    throw new TypeError(`The ${input.backend.name} backend is read-only; choose a writable backend (store, vault, aws, azure, keyring).`);
  }
  const steps = await planMigration(input);
  const found = await collect(input);
  const result: MigrationResult = { dryRun, steps: [], toDelete: { env: [], dotenv: [] } };
  for (const step of steps) {
    const value = SecretString.from(found.get(step.variable)!.value);
    let status: MigrationResult['steps'][number]['status'];
    let error: string | undefined;
    if (step.action === 'skip_encrypted') status = 'skipped';
    else if (step.action === 'conflict') status = 'conflict';
    else if (dryRun) status = step.action === 'skip_equal' ? 'already_present' : 'planned';
    else if (step.action === 'skip_equal') status = 'already_present';
    else {
      try {
        await input.backend.put(step.secretName, value);
        const back = await input.backend.get(step.secretName);
        status = back.equals(value) ? 'migrated' : 'failed';
        if (status === 'failed') error = 'read-back did not match what was written';
      } catch (err) {
        status = 'failed';
        error = describeCause(err, [value.reveal()]);
      }
    }
    result.steps.push({ ...step, status, ...(error ? { error } : {}) });
    if (!dryRun && (status === 'migrated' || status === 'already_present')) {
      if (step.sources.includes('env')) result.toDelete.env.push(step.variable);
      if (step.sources.includes('dotenv')) result.toDelete.dotenv.push(step.variable);
    }
  }
  return result;
}

/** Human-readable report for the CLI (masks only). */
export function formatMigration(r: MigrationResult): string {
  const lines = r.steps.map((s) => `${s.status.padEnd(15)} ${s.variable} -> ${s.secretName} (${s.masked})${s.note ? `: ${s.note}` : ''}${s.error ? `: ${s.error}` : ''}`);
  if (r.dryRun) lines.push('dry run: nothing was written');
  if (r.toDelete.env.length) lines.push(`remove from the environment: ${r.toDelete.env.join(', ')}`);
  if (r.toDelete.dotenv.length) lines.push(`remove from .env: ${r.toDelete.dotenv.join(', ')}`);
  return lines.join('\n');
}
