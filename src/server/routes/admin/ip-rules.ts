/** /admin/ip-rules: the global allow and deny rules kept in the store (config adds its own). */
import type { FastifyInstance } from 'fastify';
import { compileIpRules } from '../../../auth/ip-rules.js';
import type { IpRulesTable } from '../../../store/schema.js';
import type { GatewayContext } from '../../context.js';
import { ipRulePageSchema, ipRuleViewSchema } from '../../api-schemas.js';
import { documented } from '../../openapi.js';
import { adminEvent, conflict, idParam, idParams, notFound, pageQuery, paginate } from './common.js';
import { checkCidr, ipRuleCreateSchema, parseWith } from './validation.js';

const view = (r: IpRulesTable) => ({ id: r.id, list: r.list, cidr: r.cidr, note: r.note, createdAt: new Date(r.created_at).toISOString() });

export async function ipRuleRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const { ipRules } = ctx.repos;

  app.get('/ip-rules', documented({ summary: 'List IP rules (stored, and those from the config file)', querystring: pageQuery, responses: { 200: ipRulePageSchema } }), async (req) => {
    const page = paginate(await ipRules.list(), req.query as Record<string, unknown>, view);
    // Rules from the config file apply too; shown so the list explains every decision.
    return { ...page, config: { allow: ctx.config.ipRules.allow, deny: ctx.config.ipRules.deny } };
  });

  app.post('/ip-rules', documented({ summary: 'Add an IP rule', body: ipRuleCreateSchema, responses: { 201: ipRuleViewSchema }, errors: [409] }), async (req, reply) => {
    const body = parseWith(ipRuleCreateSchema, req.body);
    const cidr = body.cidr.trim();
    checkCidr(cidr);
    if (!body.force) {
      // A rule that would shut out the admin adding it is almost always a mistake.
      const current = await ipRules.list();
      const pick = (list: 'allow' | 'deny') => [...ctx.config.ipRules[list], ...current.filter((r) => r.list === list).map((r) => r.cidr), ...(body.list === list ? [cidr] : [])];
      const after = compileIpRules({ allow: pick('allow'), deny: pick('deny') }, 'ipRules');
      if (!after.check(req.clientIp).allowed) {
        throw conflict(`This rule would refuse your own address (${req.clientIp}), including for the admin API. Send "force": true to add it anyway.`, 'would_lock_out');
      }
    }
    const row = await ipRules.add(body.list, cidr, body.note ?? null);
    await ctx.access.reloadGlobal();
    adminEvent(ctx, req, 'admin.action', row.id, { action: 'ip_rule.added', list: row.list, cidr: row.cidr });
    reply.code(201);
    return view(row);
  });

  app.delete('/ip-rules/:id', documented({ summary: 'Remove an IP rule', params: idParams, responses: { 204: null }, errors: [404] }), async (req, reply) => {
    const id = idParam(req);
    const row = (await ipRules.list()).find((r) => r.id === id);
    if (!row) throw notFound('IP rule', id);
    await ipRules.remove(id);
    await ctx.access.reloadGlobal();
    adminEvent(ctx, req, 'admin.action', id, { action: 'ip_rule.removed', list: row.list, cidr: row.cidr });
    return reply.code(204).send();
  });
}
