/** Starts a real gateway on loopback for a test: its own data dir, logs kept for the leak scan. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFileSync } from 'node:fs';
import type { ConfigInput } from '../../src/config/schema.js';
import { startGateway, type RunningGateway, type StartOptions } from '../../src/server/gateway.js';
import { logSink, recordOutput, recordSecret } from './artifacts.js';

export interface TestGateway extends RunningGateway {
  adminKey: string;
  dataDir: string;
  logLines(): string[];
  stop(): Promise<void>;
}

export async function startTestGateway(opts: {
  label: string;
  env?: Record<string, string>;
  config?: ConfigInput;
  databaseUrl?: string;
  start?: Partial<StartOptions>;
}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keygate-test-'));
  // Variables that hold secrets (OPENAI_API_KEY, KEYGATE_MASTER_KEY, ..._SECRETS, ..._PASSPHRASE); not KEY_MODE or KEYGATE_DATA_DIR.
  for (const [k, v] of Object.entries(opts.env ?? {})) if (/(?:_KEY|_SECRETS?|_PASSPHRASE)$/.test(k) && v) recordSecret(v.replace(/^enc:/, ''));
  let file: string | undefined;
  if (opts.config) {
    file = join(dataDir, 'keygate.yaml');
    writeFileSync(file, stringify(opts.config));
  }
  const sink = logSink(opts.label);
  let adminKey = '';
  const env: NodeJS.ProcessEnv = {
    KEYGATE_DATA_DIR: dataDir,
    KEYGATE_PORT: '0',
    KEYGATE_LOG_LEVEL: 'debug',
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    ...opts.env,
  };
  const gw = await startGateway({
    env,
    file,
    logDestination: sink,
    onFirstAdminKey: (k) => (adminKey = recordSecret(k)),
    ...opts.start,
  });
  return {
    ...gw,
    adminKey,
    dataDir,
    logLines: () => sink.lines(),
    stop: async () => {
      // What the gateway stored about the suite's traffic, and its metrics, go through the leak scan too.
      recordOutput('metrics', await gw.ctx.metrics.exposition().catch(() => ''));
      await gw.ctx.usage.flush();
      await gw.ctx.ops.audit.flush().catch(() => undefined);
      for (const table of ['audit_log', 'threats', 'requests', 'webhook_deliveries'] as const) {
        const rows = await gw.ctx.store.db.selectFrom(table).selectAll().execute().catch(() => []);
        if (rows.length) recordOutput(`db-${table}`, JSON.stringify(rows));
      }
      await gw.close();
      sink.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
