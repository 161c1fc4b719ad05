/**
 * The admin API's operations routes as commands, on the same store: `keygate webhooks`
 * (list, create, delete, test, deliveries), `keygate analytics` (summary, top, export) and
 * `keygate threats list`. Same validation as the API (analytics parameters are parsed by
 * the same function); changes are audited with actor `cli`.
 */
import type { Command } from 'commander';
import type { LoadedConfig } from '../config/load.js';
import { masterKeySealer } from '../server/operations.js';
import type { Store } from '../store/connect.js';
import { ThreatRepository } from '../store/repositories/threats.js';
import { UsageAnalytics } from '../usage/analytics.js';
import { exportStream } from '../usage/analytics-export.js';
import { parseAnalyticsQuery, type QuerySpec } from '../usage/analytics-query.js';
import { WEBHOOK_EVENTS, WebhookDispatcher, type WebhookEventType } from '../usage/webhooks/index.js';
import { recordCliEvent } from './cli-events.js';
import { openMasterKeyRing, parseLimit, parseNumericCursor, withStore } from './shared.js';

const json = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

/** The dispatcher a gateway would build on this data directory (secrets sealed under its master key). */
async function dispatcher(store: Store, loaded: LoadedConfig): Promise<WebhookDispatcher> {
  return new WebhookDispatcher(store, { sealer: masterKeySealer(await openMasterKeyRing(loaded)), policy: loaded.config.webhooks });
}

/** Flags as the query string the API takes: the same parser, the same messages (naming the flag). */
function analyticsQuery(opts: Record<string, string | undefined>, spec: QuerySpec) {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts)) if (typeof v === 'string') raw[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  try {
    return parseAnalyticsQuery(raw, spec);
  } catch (err) {
    throw new Error(((err as Error).message ?? String(err)).replace(/'([a-z_]+)'/, (_m, p: string) => `--${p.replace(/_/g, '-')}`));
  }
}

const filterFlags = (c: Command) =>
  c
    .option('--from <time>', 'start: epoch ms or an ISO date (default: 7 days before --to)')
    .option('--to <time>', 'end: epoch ms or an ISO date (default: now)')
    .option('--key-id <id>', 'only this key')
    .option('--user-id <id>', 'only this user')
    .option('--app-id <id>', 'only this app')
    .option('--provider <id>', 'only this provider')
    .option('--model <name>', 'only this model');

export function registerOperations(program: Command): void {
  const hooks = program.command('webhooks').description('Webhook endpoints and their delivery log');

  hooks
    .command('list')
    .description('List endpoints (never their secrets)')
    .action(async (_o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => json({ data: await (await dispatcher(store, loaded)).endpoints.list() }));
    });

  hooks
    .command('create')
    .description('Add an endpoint; its signing secret is printed once')
    .requiredOption('--url <url>', 'https URL of the receiver')
    .requiredOption('--events <list>', `comma-separated: ${WEBHOOK_EVENTS.join(', ')}, or *`)
    .option('--description <text>', 'what it is for')
    .action(async (opts: { url: string; events: string; description?: string }, cmd: Command) => {
      const events = opts.events.split(',').map((e) => e.trim()).filter(Boolean);
      const unknown = events.filter((e) => e !== '*' && !(WEBHOOK_EVENTS as readonly string[]).includes(e));
      if (events.length === 0 || unknown.length) throw new Error(`--events: unknown event ${unknown.join(', ') || '(none given)'}; use ${WEBHOOK_EVENTS.join(', ')} or *.`);
      await withStore(cmd, async (store, loaded) => {
        const { endpoint, secret } = await (await dispatcher(store, loaded)).endpoints
          .create({ url: opts.url, events: events as Array<WebhookEventType | '*'>, description: opts.description ?? null })
          .catch((err: unknown) => {
            throw new Error(`--url: ${(err as Error).message}`);
          });
        await recordCliEvent(store, loaded, { type: 'admin.action', target: endpoint.id, details: { action: 'webhook.created', events: endpoint.events } });
        process.stdout.write(`Created webhook ${endpoint.id} for ${endpoint.events.join(', ')}. Its signing secret is shown once:\n\n  ${secret}\n\n`);
      });
    });

  hooks
    .command('delete')
    .description('Delete an endpoint')
    .argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        if (!(await (await dispatcher(store, loaded)).endpoints.delete(id))) throw new Error(`No webhook with id '${id.slice(0, 60)}'. See keygate webhooks list.`);
        await recordCliEvent(store, loaded, { type: 'admin.action', target: id, details: { action: 'webhook.deleted' } });
        process.stdout.write(`Deleted webhook ${id}.\n`);
      });
    });

  hooks
    .command('test')
    .description('Send a webhook.test event to one endpoint now; prints the delivery')
    .argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        const d = await dispatcher(store, loaded);
        const delivery = await d.testFire(id);
        await d.close();
        if (!delivery) throw new Error(`No webhook with id '${id.slice(0, 60)}'. See keygate webhooks list.`);
        json(delivery);
        if (delivery.status !== 'succeeded') process.exitCode = 1;
      });
    });

  hooks
    .command('deliveries')
    .description("An endpoint's delivery log, newest first")
    .argument('<id>')
    .option('--limit <n>', 'how many (1-500)', '50')
    .option('--cursor <c>', 'nextCursor of the previous page')
    .action(async (id: string, opts: { limit: string; cursor?: string }, cmd: Command) => {
      const limit = parseLimit(opts.limit);
      await withStore(cmd, async (store, loaded) => {
        const page = await (await dispatcher(store, loaded)).deliveries(id, { limit, cursor: opts.cursor });
        json({ data: page.items, nextCursor: page.nextCursor });
      });
    });

  const analytics = program.command('analytics').description('Usage and cost over every key, user and app (what /admin/analytics answers)');
  filterFlags(analytics.command('summary').description('Totals, optionally grouped').option('--group-by <dims>', 'comma-separated: key, user, app, provider, model, status')).action(
    async (opts: Record<string, string | undefined>, cmd: Command) => {
      const q = analyticsQuery(opts, { extra: ['group_by'] });
      await withStore(cmd, async (store) => json({ from: q.filter.from, to: q.filter.to, ...(await new UsageAnalytics(store).summary(q.filter, q.groupBy)) }));
    },
  );
  filterFlags(
    analytics
      .command('top')
      .description('Top spenders')
      .option('--by <what>', 'cost, tokens or requests', 'cost')
      .option('--group-by <dim>', 'key, user, app, provider, model or status', 'key')
      .option('--limit <n>', '1 to 1000', '10'),
  ).action(async (opts: Record<string, string | undefined>, cmd: Command) => {
    const q = analyticsQuery(opts, { extra: ['group_by', 'by', 'limit'] });
    if (q.groupBy.length > 1) throw new Error('--group-by takes one dimension here.');
    await withStore(cmd, async (store) => json({ from: q.filter.from, to: q.filter.to, by: q.by, groupBy: q.groupBy[0] ?? 'key', data: await new UsageAnalytics(store).top(q.filter, q.by ?? 'cost', q.groupBy[0] ?? 'key', q.limit ?? 10) }));
  });
  filterFlags(analytics.command('export').description('Raw records as CSV or a JSON array, to standard output').option('--format <f>', 'csv or json', 'json')).action(
    async (opts: Record<string, string | undefined>, cmd: Command) => {
      const q = analyticsQuery(opts, { extra: ['format'] });
      await withStore(cmd, async (store) => {
        for await (const chunk of exportStream(new UsageAnalytics(store), q.filter, q.format ?? 'json')) process.stdout.write(chunk as string);
      });
    },
  );

  program
    .command('threats')
    .description("What the shield found (redacted excerpts only)")
    .command('list')
    .option('--category <c>', 'prompt_injection, secret, pii, system_prompt_leak or exfiltration')
    .option('--action <a>', 'block, redact or log')
    .option('--key-id <id>', 'only this key')
    .option('--limit <n>', '1 to 500', '50')
    .option('--cursor <id>', 'nextCursor of the previous page')
    .action(async (opts: { category?: string; action?: string; keyId?: string; limit: string; cursor?: string }, cmd: Command) => {
      const limit = parseLimit(opts.limit);
      const before = parseNumericCursor(opts.cursor);
      await withStore(cmd, async (store) => {
        const page = await new ThreatRepository(store).query({ category: opts.category, action: opts.action, keyId: opts.keyId, before, limit });
        const data = page.items.map((t) => ({ ...t, categories: t.categories.split(','), findings: JSON.parse(t.findings) as unknown }));
        json({ data, nextCursor: page.nextBefore === null ? null : String(page.nextBefore) });
      });
    });
}
