import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type Auditor, createAuditor } from '../../core/auditor.js';
import { pgliteStore } from '../../store/pglite/index.js';

/**
 * For a test file: `auditor(options)` makes a sync-mode auditor on a fresh PGlite with a spool directory
 * of its own; all of them are closed and their directories removed after each test.
 *
 * @example
 * const auditor = syncAuditors('auditkit-integrity-');
 * const audit = auditor({ integrity: { signingKey } });
 */
export function syncAuditors(prefix: string): (options?: Parameters<typeof createAuditor>[0]) => Auditor {
  const open: Auditor[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const audit of open.splice(0)) await audit.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (options = {}) => {
    const spoolDir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(spoolDir);
    const audit = createAuditor({ store: pgliteStore(), mode: 'sync', spool: { dir: spoolDir }, ...options });
    open.push(audit);
    return audit;
  };
}
