import { createHmac } from 'node:crypto';
import { AuditkitError } from '../core/errors.js';

/**
 * The keyed pseudonym of a subject: `user#` and the first 12 hex characters of
 * HMAC-SHA256(key, subject). The same subject always gets the same pseudonym (the trail keeps its shape:
 * "user#a1b2c3d4e5f6 changed X"), and without the key nobody can tell whom it stands for.
 *
 * @example
 * pseudonymOf('u_123', process.env.AUDITKIT_PSEUDONYM_KEY!) // 'user#5c0f4e1d9a2b'
 */
export function pseudonymOf(subject: string, key: string | Buffer, prefix = 'user'): string {
  if ((typeof key === 'string' && key.length < 16) || (Buffer.isBuffer(key) && key.length < 16)) {
    throw new AuditkitError(
      'invalid_config',
      'The pseudonym key must be at least 16 characters (a random secret, e.g. `openssl rand -hex 32`).',
    );
  }
  return `${prefix}#${createHmac('sha256', key).update(subject, 'utf8').digest('hex').slice(0, 12)}`;
}
