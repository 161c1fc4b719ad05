/**
 * A second gateway process for the multi-process Redis test. Connects its own store, says
 * "ready", waits for "go" on stdin, fires N reservations at once, prints how many passed.
 * Env: REDIS_URL, PREFIX, COUNT, LIMITS (JSON of SubjectLimits[]), TOKENS, COST.
 */
import { createLimitStore } from '../index.js';
import type { SubjectLimits } from '../types.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`reserve-child: ${k} is not set`);
  return v;
};

const store = createLimitStore({ timeZone: 'UTC', redisUrl: env('REDIS_URL'), keyPrefix: env('PREFIX') });
const subjects = JSON.parse(env('LIMITS')) as SubjectLimits[];
const count = Number(env('COUNT'));
// Warm the connection and the script cache so "go" measures only the race.
await store.usage(subjects[0]);
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  void (async () => {
    const rs = await Promise.all(
      Array.from({ length: count }, () =>
        store.reserve({ subjects, estimatedTokens: Number(env('TOKENS')), estimatedCostMicros: Number(env('COST')) }),
      ),
    );
    process.stdout.write(`${JSON.stringify({ ok: rs.filter((r) => r.ok).length })}\n`);
    await store.close();
    process.exit(0);
  })();
});
