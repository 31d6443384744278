import type { Command } from 'commander';

/** Adds the flags that choose a store; each overrides its AUDITKIT_* variable. */
export function addStoreFlags(command: Command): Command {
  return command
    .option('--database-url <url>', 'PostgreSQL connection string (AUDITKIT_DATABASE_URL)')
    .option(
      '--data-dir <dir>',
      'PGlite data directory when no database URL is given (AUDITKIT_DATA_DIR, default ./audit-data)',
    )
    .option(
      '--schema <name>',
      'database schema holding the audit tables (AUDITKIT_DB_SCHEMA, default public)',
    );
}
