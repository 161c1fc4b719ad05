/**
 * Start-up and shutdown of a gateway process: config -> store (migrated) -> providers and
 * keys -> app -> listen. Shutdown drains in-flight requests and streams, then flushes usage.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import type { FastifyInstance } from 'fastify';
import { AccessControl } from '../auth/access-control.js';
import { compileTrustProxy } from '../auth/client-ip.js';
import { SignedTokenService } from '../auth/signed-tokens.js';
import { SigningKeyring } from '../auth/signing-keys.js';
import { loadTokenKeyring } from '../auth/token-keyring-source.js';
import { createLimitStore } from '../limits/index.js';
import { isEncValue, loadMasterKey, MasterKeyError, SecretString, type MasterKey } from '../crypto/index.js';
import { loadConfig, ConfigError, type LoadOptions, type LoadedConfig } from '../config/load.js';
import { ensureDataDir } from '../config/data-dir.js';
import type { ProviderAdapter } from '../core/provider.js';
import { ModelRouter, routingProblems } from '../providers/model-router.js';
import { ProviderRegistry, type KeyReader } from '../providers/registry.js';
import { CircuitBreakers } from '../upstream/circuit-breaker.js';
import { openStore, type Store } from '../store/connect.js';
import { ApiKeyRepository } from '../store/repositories/api-keys.js';
import { IdentityRepository } from '../store/repositories/identities.js';
import { IpRuleRepository } from '../store/repositories/ip-rules.js';
import { RequestRepository } from '../store/repositories/requests.js';
import { RevokedTokenRepository } from '../store/repositories/revoked-tokens.js';
import { ThreatRepository } from '../store/repositories/threats.js';
import { GuardPolicyRepository } from '../store/repositories/guard-policies.js';
import { GuardPolicyBook } from '../guard/policy-book.js';
import { reloadStoredPolicies, watchStoredPolicies } from './guard-policies.js';
import { PriceTable } from '../usage/prices.js';
import { UpstreamClient } from '../upstream/http-client.js';
import { tracesUrl } from './tracing-url.js';
import { UsageWriter } from '../usage/usage-writer.js';
import { canUseWorker, UsageWorkerSink } from '../usage/usage-worker-sink.js';
import { warmTokenCounter } from '../usage/token-count.js';
import { SplitKeyService } from '../byok/index.js';
import { buildApp } from './app.js';
import type { GatewayContext, Repositories } from './context.js';
import { EventBus } from './events.js';
import { createOperations } from './operations.js';
import { createMetrics } from '../usage/metrics.js';
import { createLogger, type Logger } from './logger.js';
import { createProviderKeys, keyIdInUse, MasterKeyRing, rewrapDatabase } from '../keys/index.js';

export interface StartOptions extends LoadOptions {
  /** Where log lines go (default: stdout). */
  logDestination?: DestinationStream;
  /** Called once, on the first start of an empty store, with the new admin key. Never logged. */
  onFirstAdminKey?: (key: string) => void;
  /** Reads provider keys from the environment (default: plain values). */
  keyReader?: KeyReader;
  extraAdapters?: readonly ProviderAdapter[];
  listen?: boolean;
  /** How often stored shield policies changed by other replicas are looked for (default 5 s). */
  policyWatchMs?: number;
}

export interface RunningGateway {
  app: FastifyInstance;
  ctx: GatewayContext;
  loaded: LoadedConfig;
  /** `http://host:port` once listening. */
  url: string;
  close(): Promise<void>;
}

export async function startGateway(opts: StartOptions = {}): Promise<RunningGateway> {
  const env = opts.env ?? process.env;
  const loaded = loadConfig(opts);
  const { config } = loaded;
  const logger = createLogger({ level: config.log.level, destination: opts.logDestination });

  const loose = ensureDataDir(loaded.dataDir);
  if (loose) logger.warn(`start-up: ${loose}`);
  const masterKey = await openMasterKey(loaded.dataDir, env);
  // During a master-key rotation the other key (previous or not yet installed) opens old values too.
  const masterKeys = new MasterKeyRing(masterKey, loaded.dataDir);
  await masterKeys.refresh();

  const keyReader = opts.keyReader ?? encAwareKeyReader(env, masterKeys);
  const registry = new ProviderRegistry(config, env, keyReader, opts.extraAdapters);
  // A typo in a fallback chain or group would otherwise surface only when it is needed.
  const routing = routingProblems(registry, config.models);
  if (routing.length) throw new ConfigError(routing.join('\n'));

  const trustProxy = compileTrustProxy(config.server.trustProxy.length > 0 ? config.server.trustProxy : false);
  const store = await openStore(loaded.databaseUrl);
  const repos: Repositories = {
    keys: new ApiKeyRepository(store),
    users: new IdentityRepository(store, 'users'),
    apps: new IdentityRepository(store, 'apps'),
    ipRules: new IpRuleRepository(store),
    revokedTokens: new RevokedTokenRepository(store),
    requests: new RequestRepository(store),
    threats: new ThreatRepository(store),
    guardPolicies: new GuardPolicyRepository(store),
  };
  if (config.auth.enabled && (await repos.keys.count()) === 0) {
    const { key } = await repos.keys.create({ name: 'admin', scopes: ['admin', 'read', 'write'] });
    opts.onFirstAdminKey?.(key);
  }

  const access = new AccessControl(store, repos, config.ipRules, config.limits.defaultKeyLimits ?? null);
  const tokens = new SignedTokenService({
    keyring: new SigningKeyring(loadTokenKeyring(loaded.dataDir, env)),
    defaultTtlSeconds: config.auth.tokens.ttlSeconds,
    maxTtlSeconds: config.auth.tokens.maxTtlSeconds,
    issuer: config.auth.tokens.issuer,
    isRevoked: (jti) => access.isRevoked(jti),
  });
  access.setTokenService(tokens);
  await access.load();

  const events = new EventBus();
  // Provider keys before anything with timers or connections: a refusal below leaves nothing open.
  let providerKeys;
  try {
    providerKeys = await createProviderKeys({ config, registry, store, ring: masterKeys, env, readEnvKey: keyReader, events, onError: (message) => logger.warn({ backend: config.secrets.backend, message }, 'provider keys: reload problem, serving the last good keys') });
    await finishMasterKeyRotation(store, masterKeys, logger);
  } catch (err) {
    await store.close();
    throw err;
  }
  if (providerKeys.validationProblem) logger.warn({ backend: config.secrets.backend }, `start-up: ${providerKeys.validationProblem}`);
  if (config.keyMode === 'server' && providerKeys.providers().length === 0) {
    providerKeys.stop();
    await store.close();
    if (providerKeys.validationProblem) throw new ConfigError(`KEY_MODE=server but no provider key could be read: ${providerKeys.validationProblem}`);
    const names = registry.all().filter((p) => p.adapter.env.apiKey).map((p) => p.adapter.env.apiKey);
    throw new ConfigError(`KEY_MODE=server but no provider key is configured. Set ${names.slice(0, 4).join(', ')} (or another provider's key), store one with \`keygate keys rotate <provider>\`, or use KEY_MODE=passthrough to let clients bring their own keys.`);
  }

  const limits = createLimitStore({ redisUrl: env.REDIS_URL || undefined, timeZone: config.limits.timeZone, thresholds: config.limits.thresholds, keyPrefix: env.KEYGATE_LIMITS_PREFIX });
  // SQLite on a file: batches are written by a worker thread, off the event loop (it starts in
  // the background; until then, or if it stops, they are written here as before).
  const usageSink = canUseWorker(store)
    ? new UsageWorkerSink(store, repos.requests, (err) => logger.error({ err }, 'usage worker stopped: usage batches are written on the event loop from now on'))
    : repos.requests;
  const usage = new UsageWriter(usageSink, {
    ...config.usage,
    onError: (err, lost) => logger.error({ err, lost }, 'usage batch could not be written'),
  });
  // Tracing off (no endpoint): the plain client, no hook, nothing per request.
  const tracing = tracesUrl(config.tracing, env) ? (await import('./tracing.js')).createTracing(config.tracing, env) : null;
  tracing?.setProviders(registry.all().map((p) => ({ id: p.id, origin: p.origin })));
  const upstream = tracing ? tracing.upstreamClient(config.upstream) : new UpstreamClient(config.upstream);
  const breakers = new CircuitBreakers(config.upstream.circuitBreaker, (id, from, to) => {
    // Every transition, half-open included (the events below tell only down and recovered).
    metrics.circuitState(id, to);
    if (to === 'open') events.emit({ type: 'upstream.down', actor: 'system', target: id, outcome: 'failure' });
    else if (to === 'closed' && from !== 'closed') events.emit({ type: 'upstream.recovered', actor: 'system', target: id, outcome: 'success' });
  });
  const metrics = createMetrics({
    knownProviders: registry.all().map((p) => p.id),
    knownModels: registry.all().flatMap((p) => p.models.map((m) => `${p.id}/${m}`)),
  });
  const ops = createOperations({ store, config, masterKey: masterKeys, events, metrics, logger });
  // The shield's policies: config overrides now, stored ones (admin API) loaded and watched.
  const guardPolicies = new GuardPolicyBook(config.guard, config.guardPolicies);
  await reloadStoredPolicies(guardPolicies, repos.guardPolicies, logger);
  const stopPolicyWatch = watchStoredPolicies(guardPolicies, repos.guardPolicies, logger, opts.policyWatchMs);
  const ctx: GatewayContext = {
    config,
    dataDir: loaded.dataDir,
    masterKey,
    registry,
    router: new ModelRouter(registry, config.models.groups, config.models.fallbacks),
    breakers,
    store,
    repos,
    access,
    tokens,
    limits,
    prices: new PriceTable(config.prices),
    usage,
    upstream,
    tracing,
    events,
    guardPolicies,
    metrics,
    ops,
    trustProxy,
    providerKeys,
    masterKeys,
    logger,
  };
  // BYOK split keys: the server secret is loaded (or created) on first use.
  ctx.splitKeys = new SplitKeyService({ store, masterKey: masterKeys, events: ctx.events, onError: (err) => logger.error({ err }, 'split-key use counts could not be written') });
  const app = await buildApp(ctx, { https: readTls(config.server.tls) });

  // A provider that reports no usage in streams has its tokens counted here; the counter's
  // tables take 0.5-3 s to build, once: now, not on the first such request.
  const served = config.keyMode === 'server' ? registry.withServerKeys() : registry.all();
  if (served.some((p) => !p.adapter.streamUsage)) warmTokenCounter();

  ops.start();
  let url = '';
  if (opts.listen !== false) {
    await app.listen({ host: config.server.host, port: config.server.port });
    const addr = app.server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    url = `${config.server.tls ? 'https' : 'http'}://${host}:${addr.port}`;
  } else {
    await app.ready();
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting; in-flight requests and streams finish, up to the shutdown timeout.
      const force = setTimeout(() => app.server.closeAllConnections(), config.server.shutdownTimeoutMs);
      force.unref();
      // A connection whose stream finishes during the drain goes idle and would otherwise
      // be kept open for the whole keep-alive time.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      sweep.unref();
      await app.close();
      clearTimeout(force);
      clearInterval(sweep);
      providerKeys.stop();
      stopPolicyWatch();
      await usage.close();
      await ops.close();
      await upstream.close();
      await tracing?.shutdown().catch((err: unknown) => logger.warn({ err: (err as { code?: string }).code ?? 'error' }, 'tracing: the last spans could not be exported'));
      await limits.close();
      await store.close();
    })());

  return { app, ctx, loaded, url, close };
}

/** The master key (env key, passphrase or the 0600 key file, created on first start). */
export async function openMasterKey(dataDir: string, env: NodeJS.ProcessEnv): Promise<MasterKey> {
  try {
    return (await loadMasterKey({ dataDir, env })).key;
  } catch (err) {
    if (err instanceof MasterKeyError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Provider keys from the environment: plain, or `enc:` Fernet tokens under the master key (or the previous one during a rotation). */
function encAwareKeyReader(env: NodeJS.ProcessEnv, ring: MasterKeyRing): KeyReader {
  return (name) => {
    const v = env[name];
    if (!v) return null;
    if (!isEncValue(v)) return SecretString.from(v);
    try {
      return ring.decryptValue(v, name);
    } catch (err) {
      throw new ConfigError(err instanceof Error ? err.message : `${name}: the enc: value cannot be decrypted with the master key.`);
    }
  };
}

/**
 * The first start on a new master key finishes a rotation: values still sealed under the
 * previous key (written by an old process during the switch) are re-wrapped, then
 * master.key.previous, a copy of a retired key, is deleted, unless an `enc:` value read at
 * this start still needed it (deleting it would make the next start fail).
 */
async function finishMasterKeyRotation(store: Store, ring: MasterKeyRing, logger: Logger): Promise<void> {
  const r = await ring.confirmPrevious(async (id) => {
    if (!(await keyIdInUse(store, id))) return false;
    await rewrapDatabase(store, ring.openingKeys(), ring.current.envelopeKey());
    return keyIdInUse(store, id);
  });
  if (r.outcome === 'deleted') logger.info({ masterKey: ring.current.id }, 'master-key rotation confirmed: every stored secret is under the current key; master.key.previous deleted');
  if (r.outcome === 'kept' && r.encVars.length > 0)
    logger.warn(
      { masterKey: ring.current.id, previousKey: r.keyId, variables: r.encVars },
      `master.key.previous kept: ${r.encVars.join(', ')} ${r.encVars.length === 1 ? 'is an enc: value' : 'are enc: values'} made under the previous master key; re-encrypt with \`keygate secrets encrypt\` under the current key and restart to finish the rotation`,
    );
}

function readTls(tls: { certFile: string; keyFile: string } | undefined): { key: Buffer; cert: Buffer } | undefined {
  if (!tls) return undefined;
  const read = (file: string, field: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new ConfigError(`server.tls.${field}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}). Give the path of a PEM file.`);
    }
  };
  return { cert: read(tls.certFile, 'certFile'), key: read(tls.keyFile, 'keyFile') };
}

export type { Store };
