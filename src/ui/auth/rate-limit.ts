/** Counts failed logins per key in a fixed window; a key over the limit is refused until the window ends. */
export class LoginRateLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #failures = new Map<string, { count: number; resetAt: number }>();

  constructor(options: { max: number; windowMs: number; now?: () => number }) {
    this.#max = options.max;
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
  }

  /** Milliseconds until `key` may try again, or 0 when it may now. */
  retryAfter(key: string): number {
    const entry = this.#failures.get(key);
    if (!entry) return 0;
    const now = this.#now();
    if (entry.resetAt <= now) {
      this.#failures.delete(key);
      return 0;
    }
    return entry.count >= this.#max ? entry.resetAt - now : 0;
  }

  fail(key: string): void {
    const now = this.#now();
    const entry = this.#failures.get(key);
    if (!entry || entry.resetAt <= now) this.#failures.set(key, { count: 1, resetAt: now + this.#windowMs });
    else entry.count += 1;
    // Bounded memory under a spray of user names: forget expired entries now and then.
    if (this.#failures.size > 10_000) {
      for (const [k, e] of this.#failures) if (e.resetAt <= now) this.#failures.delete(k);
    }
  }

  succeed(key: string): void {
    this.#failures.delete(key);
  }
}
