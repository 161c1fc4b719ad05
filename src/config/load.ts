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
  // Which fields a variable or a flag set: an error names that, not a field the user never wrote.
  const sources = new Map<string, string>();
  const input = applyEnv(raw as ConfigInput, env, sources);
  if (opts.overrides?.host) {
    (input.server ??= {}).host = opts.overrides.host;
    sources.set('server.host', '--host');
  }
  if (opts.overrides?.port !== undefined) {
    (input.server ??= {}).port = opts.overrides.port;
    sources.set('server.port', '--port');
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, file, sources));
  const config = parsed.data;
  const dataDir = resolveDataDir(env.KEYGATE_DATA_DIR);
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

/**
 * The data directory (master key, SQLite database). An empty KEYGATE_DATA_DIR is refused: it
 * would resolve to the current directory and put master.key wherever the command ran.
 */
function resolveDataDir(value: string | undefined): string {
  if (value === undefined) return resolve('.keygate');
  if (value.trim() === '') {
    throw new ConfigError('KEYGATE_DATA_DIR is set but empty (that would put master.key in the current directory). Unset it for the default ./.keygate, or give a directory, e.g. KEYGATE_DATA_DIR=/var/lib/keygate.');
  }
  return resolve(value);
}

/** Environment variables that set config fields (flags and the file are for the rest). */
function applyEnv(input: ConfigInput, env: NodeJS.ProcessEnv, sources: Map<string, string>): ConfigInput {
  const out: ConfigInput = structuredClone(input);
  const server = (out.server ??= {});
  if (env.KEYGATE_HOST) {
    server.host = env.KEYGATE_HOST;
    sources.set('server.host', 'KEYGATE_HOST');
  }
  if (env.KEYGATE_PORT !== undefined && env.KEYGATE_PORT !== '') {
    const n = Number(env.KEYGATE_PORT);
    if (!Number.isInteger(n)) throw new ConfigError(`KEYGATE_PORT must be a whole number from 0 to 65535, got '${env.KEYGATE_PORT.slice(0, 20)}'.`);
    server.port = n;
    sources.set('server.port', 'KEYGATE_PORT');
  }
  if (env.KEY_MODE) {
    if (!['server', 'passthrough', 'auto'].includes(env.KEY_MODE)) {
      throw new ConfigError(`KEY_MODE must be one of server, passthrough, auto; got '${env.KEY_MODE.slice(0, 20)}'.`);
    }
    out.keyMode = env.KEY_MODE as ConfigInput['keyMode'];
  }
  if (env.KEYGATE_LOG_LEVEL) {
    (out.log ??= {}).level = env.KEYGATE_LOG_LEVEL as NonNullable<ConfigInput['log']>['level'];
    sources.set('log.level', 'KEYGATE_LOG_LEVEL');
  }
  if (env.KEYGATE_AUTH !== undefined && env.KEYGATE_AUTH !== '') {
    // Only the two words: a typo such as `of` must not leave auth on (or off) by surprise.
    if (env.KEYGATE_AUTH !== 'off' && env.KEYGATE_AUTH !== 'on') {
      throw new ConfigError(`KEYGATE_AUTH must be 'off' (no gateway authentication) or 'on' (the default); got '${env.KEYGATE_AUTH.slice(0, 20)}'.`);
    }
    (out.auth ??= {}).enabled = env.KEYGATE_AUTH === 'on';
  }
  return out;
}

const FIXES: Array<[RegExp, string]> = [
  [/^server\.port$/, 'use a whole number from 0 to 65535, e.g. 8787'],
  [/^server\.host$/, 'use an address to bind, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)'],
  [/^server\.bodyLimit$/, 'use a size in bytes of at least 1024, e.g. 4194304 for 4 MiB'],
  [/^server\.maxJsonDepth$/, 'use a whole number such as 64'],
  [/^server\.trustProxy/, 'list the proxies as addresses or CIDR ranges, e.g. [10.0.0.0/8]'],
  [/^server\.cors\.origins/, 'list full origins, e.g. [https://app.example.com]'],
  [/^server\.tls/, 'give both certFile and keyFile, paths of PEM files'],
  [/^keyMode$/, 'use one of: server, passthrough, auto'],
  [/^log\.level$/, 'use one of: fatal, error, warn, info, debug, trace, silent'],
  [/TimeoutMs$|IntervalMs$|DelayMs$|cooldownMs$/, 'use a whole number of milliseconds, e.g. 30000 for 30 s'],
  [/^upstream\.retries$/, 'use a whole number from 0 to 10'],
  [/^upstream\.connectionsPerOrigin$/, 'use a whole number of at least 1, e.g. 128'],
  [/^models\.fallbackOn/, 'list HTTP statuses, e.g. [429, 500, 502, 503, 504]'],
  [/^models\.azureApiVersion$/, 'use a date such as 2024-10-21 (or 2025-01-01-preview)'],
  [/^database\.url$/, 'use sqlite:<path> or postgres://user@host:5432/db'],
  [/^limits\.timeZone$/, 'use an IANA time zone such as Europe/Paris or UTC'],
  [/baseUrl$/, 'use a full URL such as https://api.openai.com/v1'],
  [/apiKeyEnv$/, 'use the name of an environment variable, e.g. DEEPSEEK_API_KEY'],
  [/^providers\.custom\.\d+\.id$/, 'use a short lowercase id such as "deepseek"'],
];

function formatIssues(error: z.ZodError, file?: string, sources: ReadonlyMap<string, string> = new Map()): string {
  const lines = error.issues.slice(0, 10).map((issue) => {
    const field = issue.path.join('.') || '(top level)';
    const from = sources.get(field);
    const path = from ? `${from} (${field})` : field;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys?: string[] }).keys ?? [];
      message = `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}; remove ${keys.length > 1 ? 'them' : 'it'} or check the spelling`;
    }
    const fix = FIXES.find(([re]) => re.test(field))?.[1];
    return `  - ${path}: ${message}${fix ? ` (fix: ${fix})` : ''}`;
  });
  const fromEnv = error.issues.every((i) => sources.has(i.path.join('.')));
  return `Invalid configuration${file && !fromEnv ? ` in ${file}` : ''}:\n${lines.join('\n')}`;
}

function checkDatabaseUrl(url: string): void {
  if (url.startsWith('sqlite:') || url.startsWith('postgres://') || url.startsWith('postgresql://')) return;
  throw new ConfigError('DATABASE_URL (or database.url) must start with sqlite: or postgres://; for example postgres://user@127.0.0.1:5432/keygate.');
}
