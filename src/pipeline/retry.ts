import type { RetryOptions } from './writer.js';

export const DEFAULT_RETRY: RetryOptions = { retries: 3, minDelayMs: 50, maxDelayMs: 2000 };

/** Delay before retry number `attempt` (0-based): exponential growth with full jitter, capped. */
export function backoffDelay(
  attempt: number,
  { minDelayMs, maxDelayMs }: RetryOptions,
  random = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
  return Math.round(ceiling * random());
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());

/** Runs `fn`, retrying failures with backoff; the last error is thrown once retries are used up. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  options: RetryOptions = DEFAULT_RETRY,
  shouldRetry: (error: unknown) => boolean = () => true,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= options.retries || !shouldRetry(error)) throw error;
      await sleep(backoffDelay(attempt, options));
    }
  }
}
