/**
 * The admin lockout counted in the limit store's Redis: every replica pointing at it adds to
 * the same failures, and a restarted gateway still knows the lock. Time is Redis's own
 * (TIME in the script), so replicas with skewed clocks agree on the window.
 * Keys: `<prefix>admin-lockout:{<address>}:fails` (a sorted set of failure times, expiring
 * with the window) and `...:lock` (present while locked, expiring with the lock). The hash
 * tag keeps both in one slot.
 */
import { randomUUID } from 'node:crypto';
import type { SharedRedis } from '../../../limits/index.js';
import type { LockoutCounter, LockoutSettings } from './lockout.js';

// One atomic step: two replicas failing at once cannot both miss the threshold.
// An address already locked is not counted again (the lock is what matters).
const FAIL = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[4])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return 1
end
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;

export class RedisLockout implements LockoutCounter {
  readonly shared = true;

  constructor(
    private readonly target: SharedRedis,
    private readonly o: LockoutSettings,
  ) {}

  async lockedForMs(address: string): Promise<number> {
    const ms = await this.target.redis.pttl(this.#key(address, 'lock'));
    // -2: no lock; -1 (no expiry) cannot happen as the script always sets one, but would mean locked.
    return ms === -1 ? this.o.lockSeconds * 1000 : Math.max(0, ms);
  }

  async fail(address: string): Promise<boolean> {
    // A random member: two failures in the same millisecond still count twice.
    const locked = await this.target.redis.eval(FAIL, 2, this.#key(address, 'fails'), this.#key(address, 'lock'), this.o.windowSeconds * 1000, this.o.maxFailures, this.o.lockSeconds * 1000, randomUUID());
    return locked === 1;
  }

  #key(address: string, what: 'fails' | 'lock'): string {
    return `${this.target.keyPrefix}admin-lockout:{${address}}:${what}`;
  }
}
