import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetry } from './retry.js';

describe('backoffDelay', () => {
  it('grows exponentially with full jitter and never passes the ceiling', () => {
    const opts = { retries: 5, minDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, opts, () => 1)).toBe(100);
    expect(backoffDelay(2, opts, () => 1)).toBe(400);
    expect(backoffDelay(10, opts, () => 1)).toBe(1000);
    expect(backoffDelay(3, opts, () => 0)).toBe(0);
  });
});

describe('withRetry', () => {
  it('retries until success', async () => {
    let calls = 0;
    const value = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('flaky');
        return 'ok';
      },
      { retries: 3, minDelayMs: 1, maxDelayMs: 2 },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
  });

  it('throws the last error once retries are used up, or at once when told not to retry', async () => {
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error(`fail ${calls}`);
    };
    await expect(withRetry(failing, { retries: 2, minDelayMs: 1, maxDelayMs: 1 })).rejects.toThrow('fail 3');
    calls = 0;
    await expect(
      withRetry(failing, { retries: 5, minDelayMs: 1, maxDelayMs: 1 }, () => false),
    ).rejects.toThrow('fail 1');
  });
});
