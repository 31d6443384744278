import { describe, expect, it } from 'vitest';
import { compileExtensionMatcher, compilePathMatcher } from './path-matcher.js';

describe('compilePathMatcher', () => {
  it('matches a prefix on segment boundaries, ignoring case and a trailing slash', () => {
    const match = compilePathMatcher(['/health']);
    expect(['/health', '/health/', '/Health/db', '/health/db/deep'].map((p) => match(p))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['/healthz', '/api/health', '/'].map((p) => match(p))).toEqual([false, false, false]);
  });

  it('matches globs: * and ? inside a segment, ** across segments', () => {
    const match = compilePathMatcher(['/users/*/avatar', '/files/**', '/v?/ping']);
    expect(match('/users/42/avatar')).toBe(true);
    expect(match('/users/42/x/avatar')).toBe(false);
    expect(match('/files/a/b/c.txt')).toBe(true);
    expect(match('/v1/ping')).toBe(true);
    expect(match('/v10/ping')).toBe(false);
  });

  it('tests regular expressions as given', () => {
    const match = compilePathMatcher([/^\/internal\/\d+$/g]);
    expect(match('/internal/12')).toBe(true);
    expect(match('/internal/12')).toBe(true); // a global flag must not make it stateful
    expect(match('/internal/x')).toBe(false);
  });

  it('also tests the route pattern when one is known', () => {
    const match = compilePathMatcher(['/users/:id']);
    expect(match('/users/42')).toBe(false);
    expect(match('/users/42', '/users/:id')).toBe(true);
  });

  it('matches nothing when there are no rules', () => {
    expect(compilePathMatcher([])('/anything')).toBe(false);
  });
});

describe('compileExtensionMatcher', () => {
  it('matches the extension of the last segment only', () => {
    const match = compileExtensionMatcher(['.css', '.png']);
    expect(match('/assets/app.CSS')).toBe(true);
    expect(match('/img/logo.png')).toBe(true);
    expect(match('/v1.css/users')).toBe(false);
    expect(match('/users')).toBe(false);
  });
});
