/**
 * /admin/guard/policies: the shield's policy overrides per key (id), app (id) and route
 * operation, stored in the database and in force on the next request (this replica at once,
 * others within seconds: src/server/guard-policies.ts). Config overrides are shown, not
 * changed here. Every change is audited as `policy.changed`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errors } from '../../../core/errors.js';
import { guardPolicyOverrideSchema, type GuardPolicyOverride } from '../../../guard/policy.js';
import { POLICY_SCOPES, policySubject, type PolicyScope } from '../../../guard/policy-book.js';
import type { GatewayContext } from '../../context.js';
import { reloadStoredPolicies } from '../../guard-policies.js';
import { documented } from '../../openapi.js';
import { adminEvent, notFound } from './common.js';
import { parseWith } from './validation.js';

const subjectParams = z
  .object({
    scope: z.enum(POLICY_SCOPES as [PolicyScope, ...PolicyScope[]], { error: () => 'must be key, app or route' }),
    subject: z.string().min(1).max(200),
  })
  .strict();

const overrideView = z.object({
  scope: z.enum(POLICY_SCOPES as [PolicyScope, ...PolicyScope[]]),
  subject: z.string(),
  config: guardPolicyOverrideSchema.nullable(),
  stored: guardPolicyOverrideSchema.nullable(),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
const listView = z.object({
  default: z.record(z.string(), z.unknown()),
  config: z.record(z.string(), z.record(z.string(), guardPolicyOverrideSchema)),
  stored: z.array(z.object({ scope: z.string(), subject: z.string(), policy: guardPolicyOverrideSchema, updatedAt: z.string(), updatedBy: z.string().nullable() })),
});

function params(req: FastifyRequest): { scope: PolicyScope; subject: string } {
  const p = parseWith(subjectParams, req.params);
  const s = policySubject(p.scope, p.subject);
  if ('problem' in s) throw errors.invalidBody(s.problem, 'subject');
  return s;
}

export async function guardPolicyRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const repo = ctx.repos.guardPolicies;
  const book = ctx.guardPolicies;
  const configOf = (scope: PolicyScope, subject: string): GuardPolicyOverride | null => book.overridesOf(scope, subject).config;
  const view = async (scope: PolicyScope, subject: string) => {
    const row = await repo.get(scope, subject);
    return {
      scope,
      subject,
      config: configOf(scope, subject),
      stored: row ? (JSON.parse(row.policy) as GuardPolicyOverride) : null,
      updatedAt: row ? new Date(row.updated_at).toISOString() : null,
      updatedBy: row?.updated_by ?? null,
    };
  };

  app.get('/guard/policies', documented({ summary: "The shield's default policy and every override (config and stored)", responses: { 200: listView } }), async () => {
    const rows = await repo.list();
    return {
      default: book.defaultPolicy,
      config: ctx.config.guardPolicies,
      stored: rows.map((r) => ({ scope: r.scope, subject: r.subject, policy: JSON.parse(r.policy) as GuardPolicyOverride, updatedAt: new Date(r.updated_at).toISOString(), updatedBy: r.updated_by })),
    };
  });

  app.get('/guard/policies/:scope/:subject', documented({ summary: 'One subject’s policy overrides', params: subjectParams, responses: { 200: overrideView }, errors: [404] }), async (req) => {
    const { scope, subject } = params(req);
    const v = await view(scope, subject);
    if (!v.config && !v.stored) throw notFound(`${scope} policy`, subject);
    return v;
  });

  app.put('/guard/policies/:scope/:subject', documented({ summary: 'Set the stored policy override of a key, app or route operation', params: subjectParams, body: guardPolicyOverrideSchema, responses: { 200: overrideView }, errors: [404] }), async (req) => {
    const { scope, subject } = params(req);
    const policy = parseWith(guardPolicyOverrideSchema, req.body);
    // An override for a key or app that does not exist is a typo that would silently do nothing.
    if (scope === 'key' && !(await ctx.repos.keys.findById(subject))) throw notFound('key', subject);
    if (scope === 'app' && (await ctx.repos.apps.get(subject))?.id !== subject) throw notFound('app', subject);
    const before = await repo.get(scope, subject);
    await repo.put({ scope, subject, policy: JSON.stringify(policy), updated_at: Date.now(), updated_by: req.principal?.keyId ?? null });
    await reloadStoredPolicies(book, repo, ctx.logger);
    adminEvent(ctx, req, 'policy.changed', `${scope}:${subject}`, { scope, subject, change: before ? 'replaced' : 'created', fields: Object.keys(policy) });
    return view(scope, subject);
  });

  app.delete('/guard/policies/:scope/:subject', documented({ summary: 'Remove the stored policy override of a subject', params: subjectParams, responses: { 204: null }, errors: [404] }), async (req, reply) => {
    const { scope, subject } = params(req);
    if (!(await repo.remove(scope, subject))) throw notFound(`stored ${scope} policy`, subject);
    await reloadStoredPolicies(book, repo, ctx.logger);
    adminEvent(ctx, req, 'policy.changed', `${scope}:${subject}`, { scope, subject, change: 'removed' });
    return reply.code(204).send();
  });
}
