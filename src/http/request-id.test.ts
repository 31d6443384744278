import { describe, expect, it } from 'vitest';
import { parseTraceparent, pickRequestId } from './request-id.js';

describe('pickRequestId', () => {
  it('keeps a sane incoming id and replaces anything else with a UUID', () => {
    expect(pickRequestId('req-42.a:b')).toBe('req-42.a:b');
    expect(pickRequestId(['first', 'second'])).toBe('first');
    for (const bad of [undefined, '', 'has space', 'x'.repeat(129), 'line\nbreak', '<script>']) {
      expect(pickRequestId(bad)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });
});

describe('parseTraceparent', () => {
  it('reads trace and span ids of a valid W3C traceparent', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
    });
  });

  it('ignores invalid ones', () => {
    for (const bad of [
      undefined,
      'garbage',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
});
