import type { Command } from 'commander';
import { AuditLog } from '../usage/audit/index.js';
import { parseLimit, parseNumericCursor, withStore } from './shared.js';
import { recordCliEvent } from './cli-events.js';

/** `--anchor 1234:<64 hex>`: a head printed by an earlier verify. */
function parseAnchor(text: string): { seq: number; hash: string } {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  if (!m || Number(m[1]) < 1) throw new Error(`--anchor must be <seq>:<hash> as printed by keygate audit verify (e.g. 1234:9f86d0...); got '${text.slice(0, 40)}'.`);
  return { seq: Number(m[1]), hash: m[2] };
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('The tamper-evident audit log');
  audit
    .command('verify')
    .description('Check the whole hash chain; names the first broken record (exit 3 when broken, and an audit.chain_broken webhook)')
    .option('--anchor <seq:hash>', 'a head printed by an earlier verify, kept elsewhere: catches a cut or rewritten tail too')
    .action(async (opts: { anchor?: string }, cmd: Command) => {
      const anchor = opts.anchor === undefined ? undefined : parseAnchor(opts.anchor);
      await withStore(cmd, async (store, loaded) => {
        const log = new AuditLog(store);
        const result = await log.verify(anchor ? { anchor } : {});
        await log.close();
        if (result.ok) {
          const head = result.head ? `${result.head.seq}:${result.head.hash}` : null;
          process.stdout.write(`Audit chain intact: ${result.count} records${anchor ? `, anchor #${anchor.seq} present` : ''}.\n`);
          if (head) process.stdout.write(`Head (keep a copy elsewhere; verify later with --anchor ${head}):\n  ${head}\n`);
          return;
        }
        process.stdout.write(`Audit chain BROKEN at record #${result.firstBrokenSeq}: ${result.reason}\n`);
        await recordCliEvent(store, loaded, { type: 'audit.chain_broken', outcome: 'failure', target: 'audit_log', details: { firstBrokenSeq: result.firstBrokenSeq, reason: result.reason } });
        process.exitCode = 3;
      });
    });
  audit
    .command('query')
    .description('Records newest first, as JSON (what GET /admin/audit answers)')
    .option('--actor <actor>', "a key id, 'cli' or 'system'")
    .option('--action <action>', 'exact, or a prefix such as admin.*')
    .option('--outcome <o>', 'success, failure or denied')
    .option('--limit <n>', '1 to 500', '100')
    .option('--cursor <seq>', 'nextCursor of the previous page')
    .action(async (opts: { actor?: string; action?: string; outcome?: string; limit: string; cursor?: string }, cmd: Command) => {
      const limit = parseLimit(opts.limit);
      if (opts.outcome !== undefined && !['success', 'failure', 'denied'].includes(opts.outcome)) throw new Error('--outcome must be success, failure or denied.');
      const cursor = parseNumericCursor(opts.cursor);
      await withStore(cmd, async (store) => {
        const log = new AuditLog(store);
        const page = await log.query({ actor: opts.actor, action: opts.action, outcome: opts.outcome as 'success' | 'failure' | 'denied' | undefined, limit, cursor });
        await log.close();
        process.stdout.write(`${JSON.stringify({ data: page.items, nextCursor: page.nextCursor }, null, 2)}\n`);
      });
    });
  audit
    .command('export')
    .description('Write the audit log as JSON lines to standard output')
    .option('--from <iso>', 'start time (ISO 8601)')
    .option('--to <iso>', 'end time (ISO 8601)')
    .action(async (opts: { from?: string; to?: string }, cmd: Command) => {
      const time = (v: string | undefined, flag: string) => {
        if (v === undefined) return undefined;
        const t = Date.parse(v);
        if (!Number.isFinite(t)) throw new Error(`${flag} must be a date like 2026-11-22 or 2026-11-22T10:00:00Z.`);
        return t;
      };
      const range = { from: time(opts.from, '--from'), to: time(opts.to, '--to') };
      await withStore(cmd, async (store) => {
        const log = new AuditLog(store);
        await log.exportJsonl(process.stdout, range);
        await log.close();
      });
    });
}
