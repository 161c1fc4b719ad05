/**
 * Counters in Redis, shared by every gateway process that points at the same server.
 * Each operation is one Lua script call (one round trip, atomic). Single-node Redis (or a
 * primary with replicas/Sentinel): a reservation touches keys of several subjects, which
 * Redis Cluster would spread over slots.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Backend, ReserveOutcome } from './core.js';
import type { Check } from './plan.js';
import { ADJUST, READ, RESERVE, type Script } from './redis-scripts.js';
import { LimitStoreError } from './types.js';

export interface RedisBackendOptions {
  /** An existing client (not closed by close()), or a URL to connect to. */
  redis: Redis | string;
  leaseMs: number;
  graceMs: number;
  /** Per-command timeout; a slow Redis must not hold requests forever. */
  commandTimeoutMs: number;
}

type Arg = string | number;

export class RedisBackend implements Backend {
  readonly redis: Redis;
  private readonly owned: boolean;

  constructor(private readonly opts: RedisBackendOptions) {
    if (typeof opts.redis === 'string') {
      // Required here, not imported at the top: a gateway on in-process limits never loads the
      // client (~150 ms of start-up). ioredis is CommonJS, so this stays synchronous.
      const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
      this.redis = new RedisClient(opts.redis, {
        // Fail fast rather than queue requests behind a dead server.
        maxRetriesPerRequest: 1,
        connectTimeout: opts.commandTimeoutMs,
        commandTimeout: opts.commandTimeoutMs,
        enableAutoPipelining: true,
      });
      // Errors surface on commands; without a listener ioredis logs each reconnect attempt.
      this.redis.on('error', () => {});
      this.owned = true;
    } else {
      this.redis = opts.redis;
      this.owned = false;
    }
  }

  async reserve(checks: Check[], nowMs: number, id: string): Promise<ReserveOutcome> {
    const reply = await this.run(RESERVE, checks, nowMs, id, null);
    const ok = reply[0] === 1;
    const used = new Array<number>(checks.length);
    for (let i = 0; i < checks.length; i++) used[i] = Number(reply[i + 1]);
    return { ok, used };
  }

  async adjust(checks: Check[], deltas: number[], nowMs: number, id: string): Promise<number[]> {
    return (await this.run(ADJUST, checks, nowMs, id, deltas)).map(Number);
  }

  async read(checks: Check[], nowMs: number): Promise<number[]> {
    return (await this.run(READ, checks, nowMs, '', null)).map(Number);
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private async run(script: Script, checks: Check[], nowMs: number, id: string, deltas: number[] | null): Promise<Array<string | number>> {
    const keys: string[] = new Array<string>(checks.length);
    const args: Arg[] = [nowMs, id, this.opts.leaseMs];
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      keys[i] = c.key;
      const amount = deltas === null ? c.amount : deltas[i];
      if (c.kind === 'b') args.push('b', c.limitValue, amount, c.ratePerMs, 0);
      else if (c.kind === 'p') args.push('p', c.limitValue, amount, 0, 0);
      else args.push('q', c.limitValue, amount, c.field, c.windowEndMs + this.opts.graceMs);
    }
    try {
      return await this.evalScript(script, keys, args);
    } catch (err) {
      throw new LimitStoreError(`limits: Redis ${script.name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  private async evalScript(script: Script, keys: string[], args: Arg[]): Promise<Array<string | number>> {
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      // First call on this server (or after SCRIPT FLUSH): send the body once.
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      reply = await this.redis.eval(script.lua, keys.length, ...keys, ...args);
    }
    if (!Array.isArray(reply)) throw new Error(`unexpected reply from ${script.name} script`);
    return reply as Array<string | number>;
  }
}
