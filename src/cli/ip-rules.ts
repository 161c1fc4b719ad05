/** `keygate ip-rules`: the global allow and deny rules kept in the store (the config file adds its own). */
import type { Command } from 'commander';
import { checkCidr } from '../server/routes/admin/validation.js';
import { IpRuleRepository } from '../store/repositories/ip-rules.js';
import { withStore } from './shared.js';
import { recordCliEvent } from './cli-events.js';

export function registerIpRules(program: Command): void {
  const rules = program.command('ip-rules').description('Global IP allow/deny rules (CIDR, IPv4 and IPv6; deny wins)');

  rules
    .command('add')
    .description('Add a rule; running gateways apply it from their next request')
    .argument('<list>', 'allow or deny')
    .argument('<cidr>', 'an address or range: 10.0.0.0/8, 2001:db8::/32, ::1')
    .option('--note <text>', 'why the rule exists')
    .action(async (list: string, cidr: string, opts: { note?: string }, cmd: Command) => {
      if (list !== 'allow' && list !== 'deny') throw new Error(`The list must be allow or deny; got '${list.slice(0, 20)}'.`);
      checkCidr(cidr.trim());
      await withStore(cmd, async (store, loaded) => {
        const row = await new IpRuleRepository(store).add(list, cidr.trim(), opts.note ?? null);
        await recordCliEvent(store, loaded, { type: 'admin.action', target: row.id, details: { action: 'ip_rule.added', list: row.list, cidr: row.cidr } });
        process.stdout.write(`Added ${row.id}: ${row.list} ${row.cidr}\n`);
      });
    });

  rules
    .command('list')
    .description('List the rules in the store')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        const rows = await new IpRuleRepository(store).list();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(rows.map((r) => ({ id: r.id, list: r.list, cidr: r.cidr, note: r.note, createdAt: new Date(r.created_at).toISOString() })), null, 2)}\n`);
          return;
        }
        for (const r of rows) process.stdout.write(`${r.id}  ${r.list.padEnd(5)}  ${r.cidr}${r.note ? `  # ${r.note}` : ''}\n`);
        const { allow, deny } = loaded.config.ipRules;
        if (allow.length + deny.length > 0) process.stdout.write(`(plus from the config file: allow ${allow.join(', ') || '-'}; deny ${deny.join(', ') || '-'})\n`);
      });
    });

  rules
    .command('remove')
    .description('Remove a rule by id')
    .argument('<id>')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        const repo = new IpRuleRepository(store);
        const row = (await repo.list()).find((r) => r.id === id);
        if (!row || !(await repo.remove(id))) throw new Error(`No IP rule with id '${id.slice(0, 60)}'. See keygate ip-rules list.`);
        await recordCliEvent(store, loaded, { type: 'admin.action', target: id, details: { action: 'ip_rule.removed', list: row.list, cidr: row.cidr } });
        process.stdout.write(`Removed ${id}.\n`);
      });
    });
}
