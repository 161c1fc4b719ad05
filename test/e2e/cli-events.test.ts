/**
 * CLI actions are audited and fire webhooks like the admin API's: each command run as a
 * child process against a running gateway's data directory appends an audit record (actor
 * `cli`, address `local`) to the same hash chain, and queues webhook deliveries in the
 * persisted queue, which the running gateway delivers (signed) to a local receiver.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordSecret } from '../support/artifacts.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SERVER_KEY = recordSecret('sk-proj-CLIEVENTSserverkey0123456789abcdefghij');
const ROTATED_KEY = recordSecret('sk-proj-CLIEVENTSrotatedkey0123456789abcdefgh');
// Each command is a fresh Node process (tsx): seconds each on a busy machine.
const SLOW = 180_000;

let gw: TestGateway;
let receiver: WebhookReceiver;

/** A CLI command on the gateway's data directory; `shownOnce` when stdout shows a new key (only stderr is scanned then). */
function run(args: string[], opts: { stdin?: string; shownOnce?: boolean } = {}): Promise<CliResult> {
  return runCli({ dataDir: gw.dataDir, record: 'cli-events', ...opts }, ...args);
}

async function auditRows(action: string) {
  return gw.ctx.store.db.selectFrom('audit_log' as never).selectAll().where('action' as never, '=', action as never).execute() as Promise<Array<{ actor: string; address: string; target: string; details: string | null }>>;
}

async function deliveries(event: string) {
  return gw.ctx.store.db.selectFrom('webhook_deliveries' as never).selectAll().where('event' as never, '=', event as never).execute() as Promise<Array<{ status: string; payload: string }>>;
}

// Deliveries come from the running gateway's own queue poll.
const DELIVERED = { timeout: 60_000, interval: 50 };

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  gw = await startTestGateway({
    label: 'cli-events',
    env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY },
    config: { webhooks: { allowPrivateTargets: true, allowHttp: true } },
  });
  const res = await fetch(`${gw.url}/admin/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url, events: ['key.created', 'key.revoked', 'key.rotated'] }),
  });
  expect(res.status).toBe(201);
  recordSecret(((await res.json()) as { secret: string }).secret);
});
afterAll(async () => {
  await gw?.stop();
  await receiver?.close();
});

describe('CLI actions in the audit log and webhooks', () => {
  it(
    'keys create: an audit record by cli from local, a queued delivery the running gateway sends',
    async () => {
      const r = await run(['keys', 'create', '--name', 'cli-made', '--json'], { shownOnce: true });
      expect(r.code, r.stderr).toBe(0);
      const made = JSON.parse(r.stdout) as { id: string; key: string };
      recordSecret(made.key);
      const rows = await auditRows('key.created');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actor: 'cli', address: 'local', target: made.id });
      expect(rows[0].details).not.toContain(made.key);
      expect((await deliveries('key.created')).length).toBe(1);
      const got = await vi.waitFor(() => {
        const d = receiver.events().find((x) => x.type === 'key.created');
        if (!d) throw new Error('no key.created delivery yet');
        return d;
      }, DELIVERED);
      expect(got.data).toMatchObject({ actor: 'cli', target: made.id, outcome: 'success' });
      expect(got.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(JSON.stringify(receiver.received)).not.toContain(made.key);
    },
    SLOW,
  );

  it(
    'keys revoke and keys rotate <provider> fire key.revoked and key.rotated; users and ip-rules are audited',
    async () => {
      // Two active keys of that name: revoking by name revokes both, and audits each by id.
      const twin = JSON.parse((await run(['keys', 'create', '--name', 'cli-made', '--json'], { shownOnce: true })).stdout) as { id: string; key: string };
      recordSecret(twin.key);
      const revoke = await run(['keys', 'revoke', 'cli-made']);
      expect(revoke.code, revoke.stderr).toBe(0);
      expect(revoke.stdout).toContain('Revoked 2 keys.');
      const rotate = await run(['keys', 'rotate', 'openai'], { stdin: `${ROTATED_KEY}\n` });
      expect(rotate.code, rotate.stderr).toBe(0);
      expect((await run(['users', 'create', '--name', 'cli-user'])).code).toBe(0);
      expect((await run(['ip-rules', 'add', 'deny', '198.51.100.0/24'])).code).toBe(0);

      const revoked = await auditRows('key.revoked');
      const createdIds = (await auditRows('key.created')).map((r) => r.target);
      expect(createdIds).toContain(twin.id);
      expect(revoked.map((r) => r.target).sort()).toEqual(createdIds.sort());
      for (const r of revoked) expect(r).toMatchObject({ actor: 'cli', address: 'local' });
      expect((await auditRows('key.rotated'))[0]).toMatchObject({ actor: 'cli', target: 'openai' });
      const admin = (await auditRows('admin.action')).filter((r) => r.actor === 'cli').map((r) => JSON.parse(r.details ?? '{}') as { action: string });
      expect(admin.map((d) => d.action)).toEqual(expect.arrayContaining(['user.created', 'ip_rule.added']));
      await vi.waitFor(() => expect(receiver.events().map((d) => d.type)).toEqual(expect.arrayContaining(['key.revoked', 'key.rotated'])), DELIVERED);
      expect((await deliveries('key.rotated'))[0].payload).not.toContain(ROTATED_KEY);
      expect(JSON.stringify(await gw.ctx.store.db.selectFrom('audit_log' as never).selectAll().execute())).not.toContain(ROTATED_KEY);
    },
    SLOW,
  );

  it('the CLI and the gateway append to one chain that still verifies', async () => {
    const res = await fetch(`${gw.url}/admin/audit/verify`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    expect(await res.json()).toMatchObject({ ok: true });
  });
});
