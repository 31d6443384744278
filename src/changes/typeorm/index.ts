/**
 * `auditkit/typeorm`: app-level change capture for TypeORM on PostgreSQL (typeorm is an optional peer
 * dependency; nothing of it is imported at runtime).
 *
 * @example
 * import { auditSubscriber } from 'auditkit/typeorm';
 * await dataSource.initialize();
 * installAuditSubscriber(dataSource, audit);
 */
export { type ChangeCaptureOptions, forceLog, refreshCaptureCatalog, withoutAuditing } from '../capture.js';
export type { RelationCaptureOptions, TableCaptureOptions } from '../diff.js';
export {
  type AuditkitChangeSubscriber,
  auditSubscriber,
  type EntityEventLike,
  FORCE_LOG_DATA_KEY,
  installAuditSubscriber,
} from './audit-subscriber.js';
