/** What an error event stores about the error: class, message, stack, code, and the cause's class and message. */
export interface ErrorDetails {
  /** The error class (`TypeError`, `PaymentDeclinedError`), `NonError` for a thrown non-Error. */
  name: string;
  message: string;
  stack?: string;
  code?: string;
  cause?: { name: string; message: string };
}

/**
 * Describes anything thrown; never throws itself, even for an error whose getters throw.
 *
 * @example
 * errorDetails(new TypeError('x is undefined')); // { name: 'TypeError', message: 'x is undefined', stack: '...' }
 */
export function errorDetails(error: unknown): ErrorDetails {
  try {
    return describeError(error);
  } catch {
    return { name: 'Error', message: '(the error could not be read)' };
  }
}

function describeError(error: unknown): ErrorDetails {
  if (error instanceof Error) {
    const details: ErrorDetails = { name: safeName(error), message: String(error.message ?? '') };
    if (typeof error.stack === 'string') details.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') details.code = String(code);
    const cause = (error as { cause?: unknown }).cause;
    if (cause !== undefined) {
      details.cause =
        cause instanceof Error
          ? { name: safeName(cause), message: String(cause.message ?? '') }
          : { name: 'NonError', message: describe(cause) };
    }
    return details;
  }
  return { name: 'NonError', message: describe(error) };
}

/** The class name: `error.name` unless a subclass left it at `Error` while having a more telling constructor. */
function safeName(error: Error): string {
  const name = typeof error.name === 'string' && error.name !== '' ? error.name : 'Error';
  const constructorName = error.constructor?.name;
  return name === 'Error' && constructorName && constructorName !== 'Error' ? constructorName : name;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
