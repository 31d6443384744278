import type { z } from 'zod';
import { AuditkitError } from './errors.js';

/** An `AUDITKIT_*` variable: the option path it overrides and how its text becomes a value. */
export interface EnvironmentOverride {
  readonly path: readonly string[];
  readonly parse: (value: string) => unknown;
}

/**
 * Applies environment overrides to `options` (the environment wins over code, so operators can change a
 * deployed app), then validates with `schema`. Problems throw `invalid_config` naming each field and,
 * when the value came from there, the variable. `applies` may skip an override (e.g. a nested one whose
 * parent is absent).
 */
export function parseWithEnvironment<S extends z.ZodType>(
  schema: S,
  options: object,
  overrides: Readonly<Record<string, EnvironmentOverride>>,
  env: Record<string, string | undefined>,
  title: string,
  applies: (override: EnvironmentOverride, merged: Record<string, unknown>) => boolean = () => true,
): z.output<S> {
  const merged: Record<string, unknown> = { ...options };
  const fromEnv = new Map<string, string>();
  for (const [name, override] of Object.entries(overrides)) {
    const raw = env[name];
    if (raw === undefined || raw === '' || !applies(override, merged)) continue;
    fromEnv.set(override.path.join('.'), name);
    setPath(merged, override.path, override.parse(raw));
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.') || '(options)';
      const envName = [...fromEnv].find(([p]) => path === p || path.startsWith(`${p}.`))?.[1];
      return `${path}${envName ? ` (from ${envName})` : ''}: ${issue.message}`;
    });
    throw new AuditkitError('invalid_config', `${title}:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  return result.data;
}

/** `true`/`false` words of environment variables; anything else is left for the schema to reject. */
export function parseBoolean(value: string): boolean | string {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  return value;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node[key] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...next } : {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}
