import type { Command } from 'commander';
import { AuditLog } from '../usage/audit/index.js';
import { withStore } from './shared.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('The tamper-evident audit log');
  audit
    .command('verify')
    .description('Check the whole hash chain; names the first broken record (exit 3 when broken)')
    .action(async (_opts: unknown, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const log = new AuditLog(store);
        const result = await log.verify();
        await log.close();
        if (result.ok) {
          process.stdout.write(`Audit chain intact: ${result.count} records${result.head ? `, head #${result.head.seq} ${result.head.hash.slice(0, 16)}...` : ''}.\n`);
          return;
        }
        process.stdout.write(`Audit chain BROKEN at record #${result.firstBrokenSeq}: ${result.reason}\n`);
        process.exitCode = 3;
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
