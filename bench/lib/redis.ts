/**
 * Whether the Redis that keygate-redis and keygate-pg keep their limit counters in answers,
 * asked before either starts: a missing Redis is a skipped target with a reason in the table,
 * not a gateway that fails to start (or retries for the whole start timeout).
 */
import { Redis } from 'ioredis';

export async function redisReachable(url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  // The host only: a URL may carry a password.
  let host = 'the configured URL';
  try {
    host = new URL(url).host;
  } catch {
    return { ok: false, reason: 'REDIS_URL is not a URL' };
  }
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket's own error (ECONNREFUSED) says more than the rejection ('Connection is closed.').
  let cause = '';
  client.on('error', (err: Error) => (cause ||= err.message));
  try {
    await client.connect();
    await client.ping();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `no Redis at ${host} (${(cause || (err as Error).message).slice(0, 80)}); set REDIS_URL` };
  } finally {
    client.disconnect();
  }
}
