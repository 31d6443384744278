/**
 * Which error objects already have an `error` event, process-wide: `captureErrors` records an error and
 * rethrows it, and the HTTP adapter that then sees the same error thrown out of the route must not record
 * it a second time. A WeakSet behind a global symbol, so two loaded copies of Auditkit share it and
 * nothing is kept alive by it.
 */
const KEY = Symbol.for('auditkit.recordedErrors');
const holder = globalThis as typeof globalThis & { [KEY]?: WeakSet<object> };
const recorded: WeakSet<object> = holder[KEY] ?? new WeakSet<object>();
holder[KEY] = recorded;

/**
 * Notes that `error` has its event now; false when it had one already (or is not an object, which
 * cannot be told apart and is always recorded).
 *
 * @example
 * if (markErrorRecorded(error)) await recordErrorEvent(error);
 */
export function markErrorRecorded(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  if (recorded.has(error)) return false;
  recorded.add(error);
  return true;
}

/**
 * True when an `error` event was recorded for this error object already.
 *
 * @example
 * if (!errorWasRecorded(thrown)) await recordHttpError(thrown);
 */
export function errorWasRecorded(error: unknown): boolean {
  return typeof error === 'object' && error !== null && recorded.has(error);
}
