/**
 * `auditkit/drizzle`: app-level change capture for Drizzle ORM on node-postgres or PGlite (drizzle-orm is
 * an optional peer dependency).
 *
 * @example
 * import { auditDrizzle } from 'auditkit/drizzle';
 * const db = auditDrizzle(drizzle(pool), audit);
 */
export {
  type ChangeCaptureOptions,
  type ExecuteSql,
  forceLog,
  refreshCaptureCatalog,
  withoutAuditing,
} from '../capture.js';
export type { RelationCaptureOptions, TableCaptureOptions } from '../diff.js';
export { auditDrizzle, fromDrizzle } from './audit-drizzle.js';
