import { z } from 'zod';
import { notifyOptionsSchema } from '../errors-log/notify-options.js';
import type { IntegrityOptions } from '../integrity/auditor-integrity.js';
import { type RetentionPolicy, retentionPolicySchema } from '../retention/policy.js';
import type { TenantsOf } from '../security/tenant-fan-out.js';
import type { AuditStore } from '../store/store.js';
import { parseBoolean, parseWithEnvironment } from './environment.js';
import type { AuditkitError } from './errors.js';
import type { Redactor } from './redact.js';

/** A pino-compatible logger: Auditkit never prints, it reports here (and to `onError`). */
export interface AuditLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

const storeSchema = z.custom<AuditStore>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AuditStore).append === 'function' &&
    typeof (value as AuditStore).query === 'function',
  { message: 'store must be an AuditStore (for example pgliteStore() or postgresStore())' },
);

const positiveInt = z.number().int().positive();

export const auditorOptionsSchema = z
  .strictObject({
    /** Where events go. Default: PostgreSQL at AUDITKIT_DATABASE_URL when set, else PGlite in `./audit-data`. */
    store: storeSchema.optional(),
    /** `async` (default) batches writes in the background; `sync` writes before `record()` resolves. */
    mode: z.enum(['async', 'sync']).default('async'),
    batchSize: positiveInt.max(50_000).default(500),
    flushIntervalMs: positiveInt.max(60_000).default(200),
    /** Events held in memory before the overflow goes to the spool. */
    maxQueueSize: positiveInt.default(10_000),
    retry: z
      .strictObject({
        retries: z.number().int().min(0).max(20).default(3),
        minDelayMs: z.number().int().min(0).default(50),
        maxDelayMs: z.number().int().min(0).default(2000),
      })
      .default({ retries: 3, minDelayMs: 50, maxDelayMs: 2000 }),
    /** Directory of the durable spool used during outages, or false to keep failed batches in memory only. */
    spool: z
      .union([z.literal(false), z.strictObject({ dir: z.string().min(1) })])
      .default({ dir: '.auditkit/spool' }),
    /** Journal every event to the spool before `record()` resolves, so even SIGKILL loses nothing. */
    journal: z.boolean().default(false),
    /** Let audit failures reach the caller instead of only `onError`. */
    raiseOnError: z.boolean().default(false),
    onError: z.custom<(error: AuditkitError) => void>((v) => typeof v === 'function').optional(),
    logger: z
      .custom<AuditLogger>(
        (v) => typeof v === 'object' && v !== null && typeof (v as AuditLogger).error === 'function',
      )
      .optional(),
    /** Masking and truncation, see `RedactionOptions`; or a custom `Redactor`. */
    redact: z
      .union([
        z.custom<Redactor>(
          (v) => typeof v === 'object' && v !== null && typeof (v as Redactor).redactEvent === 'function',
        ),
        z.strictObject({
          keys: z.array(z.string()).optional(),
          keyPatterns: z.array(z.instanceof(RegExp)).optional(),
          valuePatterns: z.array(z.instanceof(RegExp)).optional(),
          maxValueLength: positiveInt.optional(),
          maxDepth: positiveInt.optional(),
          maxArrayLength: positiveInt.optional(),
          maxKeys: positiveInt.optional(),
          defaultKeys: z.boolean().optional(),
        }),
      ])
      .optional(),
    /** Tenant for events recorded outside any context that names one. */
    tenantId: z.string().optional(),
    /**
     * The organisations a user belongs to: security events about a person (a login, a password or 2FA
     * change) are written once per organisation, the copies sharing a `correlationId`.
     */
    tenantsOf: z
      .custom<TenantsOf>((v) => typeof v === 'function', { message: 'tenantsOf must be a function' })
      .optional(),
    /** Notices for the errors `captureErrors` records (retried with backoff, rate-limited). Default none. */
    notify: notifyOptionsSchema.optional(),
    /**
     * Tamper evidence: seal events into per-tenant hash chains with signed checkpoints, in the background
     * (SQL stores). `{}` seals with unsigned checkpoints; give `signingKey` to sign them. Default off.
     */
    integrity: z
      .union([
        z.literal(false),
        z.strictObject({
          signingKey: z
            .custom<NonNullable<IntegrityOptions['signingKey']>>((v) => v !== undefined && v !== null, {
              message: 'signingKey must be PEM text, a PEM file path or a KeyObject',
            })
            .optional(),
          intervalMs: positiveInt.optional(),
          checkpointEvery: positiveInt.optional(),
          checkpointIntervalMs: z.number().int().min(0).optional(),
          batchSize: positiveInt.max(50_000).optional(),
        }),
      ])
      .default(false),
    /** How long each category is kept, used by `audit.cleanup()`; e.g. `{ categories: { access: 90 } }`. */
    retention: z
      .custom<RetentionPolicy>((v) => retentionPolicySchema.safeParse(v).success, {
        message: 'retention must look like { days?: number, categories?: { access: 90, change: "forever" } }',
      })
      .optional(),
  })
  .refine((o) => !(o.journal && o.spool === false), {
    message:
      'journal: true needs a spool directory (the journal lives in it); set spool: { dir } or turn the journal off',
    path: ['journal'],
  });

export type AuditorOptions = z.input<typeof auditorOptionsSchema>;
export type ResolvedAuditorOptions = z.output<typeof auditorOptionsSchema>;

/** `AUDITKIT_*` variables and the option each one overrides. */
export const ENVIRONMENT_OVERRIDES = {
  AUDITKIT_MODE: { path: ['mode'], parse: (v: string) => v },
  AUDITKIT_BATCH_SIZE: { path: ['batchSize'], parse: Number },
  AUDITKIT_FLUSH_INTERVAL_MS: { path: ['flushIntervalMs'], parse: Number },
  AUDITKIT_MAX_QUEUE_SIZE: { path: ['maxQueueSize'], parse: Number },
  AUDITKIT_SPOOL_DIR: {
    path: ['spool'],
    parse: (v: string) => (v === 'off' || v === 'false' ? false : { dir: v }),
  },
  AUDITKIT_JOURNAL: { path: ['journal'], parse: parseBoolean },
  AUDITKIT_RAISE_ON_ERROR: { path: ['raiseOnError'], parse: parseBoolean },
  AUDITKIT_TENANT_ID: { path: ['tenantId'], parse: (v: string) => v },
  AUDITKIT_MAX_VALUE_LENGTH: { path: ['redact', 'maxValueLength'], parse: Number },
  AUDITKIT_SIGNING_KEY: { path: ['integrity', 'signingKey'], parse: (v: string) => v },
  AUDITKIT_SEAL_INTERVAL_MS: { path: ['integrity', 'intervalMs'], parse: Number },
} as const;

/**
 * Validates auditor options and applies `AUDITKIT_*` overrides from `env`.
 * Unknown keys and bad values throw `invalid_config` naming each problem.
 */
export function resolveAuditorOptions(
  options: AuditorOptions = {},
  env: Record<string, string | undefined> = process.env,
): ResolvedAuditorOptions {
  return parseWithEnvironment(
    auditorOptionsSchema,
    options,
    ENVIRONMENT_OVERRIDES,
    env,
    'Invalid Auditkit configuration',
  );
}
