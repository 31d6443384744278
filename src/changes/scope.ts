import { AsyncLocalStorage } from 'node:async_hooks';

/** Whether change capture is switched off (`withoutAuditing`) or forced on (`forceLog`) here. */
export type CaptureScope = 'off' | 'forced';

// One flag storage per process, even with two copies of this module loaded (ESM and a bundled copy).
const SCOPE_KEY = Symbol.for('auditkit.changes.scope');
const scopeRef = globalThis as typeof globalThis & { [SCOPE_KEY]?: AsyncLocalStorage<CaptureScope> };
const scope: AsyncLocalStorage<CaptureScope> = scopeRef[SCOPE_KEY] ?? new AsyncLocalStorage<CaptureScope>();
scopeRef[SCOPE_KEY] = scope;

/**
 * Runs `fn` with change capture switched off (a bulk import, a backfill): inserts, updates and deletes
 * made inside leave no `change` event. Deletes under {@link forceLog}, and deletes of tables with
 * `forceLogDeletes`, are still recorded. Other events (`audit.record`, HTTP access) are not affected.
 *
 * @example
 * await withoutAuditing(() => importCsv(db, rows));
 */
export function withoutAuditing<T>(fn: () => T): T {
  return scope.run('off', fn);
}

/**
 * Runs `fn` with change capture forced on, even inside {@link withoutAuditing}: for the delete that must
 * be recorded whatever the surrounding code decided.
 *
 * @example
 * await withoutAuditing(async () => {
 *   await importUsers(db);
 *   await forceLog(() => db.deleteFrom('users').where('id', '=', id).execute());
 * });
 */
export function forceLog<T>(fn: () => T): T {
  return scope.run('forced', fn);
}

/**
 * The innermost `withoutAuditing` / `forceLog` around the caller, or undefined (capture as configured).
 * For capture modules: trigger mode passes it with the transaction's context.
 *
 * @example
 * if (captureScope() === 'off') skipCapture();
 */
export function captureScope(): CaptureScope | undefined {
  return scope.getStore();
}
