/** Test helpers: where Redis is, whether it must be there, and cleanup of a key prefix. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redactText } from '../../core/redact.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SERVICES_REQUIRED = process.env.KEYGATE_REQUIRE_SERVICES === '1';

/** A prefix no other run (or parallel test file) shares. */
export function runPrefix(tag: string): string {
  return `keygate-test:${tag}:${process.pid}-${randomBytes(4).toString('hex')}:`;
}

/** null when Redis answers PING, otherwise why not. */
export async function probeRedis(url: string = REDIS_URL): Promise<string | null> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // The socket error (ECONNREFUSED...) says more than the "Connection is closed" rejection.
  let cause = '';
  r.on('error', (e: Error) => (cause ||= e.message));
  try {
    await r.connect();
    await r.ping();
    return null;
  } catch (err) {
    // Masked where it is built: the reason also lands in test titles and thrown errors.
    return redactText(`Redis unreachable at ${url}: ${cause || (err instanceof Error ? err.message : String(err))}`);
  } finally {
    r.disconnect();
  }
}

export async function deletePrefix(prefix: string, url: string = REDIS_URL): Promise<number> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) n += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

export async function countPrefix(prefix: string, url: string = REDIS_URL): Promise<number> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}
