/**
 * keygate as a bench child: the real startGateway() with the full pipeline, server key
 * custody, pointed at the mock upstream (UPSTREAM_ORIGIN). Store from BENCH_DATABASE_URL
 * (default: SQLite in a temp dir); REDIS_URL turns Redis limits on once limits are wired.
 * Logs go to stdout at info, as in production; the parent sends stdout to a file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startGateway } from '../../src/server/gateway.js';
import { ApiKeyRepository } from '../../src/store/repositories/api-keys.js';
import { answerMemoryRequests, onStop, sendReady } from './child-ipc.js';
import { benchPipeline } from './keygate-pipeline.js';

const dataDir = mkdtempSync(join(tmpdir(), 'keygate-bench-'));
const pipeline = benchPipeline({ redisUrl: process.env.REDIS_URL });
// BENCH_OPEN: the same gateway without gateway auth and limits, to measure what they cost.
const open = process.env.BENCH_OPEN === '1';
if (open) {
  delete pipeline.config.limits;
  pipeline.features.auth = 'off';
  pipeline.features.limits = 'off';
}
const file = join(dataDir, 'keygate.yaml');
writeFileSync(file, stringify(pipeline.config));

const gw = await startGateway({
  file,
  env: {
    KEY_MODE: 'server',
    OPENAI_API_KEY: 'sk-bench-0000000000000000000000000000',
    OPENAI_BASE_URL: `${process.env.UPSTREAM_ORIGIN ?? ''}/v1`,
    KEYGATE_DATA_DIR: dataDir,
    KEYGATE_PORT: '0',
    KEYGATE_LOG_LEVEL: process.env.KEYGATE_LOG_LEVEL ?? 'info',
    ...(open ? { KEYGATE_AUTH: 'off' } : {}),
    ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
    // Redis limit counters under their own prefix, apart from the test suite's.
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, KEYGATE_LIMITS_PREFIX: 'keygate-bench:' } : {}),
  },
});
// An ordinary app key (read, write), as a client would hold.
const { key } = await new ApiKeyRepository(gw.ctx.store).create({ name: `bench-${Date.now()}`, scopes: ['read', 'write'] });
const store = gw.ctx.store.dialect;
answerMemoryRequests();
sendReady({ port: Number(new URL(gw.url).port), clientKey: key, features: { store, ...pipeline.features } });

onStop(async () => {
  await gw.close();
  rmSync(dataDir, { recursive: true, force: true });
});
