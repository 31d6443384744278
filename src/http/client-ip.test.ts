import { describe, expect, it } from 'vitest';
import { createClientIpResolver, normaliseIp } from './client-ip.js';

describe('createClientIpResolver', () => {
  const xff = '203.0.113.7, 10.0.0.2, 10.0.0.3';

  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    expect(createClientIpResolver(false)('::ffff:127.0.0.1', xff)).toBe('127.0.0.1');
  });

  it('takes the left-most address when every hop is trusted', () => {
    expect(createClientIpResolver(true)('127.0.0.1', xff)).toBe('203.0.113.7');
    expect(createClientIpResolver(true)('127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('counts hops back from the socket', () => {
    expect(createClientIpResolver(1)('127.0.0.1', xff)).toBe('10.0.0.3');
    expect(createClientIpResolver(3)('127.0.0.1', xff)).toBe('203.0.113.7');
    expect(createClientIpResolver(9)('127.0.0.1', xff)).toBe('203.0.113.7');
  });

  it('skips trusted proxies by address, CIDR and name, and stops at the first untrusted one', () => {
    const resolve = createClientIpResolver(['loopback', '10.0.0.0/8']);
    expect(resolve('127.0.0.1', xff)).toBe('203.0.113.7');
    expect(resolve('127.0.0.1', '198.51.100.1, 203.0.113.7, 10.0.0.2')).toBe('203.0.113.7');
    // A client that is not a trusted proxy cannot choose its address by sending the header.
    expect(resolve('198.51.100.9', xff)).toBe('198.51.100.9');
  });

  it('ignores a header holding something other than addresses', () => {
    expect(createClientIpResolver(true)('127.0.0.1', 'evil, <script>')).toBe('127.0.0.1');
  });

  it('rejects a trust entry that is not an address', () => {
    expect(() => createClientIpResolver(['not-an-ip'])).toThrow(/not an IP address/);
  });
});

describe('normaliseIp', () => {
  it('unwraps IPv4-mapped IPv6 and drops non-addresses', () => {
    expect(normaliseIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normaliseIp('::1')).toBe('::1');
    expect(normaliseIp('nope')).toBeUndefined();
  });
});
