import { z } from 'zod';
import type { Auditor } from '../core/auditor.js';
import { type EnvironmentOverride, parseWithEnvironment } from '../core/environment.js';
import type { KeyInput } from '../integrity/keys.js';
import { ROLES, type UiUser } from './auth/roles.js';

const tenantsSchema = z.array(z.string().min(1)).optional();

/** A built-in user who logs in with a password (stored as an argon2 hash, see `hashPassword`). */
export const uiUserConfigSchema = z.strictObject({
  username: z.string().min(1).max(200),
  /** An argon2 hash, `$argon2id$...`; never the password itself. */
  passwordHash: z.string().startsWith('$argon2', 'passwordHash must be an argon2 hash (see hashPassword)'),
  role: z.enum(ROLES),
  /** Organisations this user may see; absent means every organisation. */
  tenants: tenantsSchema,
  /** Shown in the header and recorded as the actor label. */
  name: z.string().optional(),
});

/** A bearer token for scripts and service accounts (`Authorization: Bearer <token>`). */
export const uiTokenConfigSchema = z.strictObject({
  /** The secret itself, at least 32 characters; compared in constant time. */
  token: z.string().min(32, 'a UI token must be at least 32 characters'),
  /** Recorded as the actor id of what the token does. */
  id: z.string().min(1),
  role: z.enum(ROLES),
  tenants: tenantsSchema,
  name: z.string().optional(),
});

/** What the host app's own `authorize` hook receives. */
export interface AuthorizeInput {
  /** The request as seen by the UI (Fetch API). */
  request: Request;
  /** The framework's own request object (Express `req`, Fastify `request`, Hono context, node `req`). */
  native: unknown;
}

/** The host app's own sessions: return the UI user of this request, or null when it has none. */
export type Authorize = (
  input: AuthorizeInput,
) => UiUser | null | undefined | Promise<UiUser | null | undefined>;

const json = (value: string) => {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value; // the schema rejects it, naming the variable
  }
};

export const auditUiOptionsSchema = z.strictObject({
  /** The auditor whose store the UI shows; UI actions are recorded through it. */
  audit: z.custom<Auditor>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      typeof (v as Auditor).record === 'function' &&
      typeof (v as Auditor).store === 'object',
    { message: 'audit must be an Auditor (createAuditor())' },
  ),
  /** Where the UI is mounted, e.g. `/audit` (default: the root). */
  basePath: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'basePath must look like /audit (no trailing slash)')
    .default(''),
  users: z.array(uiUserConfigSchema).default([]),
  tokens: z.array(uiTokenConfigSchema).default([]),
  authorize: z.custom<Authorize>((v) => typeof v === 'function').optional(),
  /** Signs session cookies and CSRF tokens; at least 32 characters. Default: random per process. */
  sessionSecret: z.string().min(32, 'sessionSecret must be at least 32 characters').optional(),
  /** How long a login lasts (default 8 hours). */
  sessionTtlMs: z
    .number()
    .int()
    .min(60_000)
    .max(7 * 24 * 3_600_000)
    .default(8 * 3_600_000),
  /** `Secure` cookies: always, never, or `auto` (when the request came over https). */
  secureCookies: z.union([z.boolean(), z.literal('auto')]).default('auto'),
  /** Failed logins allowed per user name and client address in a window (default 5 per 15 minutes). */
  loginRateLimit: z
    .strictObject({
      max: z.number().int().min(1).default(5),
      windowMs: z.number().int().min(1000).default(900_000),
    })
    .default({ max: 5, windowMs: 900_000 }),
  /** Shown in the header and the page titles. */
  title: z.string().min(1).max(100).default('Auditkit'),
  /** Events per page of the list (default 50). */
  pageSize: z.number().int().min(10).max(500).default(50),
  /** Public key that `verify now` checks checkpoint signatures against. */
  publicKey: z
    .custom<KeyInput>(
      (v) => typeof v === 'string' || Buffer.isBuffer(v) || (typeof v === 'object' && v !== null),
    )
    .optional(),
  /** The clock; tests replace it. */
  now: z.custom<() => Date>((v) => typeof v === 'function').optional(),
});

export type AuditUiOptions = z.input<typeof auditUiOptionsSchema>;
export type ResolvedAuditUiOptions = z.output<typeof auditUiOptionsSchema>;
export type UiUserConfig = z.input<typeof uiUserConfigSchema>;
export type UiTokenConfig = z.input<typeof uiTokenConfigSchema>;

/** `AUDITKIT_UI_*` variables; they win over code, so operators can change a deployed UI. */
export const UI_ENVIRONMENT: Readonly<Record<string, EnvironmentOverride>> = {
  AUDITKIT_UI_BASE_PATH: { path: ['basePath'], parse: (v) => v },
  AUDITKIT_UI_SESSION_SECRET: { path: ['sessionSecret'], parse: (v) => v },
  AUDITKIT_UI_SESSION_TTL_MS: { path: ['sessionTtlMs'], parse: Number },
  AUDITKIT_UI_USERS: { path: ['users'], parse: json },
  AUDITKIT_UI_TOKENS: { path: ['tokens'], parse: json },
  AUDITKIT_UI_TITLE: { path: ['title'], parse: (v) => v },
};

/** Validates the UI options (with `AUDITKIT_UI_*` overrides); problems throw `invalid_config`. */
export function resolveAuditUiOptions(
  options: AuditUiOptions,
  env: Record<string, string | undefined> = process.env,
): ResolvedAuditUiOptions {
  return parseWithEnvironment(auditUiOptionsSchema, options, UI_ENVIRONMENT, env, 'Invalid admin UI options');
}
