/**
 * Policies: what to do per category (allow, log, redact, block), how to redact, and the risk
 * at which a blocking category blocks. The schema is zod so the lead can embed it in the
 * config file; `evaluate` is a pure function of findings and policy.
 */
import { z } from 'zod';
import { riskOf } from './risk.js';
import { CATEGORIES, type Category, type Finding, type Pattern } from './types.js';

export const guardActionSchema = z.enum(['allow', 'log', 'redact', 'block'], {
  error: () => 'must be one of allow, log, redact, block',
});
export const redactionStyleSchema = z.enum(['mask', 'hash', 'tokenize'], {
  error: () => 'must be one of mask, hash, tokenize',
});

const categoryPolicySchema = (action: z.infer<typeof guardActionSchema>) =>
  z
    .object({
      action: guardActionSchema.default(action),
      /** Overrides the policy-wide redaction style for this category. */
      style: redactionStyleSchema.optional(),
      /** Overrides the policy-wide block threshold for this category. */
      blockAt: z.number({ error: () => 'must be a number from 0 to 100' }).min(0).max(100).optional(),
    })
    .strict();

function compiles(src: string, flags: string | undefined): boolean {
  try {
    new RegExp(src, `${flags ?? ''}g`);
    return true;
  } catch {
    return false;
  }
}

export const customPatternSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_]{1,40}$/, 'must be 1-40 lowercase letters, digits or underscores'),
    pattern: z.string().min(1, 'must not be empty').max(500, 'must be at most 500 characters'),
    flags: z.string().regex(/^[imsu]*$/, 'may contain only the flags i, m, s, u').optional(),
    category: z.enum(['pii', 'secret'], { error: () => 'must be pii or secret' }).default('pii'),
    score: z.number().min(0).max(100).default(50),
    /** Longest text a match can span, for the stream redactor's hold-back. */
    maxSpan: z.number().int().min(1).max(1024).default(64),
  })
  .strict()
  .refine((p) => compiles(p.pattern, p.flags), { message: 'is not a valid regular expression', path: ['pattern'] });

export const guardPolicySchema = z
  .object({
    enabled: z.boolean({ error: () => 'must be true or false' }).default(true),
    /** A category whose action is `block` blocks when its risk reaches this (0-100). */
    blockThreshold: z.number({ error: () => 'must be a number from 0 to 100' }).min(0).max(100).default(70),
    redactionStyle: redactionStyleSchema.default('mask'),
    categories: z
      .object({
        prompt_injection: categoryPolicySchema('block').prefault({}),
        secret: categoryPolicySchema('redact').prefault({}),
        pii: categoryPolicySchema('log').prefault({}),
        system_prompt_leak: categoryPolicySchema('log').prefault({}),
        exfiltration: categoryPolicySchema('redact').prefault({}),
      })
      .strict()
      .prefault({}),
    /** Scan system/developer messages for injection too (they are usually written by the app). */
    scanSystemMessages: z.boolean().default(false),
    /** The trained prompt-injection classifier (docs/shield.md, "The classifier"); on by default. */
    classifier: z.boolean({ error: () => 'must be true or false' }).default(true),
    /** Hosts answers may link or embed images from without an exfiltration finding. */
    allowedLinkHosts: z.array(z.string().min(1)).default([]),
    customPatterns: z.array(customPatternSchema).default([]),
  })
  .strict();

export type GuardPolicy = z.infer<typeof guardPolicySchema>;
export type GuardPolicyInput = z.input<typeof guardPolicySchema>;
export type GuardAction = z.infer<typeof guardActionSchema>;
export type RedactionStyle = z.infer<typeof redactionStyleSchema>;

export const defaultGuardPolicy: GuardPolicy = guardPolicySchema.parse({});

/** Parses a policy, throwing an Error whose message names each bad field. */
export function parseGuardPolicy(input: unknown): GuardPolicy {
  const r = guardPolicySchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const msg = r.error.issues.map((i) => `guard.${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new Error(`Invalid guard policy: ${msg}`);
}

const compiled = new WeakMap<GuardPolicy, Pattern[]>();

/** Custom patterns compiled once per policy object. */
export function customPatternsOf(policy: GuardPolicy): Pattern[] {
  let out = compiled.get(policy);
  if (!out) {
    out = policy.customPatterns.map((c) => ({
      id: `${c.category}.custom.${c.name}`,
      category: c.category,
      score: c.score,
      re: new RegExp(c.pattern, `${c.flags ?? ''}g`),
      maxSpan: c.maxSpan,
    }));
    compiled.set(policy, out);
  }
  return out;
}

export interface Redaction {
  path: string;
  start: number;
  end: number;
  category: Category;
  detector: string;
  style: RedactionStyle;
}

export interface Decision {
  /** The strongest action taken: block > redact > log > allow. */
  action: GuardAction;
  /** The category that blocked, when action is block. */
  blockedBy?: Category;
  redactions: Redaction[];
  /** Findings the policy wants recorded (everything not allowed). */
  logged: Finding[];
  /** Risk per category that counted toward the decision. */
  risk: number;
}

/** A finding's redaction, in its category's style (or else the policy's). */
export function redactionOf(f: Finding, policy: GuardPolicy): Redaction {
  return { ...f.span, category: f.category, detector: f.detector, style: policy.categories[f.category].style ?? policy.redactionStyle };
}

/** In a stream, `block` cannot un-send earlier text, so a blocking category redacts like `redact`. */
export function redactsInStream(policy: GuardPolicy, c: Category): boolean {
  const action = policy.categories[c].action;
  return action === 'redact' || action === 'block';
}

/** What a stream redacts of a set of findings (see redactsInStream). */
export function streamRedactions(findings: readonly Finding[], policy: GuardPolicy): Redaction[] {
  const out: Redaction[] = [];
  for (const f of findings) if (redactsInStream(policy, f.category)) out.push(redactionOf(f, policy));
  return out;
}

/** Pure: the action a policy takes on a set of findings. */
export function evaluate(findings: readonly Finding[], policy: GuardPolicy = defaultGuardPolicy): Decision {
  if (!policy.enabled || findings.length === 0) return { action: 'allow', redactions: [], logged: [], risk: 0 };
  const byCat = new Map<Category, Finding[]>();
  for (const f of findings) {
    const g = byCat.get(f.category);
    if (g) g.push(f);
    else byCat.set(f.category, [f]);
  }
  let blockedBy: Category | undefined;
  let blockRisk = -1;
  const redactions: Redaction[] = [];
  const logged: Finding[] = [];
  for (const cat of CATEGORIES) {
    const group = byCat.get(cat);
    if (!group) continue;
    const rule = policy.categories[cat];
    if (rule.action === 'allow') continue;
    logged.push(...group);
    const risk = riskOf(group);
    if (rule.action === 'block' && risk >= (rule.blockAt ?? policy.blockThreshold) && risk > blockRisk) {
      blockedBy = cat;
      blockRisk = risk;
    }
    if (rule.action === 'redact') for (const f of group) redactions.push(redactionOf(f, policy));
  }
  const risk = riskOf(logged);
  if (blockedBy) return { action: 'block', blockedBy, redactions, logged, risk };
  if (redactions.length) return { action: 'redact', redactions, logged, risk };
  return { action: logged.length ? 'log' : 'allow', redactions, logged, risk };
}

const categoryOverrideSchema = z
  .object({
    action: guardActionSchema.optional(),
    style: redactionStyleSchema.optional(),
    blockAt: z.number({ error: () => 'must be a number from 0 to 100' }).min(0).max(100).optional(),
  })
  .strict();

/**
 * A per-key, per-app or per-route policy: only the fields it sets, merged over the default
 * (see mergePolicy). Lists extend the default's: a key's allowedLinkHosts add to the global ones.
 */
export const guardPolicyOverrideSchema = z
  .object({
    enabled: z.boolean({ error: () => 'must be true or false' }).optional(),
    blockThreshold: z.number({ error: () => 'must be a number from 0 to 100' }).min(0).max(100).optional(),
    redactionStyle: redactionStyleSchema.optional(),
    categories: z
      .object({
        prompt_injection: categoryOverrideSchema.optional(),
        secret: categoryOverrideSchema.optional(),
        pii: categoryOverrideSchema.optional(),
        system_prompt_leak: categoryOverrideSchema.optional(),
        exfiltration: categoryOverrideSchema.optional(),
      })
      .strict()
      .optional(),
    scanSystemMessages: z.boolean().optional(),
    classifier: z.boolean({ error: () => 'must be true or false' }).optional(),
    allowedLinkHosts: z.array(z.string().min(1)).optional(),
    customPatterns: z.array(customPatternSchema).optional(),
  })
  .strict();

export type GuardPolicyOverride = z.infer<typeof guardPolicyOverrideSchema>;

/** Parses an override, throwing an Error whose message names each bad field. */
export function parseGuardPolicyOverride(input: unknown): GuardPolicyOverride {
  const r = guardPolicyOverrideSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  throw new Error(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
}

const defined = <T extends object>(o: T | undefined): Partial<T> => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The policy an override makes of a base: fields it sets replace the base's, per category
 * field by field; allowed hosts and custom patterns add to the base's (a pattern of the same
 * name replaces the base's).
 */
export function mergePolicy(base: GuardPolicy, o: GuardPolicyOverride): GuardPolicy {
  const categories = { ...base.categories };
  for (const c of CATEGORIES) categories[c] = { ...base.categories[c], ...defined(o.categories?.[c]) };
  const names = new Set((o.customPatterns ?? []).map((p) => p.name));
  return {
    ...base,
    ...defined({ enabled: o.enabled, blockThreshold: o.blockThreshold, redactionStyle: o.redactionStyle, scanSystemMessages: o.scanSystemMessages, classifier: o.classifier }),
    categories,
    allowedLinkHosts: [...new Set([...base.allowedLinkHosts, ...(o.allowedLinkHosts ?? [])])],
    customPatterns: [...base.customPatterns.filter((p) => !names.has(p.name)), ...(o.customPatterns ?? [])],
  };
}
