/**
 * `keygate audit verify` and `keygate audit export` as child processes on a running
 * gateway's data directory, and GET /admin/audit/verify: the whole head hash is printed to
 * anchor later; `--anchor` catches a cut tail; a row edited in the database is named, and
 * a broken chain queues an audit.chain_broken webhook, which the gateway delivers.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SERVER_KEY = recordSecret('sk-proj-AUDITVERIFYserverkey0123456789abcdefgh');
const SLOW = 180_000;

let gw: TestGateway;
let receiver: WebhookReceiver;

function run(...args: string[]): Promise<CliResult> {
  return runCli({ dataDir: gw.dataDir, record: 'audit-verify' }, ...args);
}

const admin = async (path: string) => {
  const res = await fetch(`${gw.url}/admin${path}`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
  const text = await res.text();
  recordOutput('audit-verify', text);
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
};

const brokenDeliveries = async () =>
  (await gw.ctx.store.db.selectFrom('webhook_deliveries' as never).selectAll().where('event' as never, '=', 'audit.chain_broken' as never).execute()).length;

/** Deliveries are queued and sent by the running gateway's own poll: polled for, bounded. */
const DELIVERED = { timeout: 60_000, interval: 50 };

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  gw = await startTestGateway({
    label: 'audit-verify',
    env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY },
    config: { webhooks: { allowPrivateTargets: true, allowHttp: true } },
  });
  const { secret } = await gw.ctx.ops.webhooks.endpoints.create({ url: receiver.url, events: ['audit.chain_broken'] });
  recordSecret(secret);
  for (const name of ['a1', 'a2', 'a3']) {
    const res = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    recordSecret(((await res.json()) as { key: string }).key);
  }
  await gw.ctx.ops.audit.flush();
});
afterAll(async () => {
  await gw?.stop();
  await receiver?.close();
});

describe('keygate audit verify / export', () => {
  let head = '';

  it(
    'verifies an intact chain and prints the whole head hash as an anchor; export is JSON lines',
    async () => {
      const v = await run('audit', 'verify');
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toContain('Audit chain intact');
      head = /(\d+):([0-9a-f]{64})/.exec(v.stdout)?.[0] ?? '';
      const last = await gw.ctx.ops.audit.head();
      expect(head).toBe(`${last!.seq}:${last!.hash}`);

      const e = await run('audit', 'export');
      expect(e.code, e.stderr).toBe(0);
      const lines = e.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string });
      expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: last!.seq }, (_, i) => i + 1));
      expect(lines.at(-1)!.hash).toBe(last!.hash);
      expect((await run('audit', 'verify', '--anchor', 'nonsense')).stderr).toContain('--anchor');
    },
    SLOW,
  );

  it(
    'with --anchor, a cut tail is reported; the API takes the anchor too',
    async () => {
      const [seq, hash] = head.split(':');
      await sql`DELETE FROM audit_log WHERE seq = ${Number(seq)}`.execute(gw.ctx.store.db);
      // Without the anchor the shorter chain looks whole; with it, the cut shows.
      expect((await run('audit', 'verify')).code).toBe(0);
      const cut = await run('audit', 'verify', '--anchor', head);
      expect(cut.code).toBe(3);
      expect(cut.stdout).toContain(`record #${seq}`);
      // The CLI's audit.chain_broken record now holds that seq: whole again, but not the anchored head.
      const api = await admin(`/audit/verify?anchor_seq=${seq}&anchor_hash=${hash}`);
      expect(api.json).toMatchObject({ ok: false, firstBrokenSeq: Number(seq), reason: 'record differs from the anchored head' });
      expect((await admin('/audit/verify')).json).toMatchObject({ ok: true });
      expect((await admin('/audit/verify?anchor_seq=1')).status).toBe(400);
      expect((await admin('/audit/verify?anchor_seq=1&anchor_hash=xyz')).status).toBe(400);
      await vi.waitFor(async () => expect(await brokenDeliveries()).toBe(2), DELIVERED);
    },
    SLOW,
  );

  it(
    'names a record edited in the database and queues audit.chain_broken, from the CLI and the API',
    async () => {
      const before = await brokenDeliveries();
      await sql`UPDATE audit_log SET actor = ${'someone-else'} WHERE seq = 2`.execute(gw.ctx.store.db);
      const v = await run('audit', 'verify');
      expect(v.code).toBe(3);
      expect(v.stdout).toContain('BROKEN at record #2');
      expect(await brokenDeliveries()).toBe(before + 1);
      const cliRecord = (await gw.ctx.ops.audit.query({ action: 'audit.chain_broken', actor: 'cli' })).items[0];
      expect(cliRecord).toMatchObject({ actor: 'cli', address: 'local', outcome: 'failure', details: { firstBrokenSeq: 2 } });

      const api = await admin('/audit/verify');
      expect(api.json).toMatchObject({ ok: false, firstBrokenSeq: 2 });
      await vi.waitFor(async () => expect(await brokenDeliveries()).toBe(before + 2), DELIVERED);
      // The running gateway delivers both (the CLI's from the persisted queue).
      const atTwo = () => receiver.events().filter((r) => r.type === 'audit.chain_broken' && r.data.firstBrokenSeq === 2);
      await vi.waitFor(() => expect(atTwo()).toHaveLength(2), DELIVERED);
      expect(atTwo().map((r) => r.data.actor).sort()).toEqual(['cli', expect.stringMatching(/^key_/)]);
      expect(atTwo()[0].data).toMatchObject({ target: 'audit_log', outcome: 'failure' });
    },
    SLOW,
  );
});
