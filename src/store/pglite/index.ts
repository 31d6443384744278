export type { SqlAuditStore } from '../sql/sql-audit-store.js';
export {
  type PGliteLike,
  type PGliteTransactionLike,
  type PgliteStoreOptions,
  pgliteStore,
} from './pglite-store.js';
