import type { CaptureErrorsOptions } from './error-log.js';
import { checkCaptureOptions } from './error-log.js';

/** The part of an auditor the decorator uses. */
export interface ErrorCapturer {
  captureErrors<T>(fn: () => T, options?: CaptureErrorsOptions): T;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * A method decorator that records an `error` event whenever the method throws (or its promise
 * rejects), with the class and method in `metadata.context`, and rethrows the error unchanged. Works
 * as a standard (TypeScript 5) decorator and as a legacy `experimentalDecorators` one. Pass a function
 * when the auditor is created after the class.
 *
 * @example
 * class Billing {
 *   @capturesErrors(() => audit, { action: 'invoice.charge_failed' })
 *   async charge(invoiceId: string) { ... }
 * }
 */
export function capturesErrors(
  audit: ErrorCapturer | (() => ErrorCapturer),
  options: CaptureErrorsOptions = {},
  // biome-ignore lint/suspicious/noExplicitAny: a decorator must fit any method signature.
): any {
  const checked = checkCaptureOptions(options);
  const auditor = (): ErrorCapturer => (typeof audit === 'function' ? audit() : audit);
  const wrap = (original: Method, name: string): Method =>
    function capturing(this: unknown, ...args: unknown[]) {
      const owner = (this as { constructor?: { name?: string } } | null)?.constructor?.name;
      const context = { ...(owner ? { class: owner } : {}), method: name, ...checked.context };
      return auditor().captureErrors(() => original.apply(this, args), { ...checked, context });
    };
  return (target: unknown, key: unknown, descriptor?: PropertyDescriptor) => {
    // Standard decorators: (method, { kind: 'method', name }).
    if (typeof target === 'function' && typeof key === 'object' && key !== null && 'kind' in key) {
      return wrap(target as Method, String((key as unknown as { name: string | symbol }).name));
    }
    // Legacy decorators: (prototype, name, descriptor).
    if (descriptor && typeof descriptor.value === 'function') {
      descriptor.value = wrap(descriptor.value as Method, String(key));
      return descriptor;
    }
    throw new TypeError('capturesErrors decorates methods only.');
  };
}
