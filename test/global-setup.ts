/**
 * Vitest global setup: one PostgreSQL server for the whole run, shared by every test file (each uses its
 * own schema). Tests read its URL with `inject('pgUrl')` (also in `process.env.AUDITKIT_TEST_PG_URL`).
 *
 * - `AUDITKIT_TEST_PG_URL` already set: that server is used, nothing is started.
 * - No PostgreSQL binaries installed (or `AUDITKIT_TEST_PG=skip`): `pgUrl` is empty and `pgSkipReason` says why; PostgreSQL tests are
 *   reported as skipped with that reason.
 * - Binaries installed but the server does not start: the run fails (a broken setup is not a skip).
 */
import type { TestProject } from 'vitest/node';
import { findPostgresBinaries, type PostgresServer, startPostgres } from './helpers/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the shared PostgreSQL test server; empty when there is none. */
    pgUrl: string;
    /** Why there is no PostgreSQL test server (empty when there is one). */
    pgSkipReason: string;
  }
}

let server: PostgresServer | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.AUDITKIT_TEST_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    project.provide('pgSkipReason', '');
    return async () => {};
  }
  const disabled = process.env.AUDITKIT_TEST_PG === 'skip';
  if (disabled || !findPostgresBinaries()) {
    const reason = disabled
      ? 'PostgreSQL tests skipped: AUDITKIT_TEST_PG=skip.'
      : 'PostgreSQL tests skipped: no initdb/postgres binaries found (pg_config --bindir, PATH, ' +
        '/usr/lib/postgresql/*/bin). Install PostgreSQL (apt-get install postgresql) or set AUDITKIT_TEST_PG_URL.';
    console.warn(`\n[auditkit] ${reason}\n`);
    project.provide('pgUrl', '');
    project.provide('pgSkipReason', reason);
    return async () => {};
  }
  server = await startPostgres();
  process.env.AUDITKIT_TEST_PG_URL = server.url;
  project.provide('pgUrl', server.url);
  project.provide('pgSkipReason', '');
  return async () => {
    await server?.destroy();
    server = undefined;
  };
}
