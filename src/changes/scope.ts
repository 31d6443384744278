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
  return scope.run('off', () => started(fn()));
}

/**
 * A lazy thenable (a Drizzle query builder runs when awaited) is started here, inside the scope: awaited
 * by the caller it would run after `scope.run` returned, outside it. Native promises are already running.
 */
function started<T>(result: T): T {
  const thenable = result as { then?: unknown } | null;
  if (thenable === null || typeof thenable !== 'object' || result instanceof Promise) return result;
  if (typeof thenable.then !== 'function') return result;
  return new Promise((resolve, reject) => {
    (thenable as PromiseLike<unknown>).then(resolve, reject);
  }) as T;
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
  return scope.run('forced', () => started(fn()));
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
