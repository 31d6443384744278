import { z } from 'zod';
import type { ActorLike } from '../core/context.js';
import { parseBoolean, parseWithEnvironment } from '../core/environment.js';
import type { Notifier } from '../notify/notifier.js';

/** Static files nobody wants in an audit trail. Requests for them produce no access event by default. */
export const DEFAULT_EXCLUDED_EXTENSIONS = [
  '.css',
  '.js',
  '.mjs',
  '.map',
  '.png',
  '.jpg',
  '.jpeg',
  '.gif',
  '.svg',
  '.ico',
  '.webp',
  '.avif',
  '.woff',
  '.woff2',
  '.ttf',
  '.eot',
] as const;

/** A path rule: a prefix (`/health`), a glob (`/api/*\/avatar`, `**` crosses `/`), or a RegExp. */
export type PathPattern = string | RegExp;

/** What a status rule names: an exact status (`404`) or a class (`'2xx'`). */
export type StatusPattern = number | `${1 | 2 | 3 | 4 | 5}xx`;

/** One sampling rule; the first rule matching a request's method and status gives its keep rate. */
export interface SamplingRule {
  /** Methods this rule covers (any when omitted), e.g. `['GET', 'HEAD']`. */
  methods?: string[];
  /** Statuses this rule covers (any when omitted), e.g. `['2xx', 304]`. */
  statuses?: StatusPattern[];
  /** Share of matching requests kept, 0..1. */
  rate: number;
}

type MaybePromise<T> = T | Promise<T>;

/** JWT bearer verification for the default actor (via `jose`). Give one of `secret`, `publicKey`, `jwksUrl`. */
export interface JwtOptions {
  /** Shared secret for HS256/384/512. */
  secret?: string;
  /** PEM (SPKI) public key for RS*, PS*, ES* or EdDSA; give `algorithms` when it is not RS256. */
  publicKey?: string;
  /** URL of a JSON Web Key Set (fetched and cached by jose). */
  jwksUrl?: string;
  issuer?: string | string[];
  audience?: string | string[];
  algorithms?: string[];
  /** Claim holding the actor id. Default `sub`. */
  idClaim?: string;
  /** Claims tried in order for the actor label. Default `name`, `preferred_username`, `email`. */
  labelClaims?: string[];
  /** Claim holding the tenant id (e.g. `org_id`); when set, a verified token also sets the tenant. */
  tenantClaim?: string;
  /** Tolerated clock skew in seconds. Default 5. */
  clockToleranceSeconds?: number;
}

/** Error notices: who gets them and how many an error storm may send. */
export interface NotifyOptions {
  notifiers: Notifier[];
  /** Most notices sent per window; the rest are counted and mentioned in the next notice. Default 5. */
  maxNotices?: number;
  /** The rate-limit window. Default 60 000 ms. */
  windowMs?: number;
  /** Attempts after the first for each notifier. Default 2. */
  retries?: number;
  /** First retry delay, doubled each attempt. Default 200 ms. */
  retryDelayMs?: number;
}

/** The rotating JSON-lines access log written beside the database. */
export interface AccessLogOptions {
  /** Directory of `access.log` and its rotated siblings `access.log.1` ... */
  dir: string;
  /** Size at which the file rotates. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept. Default 5. */
  maxFiles?: number;
}

/**
 * Options of every HTTP adapter. `Req` is what the framework hands a handler: Express `req`, Fastify
 * `request`, Hono `c`. Each option has an `AUDITKIT_HTTP_*` override (see `HTTP_ENVIRONMENT_OVERRIDES`).
 */
export interface HttpAuditOptions<Req = unknown> {
  /** Turns the adapter into a pass-through. Default true. */
  enabled?: boolean;
  /** Store request bodies (masked, cut at `maxBodyLength`). Default true. */
  logRequestBody?: boolean;
  /** Store response bodies (masked, cut at `maxBodyLength`). Default false. */
  logResponseBody?: boolean;
  /** Bytes of each body kept; the rest is counted, never buffered. Default 8192. */
  maxBodyLength?: number;
  /** Keep whole bodies whatever their size (also raise the auditor's `redact.maxValueLength`). Default false. */
  saveFullBody?: boolean;
  /** Requests that produce no access event. */
  excludePaths?: PathPattern[];
  /** File extensions that produce no access event. Default: styles, scripts, images, fonts. */
  excludeExtensions?: string[];
  /** When not empty, only these paths produce access events. */
  includePaths?: PathPattern[];
  /** Paths or routes whose bodies are never stored (uploads, password endpoints). */
  skipBodyFor?: PathPattern[];
  /** Field names masked in JSON, form and query bodies, on top of the auditor's defaults. */
  sensitiveFields?: string[];
  /** Header names masked, on top of the auditor's defaults (authorization, cookie, *token*, ...). */
  sensitiveHeaders?: string[];
  /** Which `X-Forwarded-For` hops to believe: false (socket address), true (all), a hop count, or addresses/CIDRs. */
  trustProxy?: boolean | number | string[];
  /** Header carrying the request id, taken when valid, generated otherwise. Default `x-request-id`. */
  requestIdHeader?: string;
  /** Echo the request id in the response. Default true. */
  echoRequestId?: boolean;
  /** Who is acting. Default: a verified JWT bearer (when `jwt` is set), then the framework's user object. */
  actor?: (req: Req) => MaybePromise<ActorLike | null | undefined>;
  /** The tenant of the request; called when it starts, and again at the end if it had none. */
  tenant?: (req: Req) => MaybePromise<string | null | undefined>;
  /** Extra data for the access event's metadata, called once the response is sent. */
  extra?: (req: Req) => Record<string, unknown> | null | undefined;
  jwt?: JwtOptions;
  /** Keep rates per method and status, decided after the response; failures and auth routes are always kept. */
  sampling?: { rate?: number; rules?: SamplingRule[] };
  /** Requests here also produce an `auth` event `user.login`. */
  loginPaths?: PathPattern[];
  /** Requests here also produce an `auth` event `user.logout`. */
  logoutPaths?: PathPattern[];
  /** Send notices for error events. */
  notify?: NotifyOptions;
  /** Also append access events to rotating JSON-lines files. Default off. */
  accessLog?: AccessLogOptions | false;
}

const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `${what} must be a function` });
const pathPattern = z.union([z.string().min(1), z.instanceof(RegExp)]);
const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const statusPattern = z.union([
  z.number().int().min(100).max(599),
  z.enum(['1xx', '2xx', '3xx', '4xx', '5xx']),
]);
const rate = z.number().min(0).max(1);

export const httpAuditOptionsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  logRequestBody: z.boolean().default(true),
  logResponseBody: z.boolean().default(false),
  maxBodyLength: z.number().int().min(0).default(8192),
  saveFullBody: z.boolean().default(false),
  excludePaths: z.array(pathPattern).default([]),
  excludeExtensions: z
    .array(z.string().regex(/^\.[^./]+$/, 'an extension looks like ".css"'))
    .default([...DEFAULT_EXCLUDED_EXTENSIONS]),
  includePaths: z.array(pathPattern).default([]),
  skipBodyFor: z.array(pathPattern).default([]),
  sensitiveFields: z.array(z.string().min(1)).default([]),
  sensitiveHeaders: z.array(z.string().min(1)).default([]),
  trustProxy: z.union([z.boolean(), z.number().int().min(0), z.array(z.string().min(1))]).default(false),
  requestIdHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'a header name has letters, digits and dashes')
    .transform((v) => v.toLowerCase())
    .default('x-request-id'),
  echoRequestId: z.boolean().default(true),
  actor: fn<NonNullable<HttpAuditOptions['actor']>>('actor').optional(),
  tenant: fn<NonNullable<HttpAuditOptions['tenant']>>('tenant').optional(),
  extra: fn<NonNullable<HttpAuditOptions['extra']>>('extra').optional(),
  jwt: z
    .strictObject({
      secret: z.string().min(1).optional(),
      publicKey: z.string().min(1).optional(),
      jwksUrl: z.url().optional(),
      issuer: stringOrList.optional(),
      audience: stringOrList.optional(),
      algorithms: z.array(z.string().min(1)).optional(),
      idClaim: z.string().min(1).default('sub'),
      labelClaims: z.array(z.string().min(1)).default(['name', 'preferred_username', 'email']),
      tenantClaim: z.string().min(1).optional(),
      clockToleranceSeconds: z.number().min(0).default(5),
    })
    .refine(
      (j) => [j.secret, j.publicKey, j.jwksUrl].filter((v) => v !== undefined).length === 1,
      'jwt needs exactly one of secret, publicKey or jwksUrl',
    )
    .optional(),
  sampling: z
    .strictObject({
      rate: rate.default(1),
      rules: z
        .array(
          z.strictObject({
            methods: z
              .array(
                z
                  .string()
                  .min(1)
                  .transform((m) => m.toUpperCase()),
              )
              .optional(),
            statuses: z.array(statusPattern).optional(),
            rate,
          }),
        )
        .default([]),
    })
    .default({ rate: 1, rules: [] }),
  loginPaths: z.array(pathPattern).default([]),
  logoutPaths: z.array(pathPattern).default([]),
  notify: z
    .strictObject({
      notifiers: z.array(
        z.custom<Notifier>(
          (v) => typeof v === 'object' && v !== null && typeof (v as Notifier).notify === 'function',
          { message: 'each notifier must have a notify(notice) method' },
        ),
      ),
      maxNotices: z.number().int().min(0).default(5),
      windowMs: z.number().int().positive().default(60_000),
      retries: z.number().int().min(0).max(10).default(2),
      retryDelayMs: z.number().int().min(0).default(200),
    })
    .optional(),
  accessLog: z
    .union([
      z.literal(false),
      z.strictObject({
        dir: z.string().min(1),
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024),
        maxFiles: z.number().int().min(1).max(100).default(5),
      }),
    ])
    .default(false),
});

export type ResolvedHttpAuditOptions = z.output<typeof httpAuditOptionsSchema>;

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
/** Path lists from the environment: comma-separated; an entry written `re:<source>` is a RegExp. */
const patternList = (v: string) => list(v).map((s) => (s.startsWith('re:') ? new RegExp(s.slice(3)) : s));
const json = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v; // left for zod to reject, naming the variable
  }
};
const bool = parseBoolean;
const num = (v: string) => (v.trim() === '' || Number.isNaN(Number(v)) ? v : Number(v));
const trustProxy = (v: string): unknown => {
  const b = bool(v);
  if (typeof b === 'boolean') return b;
  if (/^\d+$/.test(v.trim())) return Number(v);
  return list(v);
};

/** `AUDITKIT_HTTP_*` variables and the option each one overrides (callables have none). */
export const HTTP_ENVIRONMENT_OVERRIDES: Record<string, { path: string[]; parse: (v: string) => unknown }> = {
  AUDITKIT_HTTP_ENABLED: { path: ['enabled'], parse: bool },
  AUDITKIT_HTTP_LOG_REQUEST_BODY: { path: ['logRequestBody'], parse: bool },
  AUDITKIT_HTTP_LOG_RESPONSE_BODY: { path: ['logResponseBody'], parse: bool },
  AUDITKIT_HTTP_MAX_BODY_LENGTH: { path: ['maxBodyLength'], parse: num },
  AUDITKIT_HTTP_SAVE_FULL_BODY: { path: ['saveFullBody'], parse: bool },
  AUDITKIT_HTTP_EXCLUDE_PATHS: { path: ['excludePaths'], parse: patternList },
  AUDITKIT_HTTP_EXCLUDE_EXTENSIONS: { path: ['excludeExtensions'], parse: list },
  AUDITKIT_HTTP_INCLUDE_PATHS: { path: ['includePaths'], parse: patternList },
  AUDITKIT_HTTP_SKIP_BODY_FOR: { path: ['skipBodyFor'], parse: patternList },
  AUDITKIT_HTTP_SENSITIVE_FIELDS: { path: ['sensitiveFields'], parse: list },
  AUDITKIT_HTTP_SENSITIVE_HEADERS: { path: ['sensitiveHeaders'], parse: list },
  AUDITKIT_HTTP_TRUST_PROXY: { path: ['trustProxy'], parse: trustProxy },
  AUDITKIT_HTTP_REQUEST_ID_HEADER: { path: ['requestIdHeader'], parse: (v) => v },
  AUDITKIT_HTTP_ECHO_REQUEST_ID: { path: ['echoRequestId'], parse: bool },
  AUDITKIT_HTTP_JWT_SECRET: { path: ['jwt', 'secret'], parse: (v) => v },
  AUDITKIT_HTTP_JWT_PUBLIC_KEY: { path: ['jwt', 'publicKey'], parse: (v) => v },
  AUDITKIT_HTTP_JWT_JWKS_URL: { path: ['jwt', 'jwksUrl'], parse: (v) => v },
  AUDITKIT_HTTP_JWT_ISSUER: { path: ['jwt', 'issuer'], parse: (v) => v },
  AUDITKIT_HTTP_JWT_AUDIENCE: { path: ['jwt', 'audience'], parse: (v) => v },
  AUDITKIT_HTTP_JWT_TENANT_CLAIM: { path: ['jwt', 'tenantClaim'], parse: (v) => v },
  AUDITKIT_HTTP_SAMPLE_RATE: { path: ['sampling', 'rate'], parse: num },
  AUDITKIT_HTTP_SAMPLING_RULES: { path: ['sampling', 'rules'], parse: json },
  AUDITKIT_HTTP_LOGIN_PATHS: { path: ['loginPaths'], parse: patternList },
  AUDITKIT_HTTP_LOGOUT_PATHS: { path: ['logoutPaths'], parse: patternList },
  AUDITKIT_HTTP_NOTIFY_MAX_NOTICES: { path: ['notify', 'maxNotices'], parse: num },
  AUDITKIT_HTTP_NOTIFY_WINDOW_MS: { path: ['notify', 'windowMs'], parse: num },
  AUDITKIT_HTTP_ACCESS_LOG_DIR: {
    path: ['accessLog'],
    parse: (v) => (/^(0|false|no|off)$/i.test(v) ? false : { dir: v }),
  },
  AUDITKIT_HTTP_ACCESS_LOG_MAX_BYTES: { path: ['accessLog', 'maxBytes'], parse: num },
  AUDITKIT_HTTP_ACCESS_LOG_MAX_FILES: { path: ['accessLog', 'maxFiles'], parse: num },
};

/**
 * Validates HTTP adapter options and applies `AUDITKIT_HTTP_*` overrides from `env` (the environment
 * wins over code, so operators can change a deployed app). Unknown keys and bad values throw
 * `invalid_config`, naming the field and, when it came from there, the variable.
 *
 * @example
 * const options = resolveHttpAuditOptions({ loginPaths: ['/login'] });
 */
export function resolveHttpAuditOptions<Req>(
  options: HttpAuditOptions<Req> = {},
  env: Record<string, string | undefined> = process.env,
): ResolvedHttpAuditOptions {
  return parseWithEnvironment(
    httpAuditOptionsSchema,
    options,
    HTTP_ENVIRONMENT_OVERRIDES,
    env,
    'Invalid HTTP audit options',
    // A nested override (notify.*, accessLog.*) only makes sense when its parent exists or is made here.
    ({ path }, merged) =>
      !(path.length > 1 && path[0] === 'notify' && merged.notify === undefined) &&
      !(path.length > 1 && path[0] === 'accessLog' && !merged.accessLog),
  );
}

/** Compile-time check that the documented options interface and the schema accept the same shapes. */
type Assert<T extends true> = T;
type SchemaInput = z.input<typeof httpAuditOptionsSchema>;
export type _HttpOptionsMatchSchema = Assert<
  HttpAuditOptions<unknown> extends SchemaInput
    ? [
        Exclude<keyof SchemaInput, keyof HttpAuditOptions>,
        Exclude<keyof HttpAuditOptions, keyof SchemaInput>,
      ] extends [never, never]
      ? true
      : false
    : false
>;
