import { defaultStore } from '../core/default-store.js';
import type { AuditStore } from '../store/store.js';

/** Where a command writes and what environment it sees; tests pass their own. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

/** Flags every command that opens a store accepts; each falls back to its AUDITKIT_* variable. */
export interface StoreFlags {
  databaseUrl?: string;
  dataDir?: string;
  schema?: string;
}

/** Opens the store named by flags, then by AUDITKIT_DATABASE_URL / AUDITKIT_DATA_DIR, else ./audit-data. */
export function openStore(flags: StoreFlags, io: CliIo): AuditStore {
  return defaultStore({
    ...io.env,
    AUDITKIT_DATABASE_URL: flags.databaseUrl ?? io.env.AUDITKIT_DATABASE_URL,
    AUDITKIT_DATA_DIR: flags.dataDir ?? io.env.AUDITKIT_DATA_DIR,
    AUDITKIT_DB_SCHEMA: flags.schema ?? io.env.AUDITKIT_DB_SCHEMA,
  });
}

/** Renders rows as an aligned text table (what a terminal user wants for a quick look). */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
