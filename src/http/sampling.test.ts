import { describe, expect, it } from 'vitest';
import { createSampler, unitHash } from './sampling.js';

describe('createSampler', () => {
  it('keeps everything by default', () => {
    expect(createSampler({ rate: 1, rules: [] })('GET', 200, 'x')).toBe(true);
  });

  it('applies the first matching rule, by method and status class or exact status', () => {
    const sample = createSampler({
      rate: 1,
      rules: [
        { methods: ['GET'], statuses: ['2xx', 304], rate: 0 },
        { statuses: ['3xx'], rate: 0 },
      ],
    });
    expect(sample('GET', 200, 'a')).toBe(false);
    expect(sample('GET', 304, 'a')).toBe(false);
    expect(sample('POST', 201, 'a')).toBe(true);
    expect(sample('POST', 302, 'a')).toBe(false);
  });

  it('decides by request id: stable per id, close to the rate over many ids', () => {
    const sample = createSampler({ rate: 0.3, rules: [] });
    const ids = Array.from({ length: 2000 }, (_, i) => `req-${i}`);
    const kept = ids.filter((id) => sample('GET', 200, id));
    expect(kept.every((id) => sample('GET', 200, id))).toBe(true);
    expect(kept.length / ids.length).toBeGreaterThan(0.25);
    expect(kept.length / ids.length).toBeLessThan(0.35);
  });
});

describe('unitHash', () => {
  it('maps strings into [0, 1)', () => {
    for (const s of ['', 'a', 'req-1', 'x'.repeat(1000)]) {
      const h = unitHash(s);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(1);
    }
  });
});
