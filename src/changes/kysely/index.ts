/**
 * `auditkit/kysely`: app-level change capture for Kysely (an optional peer dependency).
 *
 * @example
 * import { auditDialect, withoutAuditing } from 'auditkit/kysely';
 * const db = new Kysely<DB>({ dialect: auditDialect(new PostgresDialect({ pool }), audit) });
 */
export {
  type ChangeCaptureOptions,
  type ExecuteSql,
  forceLog,
  refreshCaptureCatalog,
  withoutAuditing,
} from '../capture.js';
export type { RelationCaptureOptions, TableCaptureOptions } from '../diff.js';
export { auditDialect, fromKysely } from './audit-dialect.js';
