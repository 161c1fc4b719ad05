/**
 * Scopes and name allow-lists (models, providers).
 *
 * Scopes do NOT imply one another: `admin` grants the admin API only, not `write` or `read`.
 * An operator credential that can mint keys should not also be able to spend money on
 * completions (and an app key never reaches the admin API), so a leak of either is contained
 * and the audit log says plainly which kind of credential did what. Grant `admin,read,write`
 * explicitly when one credential must do everything.
 */
import { GatewayError } from '../core/errors.js';

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

// A bit per scope: the request path checks a number, not a list.
const BIT: Readonly<Record<Scope, number>> = { read: 1, write: 2, admin: 4 };

export function isScope(value: string): value is Scope {
  return Object.prototype.hasOwnProperty.call(BIT, value);
}

/** Thrown for an unknown scope or a bad allow-list pattern; a 400 when it reaches a client. */
export class ScopeError extends GatewayError {
  constructor(message: string, param = 'scopes') {
    super(400, 'invalid_request_error', 'invalid_scope', message, { param });
    this.name = 'ScopeError';
  }
}

const clip = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}...` : s);

/**
 * Parses scopes from `"read write"` (JWT form), `"read,write"` (CLI form) or a list.
 * Unknown scopes are refused with a message naming them; duplicates collapse; the result is
 * in canonical order (read, write, admin).
 */
export function parseScopes(input: string | readonly string[]): Scope[] {
  const parts = typeof input === 'string' ? input.split(/[\s,]+/) : input.flatMap((s) => String(s).split(/[\s,]+/));
  let mask = 0;
  for (const raw of parts) {
    if (raw === '') continue;
    if (!isScope(raw)) {
      throw new ScopeError(`Unknown scope '${clip(raw)}'. Valid scopes are: ${SCOPES.join(', ')}.`);
    }
    mask |= BIT[raw];
  }
  return scopesFromMask(mask);
}

export function scopeMask(scopes: readonly Scope[]): number {
  let mask = 0;
  for (const s of scopes) if (isScope(s)) mask |= BIT[s];
  return mask;
}

function scopesFromMask(mask: number): Scope[] {
  return SCOPES.filter((s) => (mask & BIT[s]) !== 0);
}

/** Space-separated form for the JWT `scope` claim. */
export function formatScopes(scopes: readonly Scope[]): string {
  return scopesFromMask(scopeMask(scopes)).join(' ');
}

/**
 * True when every needed scope is granted. `granted` may be a list or a mask from `scopeMask`
 * (precompute the mask at authentication for the cheapest check). No scope implies another.
 */
export function hasScope(granted: readonly Scope[] | number, needed: Scope | readonly Scope[]): boolean {
  const have = typeof granted === 'number' ? granted : scopeMask(granted);
  const list: readonly string[] = typeof needed === 'string' ? [needed] : needed;
  let want = 0;
  for (const s of list) {
    // A typo in a route's needed scope must deny, never pass as "needs nothing".
    if (!isScope(s)) return false;
    want |= BIT[s];
  }
  return (have & want) === want;
}

// ---------------------------------------------------------------------------------------------
// Name allow-lists with simple globs: `gpt-4o*`, `anthropic/*`, `*`. Only `*` is special and it
// matches any run of characters, `/` included.

const PATTERN_SHAPE = /^[A-Za-z0-9._:@/*+-]{1,200}$/;

export interface NameMatcher {
  /** True when no restriction is configured (the list was absent). */
  readonly unrestricted: boolean;
  /**
   * Whether `model` (as the client asked for it) may be used on `provider`.
   * With a provider, patterns containing `/` are matched against `provider/model` and the
   * others against the bare model name, so `anthropic/*` cannot be satisfied by a model that
   * merely spells its name that way on another provider.
   * Returns the pattern that allowed it, or null.
   */
  match(model: string, provider?: string): string | null;
  allows(model: string, provider?: string): boolean;
}

interface Compiled {
  exact: Map<string, string>;
  globs: { re: RegExp; pattern: string }[];
}

function compileSet(patterns: readonly string[]): Compiled {
  const exact = new Map<string, string>();
  const globs: { re: RegExp; pattern: string }[] = [];
  for (const p of patterns) {
    if (!p.includes('*')) {
      exact.set(p, p);
      continue;
    }
    const body = p.split('*').map((lit) => lit.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    globs.push({ re: new RegExp(`^${body}$`, 's'), pattern: p });
  }
  return { exact, globs };
}

function matchSet(set: Compiled, value: string): string | null {
  const hit = set.exact.get(value);
  if (hit !== undefined) return hit;
  for (const g of set.globs) if (g.re.test(value)) return g.pattern;
  return null;
}

/**
 * Precompiles an allow-list. `undefined`/`null` means "no restriction"; an empty list means
 * "nothing is allowed" (an explicit, if unusual, choice). Bad patterns are refused with a
 * message naming them.
 */
export function compileNameMatcher(patterns: readonly string[] | null | undefined, what = 'models'): NameMatcher {
  if (patterns === null || patterns === undefined) {
    return { unrestricted: true, match: (model) => model, allows: () => true };
  }
  patterns.forEach((p, i) => {
    if (typeof p !== 'string' || !PATTERN_SHAPE.test(p)) {
      throw new ScopeError(
        `The ${what} allow-list entry ${i} ('${clip(String(p))}') is not valid: use letters, digits, . _ : @ / + - and * as a wildcard.`,
        what,
      );
    }
  });
  const qualified = compileSet(patterns.filter((p) => p.includes('/')));
  const bare = compileSet(patterns.filter((p) => !p.includes('/')));
  const all = compileSet(patterns);
  const match = (model: string, provider?: string): string | null => {
    if (provider === undefined) return matchSet(all, model);
    const prefix = `${provider}/`;
    const name = model.startsWith(prefix) ? model.slice(prefix.length) : model;
    return matchSet(bare, name) ?? matchSet(qualified, prefix + name);
  };
  return { unrestricted: false, match, allows: (model, provider) => match(model, provider) !== null };
}
