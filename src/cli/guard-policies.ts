/**
 * `keygate policies`: the shield's stored policy overrides, as /admin/guard/policies manages
 * them (same validation, same table); running gateways apply a change within 5 seconds.
 */
import type { Command } from 'commander';
import { policySubject } from '../guard/policy-book.js';
import { parseGuardPolicyOverride } from '../guard/policy.js';
import { ApiKeyRepository } from '../store/repositories/api-keys.js';
import { GuardPolicyRepository } from '../store/repositories/guard-policies.js';
import { IdentityRepository } from '../store/repositories/identities.js';
import { recordCliEvent } from './cli-events.js';
import { withStore } from './shared.js';

function subjectOf(scope: string, subject: string): { scope: 'key' | 'app' | 'route'; subject: string } {
  const s = policySubject(scope, subject);
  if ('problem' in s) throw new Error(s.problem);
  return s;
}

export function registerGuardPolicies(program: Command): void {
  const policies = program.command('policies').description("The shield's policy overrides per key id, app id or route operation (merged over guard: in the config)");

  policies
    .command('list')
    .description('List the stored overrides (the config file adds its own: keygate config show)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const rows = (await new GuardPolicyRepository(store).list()).map((r) => ({ scope: r.scope, subject: r.subject, policy: JSON.parse(r.policy) as unknown, updatedAt: new Date(r.updated_at).toISOString() }));
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else for (const r of rows) process.stdout.write(`${r.scope.padEnd(5)}  ${r.subject}  ${JSON.stringify(r.policy)}\n`);
      });
    });

  policies
    .command('set')
    .description('Create or replace the override of a key (id), an app (id) or a route operation (chat, embeddings, native:<provider>:<endpoint>)')
    .argument('<scope>', 'key, app or route')
    .argument('<subject>', 'key id, app id or route operation')
    .argument('<json>', `the override, e.g. '{"categories":{"pii":{"action":"redact"}}}'`)
    .action(async (scope: string, subject: string, json: string, _opts: unknown, cmd: Command) => {
      const s = subjectOf(scope, subject);
      let input: unknown;
      try {
        input = JSON.parse(json);
      } catch {
        throw new Error('The policy must be JSON, e.g. \'{"enabled":false}\'.');
      }
      const policy = parseGuardPolicyOverride(input);
      await withStore(cmd, async (store, loaded) => {
        if (s.scope === 'key' && !(await new ApiKeyRepository(store).findById(s.subject))) throw new Error(`No key with id '${s.subject.slice(0, 60)}'. See keygate keys list.`);
        if (s.scope === 'app' && (await new IdentityRepository(store, 'apps').get(s.subject))?.id !== s.subject) throw new Error(`No app with id '${s.subject.slice(0, 60)}'. See keygate apps list.`);
        const repo = new GuardPolicyRepository(store);
        const before = await repo.get(s.scope, s.subject);
        await repo.put({ scope: s.scope, subject: s.subject, policy: JSON.stringify(policy), updated_at: Date.now(), updated_by: 'cli' });
        await recordCliEvent(store, loaded, { type: 'policy.changed', target: `${s.scope}:${s.subject}`, details: { scope: s.scope, subject: s.subject, change: before ? 'replaced' : 'created', fields: Object.keys(policy) } });
        process.stdout.write(`Set the ${s.scope} policy of ${s.subject}.\n`);
      });
    });

  policies
    .command('remove')
    .description('Remove a stored override')
    .argument('<scope>', 'key, app or route')
    .argument('<subject>')
    .action(async (scope: string, subject: string, _opts: unknown, cmd: Command) => {
      const s = subjectOf(scope, subject);
      await withStore(cmd, async (store, loaded) => {
        if (!(await new GuardPolicyRepository(store).remove(s.scope, s.subject))) throw new Error(`No stored ${s.scope} policy for '${s.subject.slice(0, 60)}'. See keygate policies list.`);
        await recordCliEvent(store, loaded, { type: 'policy.changed', target: `${s.scope}:${s.subject}`, details: { scope: s.scope, subject: s.subject, change: 'removed' } });
        process.stdout.write(`Removed the ${s.scope} policy of ${s.subject}.\n`);
      });
    });
}
