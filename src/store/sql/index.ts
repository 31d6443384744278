export { type CursorPosition, decodeCursor, encodeCursor } from './cursor.js';
export {
  eventJson,
  eventRowSelect,
  INSERT_COLUMNS,
  insertRowSource,
  rowToEvent,
  storableJsonText,
  toInsertParams,
} from './event-rows.js';
export {
  defineMigrations,
  MIGRATIONS,
  type Migration,
  type MigrationContext,
  runMigrations,
} from './migrations.js';
export { createMonthPartition, monthOf, monthsBetween, partitionName } from './partitions.js';
export { buildEventQuery, escapeLike, resolveLimit } from './query-builder.js';
export {
  DEFAULT_CHUNK_SIZE,
  PARTITION_MONTHS_AHEAD,
  SqlAuditStore,
  type SqlAuditStoreOptions,
} from './sql-audit-store.js';
export { isConnectionError, toStoreError } from './sql-errors.js';
export {
  inTransaction,
  quoteIdent,
  type SqlDialect,
  type SqlExecutor,
  type SqlResult,
} from './sql-executor.js';
