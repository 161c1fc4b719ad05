/**
 * Migrations as a static map (Kysely's recommendation): no file-system scanning, so the
 * same list runs from source, from dist/ and from a bundle. One file per migration; never
 * edit a shipped one, add a new file and one line below.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { dialectTypes, type Dialect, type MigrationFactory } from './dialect.js';
import { keysAndRequests } from './0001-keys-and-requests.js';
import { accessControl } from './0002-access-control.js';
import { auditLog } from './0003-audit-log.js';
import { webhooks } from './0004-webhooks.js';
import { splitKeys } from './0005-split-keys.js';
import { providerSecrets } from './0006-provider-secrets.js';
import { usageCost } from './0007-usage-cost.js';
import { threats } from './0008-threats.js';
import { keyRoutes } from './0009-key-routes.js';
import { guardPolicies } from './0010-guard-policies.js';

export type { Dialect };

const MIGRATIONS: ReadonlyArray<readonly [string, MigrationFactory]> = [
  ['0001_keys_and_requests', keysAndRequests],
  ['0002_access_control', accessControl],
  ['0003_audit_log', auditLog],
  ['0004_webhooks', webhooks],
  ['0005_split_keys', splitKeys],
  ['0006_provider_secrets', providerSecrets],
  ['0007_usage_cost', usageCost],
  ['0008_threats', threats],
  ['0009_key_routes', keyRoutes],
  ['0010_guard_policies', guardPolicies],
];

export function migrationProvider(dialect: Dialect): MigrationProvider {
  const t = dialectTypes(dialect);
  return {
    getMigrations: async () => Object.fromEntries(MIGRATIONS.map(([name, make]) => [name, make(t)])) as Record<string, Migration>,
  };
}
