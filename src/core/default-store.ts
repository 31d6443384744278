import { pgliteStore } from '../store/pglite/index.js';
import { postgresStore } from '../store/postgres/index.js';
import type { AuditStore } from '../store/store.js';

/**
 * The store used when none is configured: PostgreSQL at `AUDITKIT_DATABASE_URL` when set,
 * otherwise the embedded PGlite in `AUDITKIT_DATA_DIR` (default `./audit-data`).
 */
export function defaultStore(env: Record<string, string | undefined> = process.env): AuditStore {
  const url = env.AUDITKIT_DATABASE_URL;
  if (url) return postgresStore({ connectionString: url, schema: env.AUDITKIT_DB_SCHEMA || undefined });
  return pgliteStore({
    dataDir: env.AUDITKIT_DATA_DIR || './audit-data',
    schema: env.AUDITKIT_DB_SCHEMA || undefined,
  });
}
