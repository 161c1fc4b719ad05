/**
 * Input checks shared by the admin API and the CLI, so both accept exactly the same options
 * and refuse bad ones with the same message (a 400 naming the field over HTTP, one line on
 * the command line).
 */
import { z } from 'zod';
import { parseCidr } from '../../../auth/ip-rules.js';
import { compileNameMatcher, parseScopes, type Scope } from '../../../auth/scopes.js';
import { GatewayError, errors } from '../../../core/errors.js';
import { limitsSchema, type Limits } from '../../../limits/index.js';

/** Turns the first zod issue into a 400 that names the field (`limits.rpm`, `models[0]`). */
export function zodError(err: z.ZodError, prefix = ''): GatewayError {
  const issue = err.issues[0];
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
  const where = path || 'body';
  const message = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k.slice(0, 40)}'`).join(', ')}` : issue.message;
  const param = issue.code === 'unrecognized_keys' ? [path, issue.keys[0]].filter(Boolean).join('.') : path;
  const text = issue.code === 'unrecognized_keys' && !path ? message : `'${where}' ${message}`;
  return errors.invalidBody(`Invalid request: ${text}.`, param || undefined);
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (!r.success) throw zodError(r.error, prefix);
  return r.data;
}

const DURATION = /^(\d{1,6})(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `30d`, `12h`, `15m`, `90s`, `4w` to milliseconds; null when the text is not a duration. */
export function durationMs(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m || Number(m[1]) === 0) return null;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

// Names must not look like ids: lookups accept either, and must never be ambiguous.
const ID_SHAPE = /^(key|usr|app|ipr)_[0-9a-f]{16,20}$/;
export const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._@+:-]*$/, 'must start with a letter or digit and use letters, digits, spaces and . _ @ + : -')
  .refine((s) => !ID_SHAPE.test(s), 'must not look like an id (key_..., usr_..., app_...)');

/** Identity names travel as a token's client_id by default, so no spaces. */
export const identityNameSchema = nameSchema.refine((s) => !s.includes(' '), 'must not contain spaces');

const clientIdSchema = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 printable characters without spaces');
const nameList = z.array(z.string().max(200, 'must be at most 200 characters')).max(500, 'must have at most 500 entries');
const expiresAtSchema = z.union([z.number().int('must be epoch milliseconds or an ISO date').positive('must be in the future'), z.string().max(40), z.null()]);
const idRef = z.string().min(1).max(100);

/** The fields a key can be created or updated with (JSON, camelCase). */
export const keyFieldsSchema = z
  .object({
    name: nameSchema,
    scopes: z.union([z.array(z.string().max(20)).max(10), z.string().max(100)]),
    userId: idRef.nullable(),
    appId: idRef.nullable(),
    clientId: clientIdSchema.nullable(),
    models: nameList.nullable(),
    providers: nameList.nullable(),
    /** Route patterns such as /v1/chat/completions or /anthropic/* (see docs/security-model.md). */
    routes: nameList.nullable(),
    ipAllow: z.array(z.string().max(100)).max(1000, 'must have at most 1000 entries').nullable(),
    limits: limitsSchema.nullable(),
    expiresAt: expiresAtSchema,
    /** Lifetime from now, such as 30d: an alternative to expiresAt. */
    expiresIn: z.string().max(20),
  })
  .partial()
  .strict();

export type KeyFieldsInput = z.infer<typeof keyFieldsSchema>;

/** Checked and normalised; `userId` / `appId` may still be names until resolved. */
export interface KeyFields {
  name?: string;
  scopes?: Scope[];
  userId?: string | null;
  appId?: string | null;
  clientId?: string | null;
  models?: string[] | null;
  providers?: string[] | null;
  routes?: string[] | null;
  ipAllow?: string[] | null;
  limits?: Limits | null;
  expiresAt?: number | null;
}

/** Validates key fields: shape (zod), then scopes, allow-list patterns and CIDRs. Throws a 400. */
export function checkKeyFields(input: unknown, mode: 'create' | 'update', now = Date.now()): KeyFields {
  const raw = parseWith(keyFieldsSchema, input);
  if (mode === 'create' && raw.name === undefined) throw errors.invalidBody("Invalid request: 'name' is required.", 'name');
  if (raw.expiresAt !== undefined && raw.expiresIn !== undefined) throw errors.invalidBody("Invalid request: give 'expiresAt' or 'expiresIn', not both.", 'expiresIn');
  const out: KeyFields = {};
  for (const k of ['name', 'userId', 'appId', 'clientId', 'models', 'providers', 'routes', 'ipAllow', 'limits'] as const) {
    if (raw[k] !== undefined) (out as Record<string, unknown>)[k] = raw[k];
  }
  if (raw.scopes !== undefined) {
    out.scopes = parseScopes(raw.scopes);
    if (out.scopes.length === 0) throw errors.invalidBody("Invalid request: 'scopes' must name at least one of read, write, admin.", 'scopes');
  } else if (mode === 'create') {
    out.scopes = ['read', 'write'];
  }
  if (out.models) compileNameMatcher(out.models, 'models');
  if (out.providers) compileNameMatcher(out.providers, 'providers');
  if (out.routes) {
    compileNameMatcher(out.routes, 'routes');
    const i = out.routes.findIndex((r) => !r.startsWith('/'));
    if (i !== -1) throw errors.invalidBody(`Invalid request: 'routes[${i}]' must be a path starting with /, such as /v1/chat/completions or /anthropic/*.`, `routes[${i}]`);
  }
  if (out.ipAllow) {
    const list = out.ipAllow;
    list.forEach((entry, i) => checkCidr(entry, `ipAllow[${i}]`));
  }
  if (raw.expiresIn !== undefined) {
    const ms = durationMs(raw.expiresIn);
    if (ms === null) throw errors.invalidBody(`Invalid request: 'expiresIn' must look like 30d, 12h, 15m or 4w.`, 'expiresIn');
    out.expiresAt = now + ms;
  } else if (raw.expiresAt !== undefined) {
    out.expiresAt = toEpochMs(raw.expiresAt);
    if (out.expiresAt !== null && out.expiresAt <= now) throw errors.invalidBody("Invalid request: 'expiresAt' must be in the future.", 'expiresAt');
  }
  return out;
}

function toEpochMs(v: number | string | null): number | null {
  if (v === null || typeof v === 'number') return v;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw errors.invalidBody("Invalid request: 'expiresAt' must be an ISO date such as 2030-01-31T00:00:00Z, epoch milliseconds, or null.", 'expiresAt');
  return ms;
}

/** The same error with the field the client sent (compileIpRules names its own entry). */
function withParam(err: unknown, param: string): unknown {
  if (!(err instanceof GatewayError)) return err;
  return new GatewayError(err.status, err.type, err.code, err.message, { param });
}

export const identityCreateSchema = z
  .object({ name: identityNameSchema, limits: limitsSchema.nullable().optional(), appId: idRef.nullable().optional() })
  .strict();

export const identityUpdateSchema = z
  .object({ name: identityNameSchema, limits: limitsSchema.nullable(), appId: idRef.nullable(), disabled: z.boolean() })
  .partial()
  .strict();

export const ipRuleCreateSchema = z
  .object({
    list: z.enum(['allow', 'deny'], { error: "must be 'allow' or 'deny'" }),
    cidr: z.string().min(1).max(100),
    note: z.string().max(200).nullable().optional(),
    /** Needed to add a rule that would refuse the address the request came from. */
    force: z.boolean().optional(),
  })
  .strict();

/** Checks one CIDR the way start-up does; a 400 naming the field when it is not valid. */
export function checkCidr(cidr: string, where = 'cidr'): void {
  try {
    parseCidr(cidr, where);
  } catch (err) {
    throw withParam(err, where);
  }
}
