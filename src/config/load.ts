/**
 * Loads the configuration: defaults, then the YAML file, then environment variables, then
 * command-line flags. Any invalid value stops start-up with a ConfigError that names the
 * field and how to fix it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type ConfigInput, type KeygateConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flags from the CLI; they win over everything. */
  overrides?: { host?: string; port?: number };
}

export interface LoadedConfig {
  config: KeygateConfig;
  dataDir: string;
  databaseUrl: string;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.KEYGATE_CONFIG;
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  const input = applyEnv(raw as ConfigInput, env);
  if (opts.overrides?.host) (input.server ??= {}).host = opts.overrides.host;
  if (opts.overrides?.port !== undefined) (input.server ??= {}).port = opts.overrides.port;
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, file));
  const config = parsed.data;
  const dataDir = resolve(env.KEYGATE_DATA_DIR ?? '.keygate');
  const databaseUrl = env.DATABASE_URL ?? config.database.url ?? `sqlite:${resolve(dataDir, 'keygate.db')}`;
  checkDatabaseUrl(databaseUrl);
  return { config, dataDir, databaseUrl };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`Cannot read the config file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}. Check the path given to --config or KEYGATE_CONFIG.`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const where = (e as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    throw new ConfigError(`The config file ${file} is not valid YAML${where ? ` (line ${where.line}, column ${where.col})` : ''}. Fix the syntax there.`);
  }
  if (doc == null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`The config file ${file} must be a YAML mapping (key: value pairs) at the top level.`);
  return doc as Record<string, unknown>;
}

/** Environment variables that set config fields (flags and the file are for the rest). */
function applyEnv(input: ConfigInput, env: NodeJS.ProcessEnv): ConfigInput {
  const out: ConfigInput = structuredClone(input);
  const server = (out.server ??= {});
  if (env.KEYGATE_HOST) server.host = env.KEYGATE_HOST;
  if (env.KEYGATE_PORT !== undefined && env.KEYGATE_PORT !== '') {
    const n = Number(env.KEYGATE_PORT);
    if (!Number.isInteger(n)) throw new ConfigError(`KEYGATE_PORT must be a whole number from 0 to 65535, got '${env.KEYGATE_PORT.slice(0, 20)}'.`);
    server.port = n;
  }
  if (env.KEY_MODE) {
    if (!['server', 'passthrough', 'auto'].includes(env.KEY_MODE)) {
      throw new ConfigError(`KEY_MODE must be one of server, passthrough, auto; got '${env.KEY_MODE.slice(0, 20)}'.`);
    }
    out.keyMode = env.KEY_MODE as ConfigInput['keyMode'];
  }
  if (env.KEYGATE_LOG_LEVEL) (out.log ??= {}).level = env.KEYGATE_LOG_LEVEL as NonNullable<ConfigInput['log']>['level'];
  if (env.KEYGATE_AUTH === 'off') (out.auth ??= {}).enabled = false;
  return out;
}

const FIXES: Array<[RegExp, string]> = [
  [/^server\.port$/, 'use a whole number from 0 to 65535, e.g. 8787'],
  [/^keyMode$/, 'use one of: server, passthrough, auto'],
  [/baseUrl$/, 'use a full URL such as https://api.openai.com/v1'],
  [/^providers\.custom\.\d+\.id$/, 'use a short lowercase id such as "deepseek"'],
];

function formatIssues(error: z.ZodError, file?: string): string {
  const lines = error.issues.slice(0, 10).map((issue) => {
    const path = issue.path.join('.') || '(top level)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys?: string[] }).keys ?? [];
      message = `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}; remove ${keys.length > 1 ? 'them' : 'it'} or check the spelling`;
    }
    const fix = FIXES.find(([re]) => re.test(path))?.[1];
    return `  - ${path}: ${message}${fix ? ` (fix: ${fix})` : ''}`;
  });
  return `Invalid configuration${file ? ` in ${file}` : ''}:\n${lines.join('\n')}`;
}

function checkDatabaseUrl(url: string): void {
  if (url.startsWith('sqlite:') || url.startsWith('postgres://') || url.startsWith('postgresql://')) return;
  throw new ConfigError('DATABASE_URL (or database.url) must start with sqlite: or postgres://; for example postgres://user@127.0.0.1:5432/keygate.');
}
