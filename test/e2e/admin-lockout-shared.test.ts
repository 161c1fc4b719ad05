/**
 * The admin lockout across gateways: with the limit store in Redis, two gateways in this
 * process (same Redis, a key prefix of this test's own) add up one address's failures and
 * both refuse it, as does a gateway started afterwards (a restart). Without Redis each
 * gateway counts its own (the default, unchanged). With Redis unreachable the admin API
 * fails closed: 503, even with a valid admin key.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, SERVICES_REQUIRED, deletePrefix, probeRedis, runPrefix } from '../../src/limits/__tests__/redis-env.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { warnSkip } from '../support/skip-log.js';

const SERVER_KEY = recordSecret('sk-proj-LOCKOUTserverkey0123456789abcdefghijklmn');
const WRONG = recordSecret('kg-LockoutWrongWrongWrongWrongWrongWrongWrong12');
const config = { server: { trustProxy: ['127.0.0.1/32'] }, auth: { adminRpm: 10_000, adminLockout: { maxFailures: 4, windowSeconds: 600, lockSeconds: 600 } } };
const redisDown = await probeRedis();
if (redisDown && SERVICES_REQUIRED) throw new Error(`Redis is required (KEYGATE_REQUIRE_SERVICES=1): ${redisDown}`);
if (redisDown) warnSkip(`[skip] ${redisDown}; the shared admin lockout tests are skipped`);

const started: TestGateway[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  for (const g of started) await g.stop();
  if (!redisDown) for (const p of prefixes) await deletePrefix(p);
});

async function gateway(label: string, env: Record<string, string> = {}): Promise<TestGateway> {
  const g = await startTestGateway({ label, env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, ...env }, config });
  started.push(g);
  return g;
}

/** An admin call from `ip` (reported by the trusted loopback proxy). */
async function adminCall(g: TestGateway, ip: string, key: string): Promise<{ status: number; code?: string; retryAfter: string | null }> {
  const res = await fetch(`${g.url}/admin/keys`, { headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': ip } });
  const text = await res.text();
  recordOutput('admin-lockout', text);
  const body = JSON.parse(text) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code, retryAfter: res.headers.get('retry-after') };
}

describe.skipIf(redisDown !== null)('admin lockout shared through Redis', () => {
  it('failures at two gateways add up; both, and a gateway started later, refuse the address even with a valid key', async () => {
    const prefix = runPrefix('admin-lockout');
    prefixes.push(prefix);
    const env = { REDIS_URL, KEYGATE_LIMITS_PREFIX: prefix };
    const [a, b] = await Promise.all([gateway('lockout-a', env), gateway('lockout-b', env)]);
    const ip = '203.0.113.20';
    // Two wrong tokens at each: 4 in all, the limit; per process neither would lock.
    expect((await adminCall(a, ip, WRONG)).status).toBe(401);
    expect((await adminCall(b, ip, WRONG)).status).toBe(401);
    expect((await adminCall(a, ip, WRONG)).status).toBe(401);
    expect((await adminCall(a, ip, a.adminKey)).status).toBe(200);
    expect((await adminCall(b, ip, WRONG)).status).toBe(401);
    for (const g of [a, b]) {
      const locked = await adminCall(g, ip, g.adminKey);
      expect(locked).toMatchObject({ status: 429, code: 'admin_locked_out' });
      expect(Number(locked.retryAfter)).toBeGreaterThan(0);
      expect(Number(locked.retryAfter)).toBeLessThanOrEqual(600);
    }
    // Another address is not locked; a restart does not forget the lock.
    expect((await adminCall(b, '203.0.113.21', b.adminKey)).status).toBe(200);
    const c = await gateway('lockout-c', env);
    expect(await adminCall(c, ip, c.adminKey)).toMatchObject({ status: 429, code: 'admin_locked_out' });
    for (const g of [a, b, c]) expect(g.logLines().join('\n')).not.toContain(WRONG);
  });
});

describe('admin lockout without Redis (the default)', () => {
  it('each gateway counts its own failures', async () => {
    const [a, b] = await Promise.all([gateway('lockout-local-a'), gateway('lockout-local-b')]);
    const ip = '203.0.113.30';
    for (let i = 0; i < 2; i++) {
      expect((await adminCall(a, ip, WRONG)).status).toBe(401);
      expect((await adminCall(b, ip, WRONG)).status).toBe(401);
    }
    expect((await adminCall(a, ip, a.adminKey)).status).toBe(200);
    expect((await adminCall(b, ip, b.adminKey)).status).toBe(200);
    // Four at one gateway lock it there only.
    for (let i = 0; i < 2; i++) expect((await adminCall(a, ip, WRONG)).status).toBe(401);
    expect((await adminCall(a, ip, a.adminKey)).code).toBe('admin_locked_out');
    expect((await adminCall(b, ip, b.adminKey)).status).toBe(200);
  });
});

describe('admin lockout with Redis unreachable', () => {
  it('fails closed: 503 for every admin request, a valid key included', async () => {
    // A port nothing listens on: taken, then released.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const g = await gateway('lockout-redis-down', { REDIS_URL: `redis://127.0.0.1:${port}`, KEYGATE_LIMITS_PREFIX: runPrefix('admin-lockout-down') });
    expect(await adminCall(g, '203.0.113.40', g.adminKey)).toMatchObject({ status: 503, code: 'unavailable' });
    expect(await adminCall(g, '203.0.113.40', WRONG)).toMatchObject({ status: 503, code: 'unavailable' });
    expect(g.logLines().some((l) => l.includes('lockout store unreachable'))).toBe(true);
    expect(g.logLines().join('\n')).not.toContain(WRONG);
  });
});
