export type { SqlAuditStore } from '../sql/sql-audit-store.js';
export {
  describeServer,
  type PgClientLike,
  type PgPoolLike,
  type PostgresConnection,
  type PostgresStoreOptions,
  postgresStore,
} from './postgres-store.js';
