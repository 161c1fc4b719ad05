import { describe, expect, it } from 'vitest';
import { ScopeError, compileNameMatcher, formatScopes, hasScope, parseScopes, scopeMask, type Scope } from './scopes.js';

describe('parseScopes', () => {
  it('reads the JWT form, the CLI form and lists, in canonical order without duplicates', () => {
    expect(parseScopes('write read')).toEqual(['read', 'write']);
    expect(parseScopes('admin,read')).toEqual(['read', 'admin']);
    expect(parseScopes(['write', 'write', 'read'])).toEqual(['read', 'write']);
    expect(parseScopes(' read ,  write ')).toEqual(['read', 'write']);
    expect(parseScopes('')).toEqual([]);
  });

  it('refuses unknown scopes naming them and the valid ones', () => {
    expect(() => parseScopes('read superuser')).toThrow(ScopeError);
    expect(() => parseScopes('read superuser')).toThrow("Unknown scope 'superuser'. Valid scopes are: read, write, admin.");
    expect(() => parseScopes(['READ'])).toThrow(/Unknown scope 'READ'/);
    expect(() => parseScopes(['__proto__'])).toThrow(/Unknown scope/);
  });

  it('ScopeError is a 400 with param scopes', () => {
    try {
      parseScopes('x');
    } catch (err) {
      expect((err as ScopeError).status).toBe(400);
      expect((err as ScopeError).toJSON().error).toMatchObject({ code: 'invalid_scope', param: 'scopes' });
    }
  });

  it('formats for the scope claim', () => {
    expect(formatScopes(['admin', 'read'])).toBe('read admin');
  });
});

describe('hasScope', () => {
  it('needs every requested scope', () => {
    expect(hasScope(['read', 'write'], 'write')).toBe(true);
    expect(hasScope(['read'], 'write')).toBe(false);
    expect(hasScope(['read', 'write'], ['read', 'write'])).toBe(true);
    expect(hasScope(['read'], ['read', 'write'])).toBe(false);
  });

  it('admin implies nothing else (documented choice)', () => {
    expect(hasScope(['admin'], 'write')).toBe(false);
    expect(hasScope(['admin'], 'read')).toBe(false);
    expect(hasScope(['write'], 'admin')).toBe(false);
    expect(hasScope(['admin', 'write'], ['admin', 'write'])).toBe(true);
  });

  it('works on a precomputed mask', () => {
    const mask = scopeMask(['read', 'admin']);
    expect(hasScope(mask, 'admin')).toBe(true);
    expect(hasScope(mask, 'write')).toBe(false);
  });

  it('an unknown needed scope denies instead of passing as "needs nothing"', () => {
    expect(hasScope(['read', 'write', 'admin'], 'wrtie' as Scope)).toBe(false);
    expect(hasScope(['read', 'write', 'admin'], ['read', 'bogus' as Scope])).toBe(false);
  });
});

describe('compileNameMatcher', () => {
  it('absent list: everything allowed; empty list: nothing', () => {
    expect(compileNameMatcher(undefined).allows('anything')).toBe(true);
    expect(compileNameMatcher(null).unrestricted).toBe(true);
    expect(compileNameMatcher([]).allows('gpt-4o')).toBe(false);
  });

  it('exact names and prefix globs', () => {
    const m = compileNameMatcher(['gpt-4o*', 'claude-3-5-haiku-latest']);
    expect(m.match('gpt-4o')).toBe('gpt-4o*');
    expect(m.allows('gpt-4o-mini')).toBe(true);
    expect(m.allows('gpt-4')).toBe(false);
    expect(m.allows('xgpt-4o')).toBe(false);
    expect(m.allows('claude-3-5-haiku-latest')).toBe(true);
    expect(m.allows('claude-3-5-haiku-latest2')).toBe(false);
  });

  it('glob metacharacters other than * are literal', () => {
    const m = compileNameMatcher(['gpt.4', 'a+b*']);
    expect(m.allows('gpt.4')).toBe(true);
    expect(m.allows('gptx4')).toBe(false);
    expect(m.allows('a+bc')).toBe(true);
    expect(m.allows('aabc')).toBe(false);
  });

  it('provider patterns match provider/model, and only on that provider', () => {
    const m = compileNameMatcher(['anthropic/*', 'gpt-4o*']);
    expect(m.allows('claude-3-opus', 'anthropic')).toBe(true);
    expect(m.allows('anthropic/claude-3-opus', 'anthropic')).toBe(true);
    expect(m.allows('claude-3-opus', 'openai')).toBe(false);
    // A model spelled like another provider's name on a different provider is not let through.
    expect(m.allows('anthropic/claude-3-opus', 'openrouter')).toBe(false);
    expect(m.allows('gpt-4o-mini', 'openai')).toBe(true);
    expect(m.allows('openai/gpt-4o', 'openai')).toBe(true);
  });

  it('refuses bad patterns naming them', () => {
    expect(() => compileNameMatcher(['gpt-4o', 'bad pattern'])).toThrow(/models allow-list entry 1 \('bad pattern'\)/);
    expect(() => compileNameMatcher([''], 'providers')).toThrow(/providers allow-list entry 0/);
  });
});
