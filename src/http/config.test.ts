import { describe, expect, it } from 'vitest';
import { AuditkitError } from '../core/errors.js';
import { DEFAULT_EXCLUDED_EXTENSIONS, resolveHttpAuditOptions } from './config.js';

describe('resolveHttpAuditOptions', () => {
  it('fills the defaults', () => {
    const options = resolveHttpAuditOptions({}, {});
    expect(options).toMatchObject({
      enabled: true,
      logRequestBody: true,
      logResponseBody: false,
      maxBodyLength: 8192,
      saveFullBody: false,
      trustProxy: false,
      requestIdHeader: 'x-request-id',
      echoRequestId: true,
      sampling: { rate: 1, rules: [] },
      accessLog: false,
    });
    expect(options.excludeExtensions).toEqual([...DEFAULT_EXCLUDED_EXTENSIONS]);
  });

  it('rejects unknown keys and bad values, naming each field', () => {
    try {
      resolveHttpAuditOptions({ maxBodyLenght: 10, sampling: { rate: 2 } } as never, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AuditkitError);
      expect((error as AuditkitError).code).toBe('invalid_config');
      expect((error as AuditkitError).message).toMatch(/maxBodyLenght/);
      expect((error as AuditkitError).message).toMatch(/sampling\.rate/);
    }
    expect(() => resolveHttpAuditOptions({ jwt: { issuer: 'x' } }, {})).toThrow(/exactly one of secret/);
    expect(() => resolveHttpAuditOptions({ actor: 'ada' as never }, {})).toThrow(/actor must be a function/);
  });

  it('lets an AUDITKIT_HTTP_* variable override each option', () => {
    const options = resolveHttpAuditOptions(
      { logResponseBody: false, maxBodyLength: 100, notify: { notifiers: [] } },
      {
        AUDITKIT_HTTP_ENABLED: 'yes',
        AUDITKIT_HTTP_LOG_RESPONSE_BODY: 'true',
        AUDITKIT_HTTP_MAX_BODY_LENGTH: '2048',
        AUDITKIT_HTTP_EXCLUDE_PATHS: '/health, re:^/internal/.*$',
        AUDITKIT_HTTP_EXCLUDE_EXTENSIONS: '.css,.png',
        AUDITKIT_HTTP_SENSITIVE_FIELDS: 'ssn,iban',
        AUDITKIT_HTTP_TRUST_PROXY: '10.0.0.0/8,loopback',
        AUDITKIT_HTTP_JWT_SECRET: 'from-env',
        AUDITKIT_HTTP_JWT_ISSUER: 'https://id.example.com',
        AUDITKIT_HTTP_SAMPLE_RATE: '0.25',
        AUDITKIT_HTTP_SAMPLING_RULES: '[{"methods":["get"],"statuses":["2xx"],"rate":0.1}]',
        AUDITKIT_HTTP_LOGIN_PATHS: '/login,/api/session',
        AUDITKIT_HTTP_NOTIFY_MAX_NOTICES: '3',
        AUDITKIT_HTTP_ACCESS_LOG_DIR: '/var/log/app',
        AUDITKIT_HTTP_ACCESS_LOG_MAX_FILES: '9',
      },
    );
    expect(options).toMatchObject({
      enabled: true,
      logResponseBody: true,
      maxBodyLength: 2048,
      excludeExtensions: ['.css', '.png'],
      sensitiveFields: ['ssn', 'iban'],
      trustProxy: ['10.0.0.0/8', 'loopback'],
      jwt: { secret: 'from-env', issuer: 'https://id.example.com', idClaim: 'sub' },
      sampling: { rate: 0.25, rules: [{ methods: ['GET'], statuses: ['2xx'], rate: 0.1 }] },
      loginPaths: ['/login', '/api/session'],
      notify: { maxNotices: 3 },
      accessLog: { dir: '/var/log/app', maxFiles: 9, maxBytes: 10 * 1024 * 1024 },
    });
    expect(options.excludePaths[0]).toBe('/health');
    expect(options.excludePaths[1]).toEqual(/^\/internal\/.*$/);
    expect(resolveHttpAuditOptions({}, { AUDITKIT_HTTP_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(
      resolveHttpAuditOptions({ accessLog: { dir: 'x' } }, { AUDITKIT_HTTP_ACCESS_LOG_DIR: 'off' }).accessLog,
    ).toBe(false);
  });

  it('names the variable when its value is wrong', () => {
    expect(() => resolveHttpAuditOptions({}, { AUDITKIT_HTTP_MAX_BODY_LENGTH: 'lots' })).toThrow(
      /maxBodyLength \(from AUDITKIT_HTTP_MAX_BODY_LENGTH\)/,
    );
    expect(() => resolveHttpAuditOptions({}, { AUDITKIT_HTTP_ENABLED: 'maybe' })).toThrow(
      /AUDITKIT_HTTP_ENABLED/,
    );
  });
});
