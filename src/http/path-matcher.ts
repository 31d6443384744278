import type { PathPattern } from './config.js';

/** Tests a request path (and, when known, its route pattern) against a list of path rules. */
export type PathMatcher = (path: string, route?: string) => boolean;

const GLOB_CHARS = /[*?]/;

/**
 * Compiles path rules into one test. A string without `*`/`?` is a prefix matched on segment boundaries
 * (`/health` matches `/health` and `/health/db`, not `/healthz`); with them it is a glob where `*` and `?`
 * stay inside a segment and `**` crosses segments; a RegExp is tested as is. Strings compare
 * case-insensitively and ignore a trailing slash, the way most routers match.
 */
export function compilePathMatcher(patterns: readonly PathPattern[]): PathMatcher {
  if (patterns.length === 0) return () => false;
  const prefixes: string[] = [];
  const regexes: RegExp[] = [];
  for (const pattern of patterns) {
    if (pattern instanceof RegExp) regexes.push(new RegExp(pattern.source, pattern.flags.replace('g', '')));
    else if (GLOB_CHARS.test(pattern)) regexes.push(globToRegExp(pattern));
    else prefixes.push(normalise(pattern));
  }
  const test = (candidate: string) => {
    const normal = normalise(candidate);
    for (const prefix of prefixes) {
      if (normal === prefix || prefix === '/' || normal.startsWith(`${prefix}/`)) return true;
    }
    for (const regex of regexes) if (regex.test(candidate) || regex.test(normal)) return true;
    return false;
  };
  return (path, route) => test(path) || (route !== undefined && route !== path && test(route));
}

function normalise(path: string): string {
  let out = path.toLowerCase();
  while (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out;
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*' && glob[i + 1] === '*') {
      source += '.*';
      i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}/?$`, 'i');
}

/** True when the path's last segment ends with one of the extensions (`.css`, ...). */
export function compileExtensionMatcher(extensions: readonly string[]): (path: string) => boolean {
  if (extensions.length === 0) return () => false;
  const wanted = new Set(extensions.map((e) => e.toLowerCase()));
  return (path) => {
    const slash = path.lastIndexOf('/');
    const dot = path.lastIndexOf('.');
    if (dot <= slash) return false;
    return wanted.has(path.slice(dot).toLowerCase());
  };
}
