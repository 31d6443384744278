import type { LoginFailureReason, SecurityMessageParts } from './vocabulary.js';

const REASON_TEXT: Record<LoginFailureReason, string> = {
  bad_password: 'wrong password',
  bad_2fa: 'wrong two-factor code',
  unknown_user: 'unknown user',
  locked: 'account locked',
  expired: 'credentials expired',
  invalid_token: 'invalid token',
};

const METHOD_TEXT: Record<string, string> = {
  password: 'a password',
  '2fa': 'two-factor authentication',
  saml: 'SAML',
  jwt: 'a JWT',
  api_key: 'an API key',
};

function methodText(method: string): string {
  if (method.startsWith('oauth:')) return `OAuth (${method.slice('oauth:'.length)})`;
  return METHOD_TEXT[method] ?? method;
}

function related(parts: SecurityMessageParts): string {
  return parts.related ? `${parts.related.type} ${parts.related.identifier}` : 'an unknown party';
}

/**
 * The English message of a security event, built only from its structured parts, so a UI that
 * translates the parts and this function always agree.
 *
 * @example
 * securityMessage({ key: 'loginFailed', action: 'failed', field: 'login', identifier: 'ada', reason: 'locked' })
 * // 'Login failed for ada: account locked'
 */
export function securityMessage(parts: SecurityMessageParts): string {
  const who = parts.identifier;
  const via = parts.method ? ` with ${methodText(parts.method)}` : '';
  switch (parts.key) {
    case 'loginSucceeded':
      return `${who} logged in${via}`;
    case 'loginFailed': {
      const reason = parts.reason
        ? (REASON_TEXT[parts.reason as LoginFailureReason] ?? parts.reason)
        : 'unknown reason';
      return `Login failed for ${who}${via}: ${reason}`;
    }
    case 'logout':
      return `${who} logged out`;
    case 'tokenIssued':
      return `Token ${parts.related?.identifier ?? '(unnamed)'} issued to ${who}`;
    case 'tokenRevoked':
      return `Token ${parts.related?.identifier ?? '(unnamed)'} of ${who} revoked`;
    case 'passwordChanged':
      return `Password of ${who} changed`;
    case 'passwordResetRequested':
      return `Password reset requested for ${who}`;
    case 'twoFactorEnabled':
      return `Two-factor authentication enabled for ${who}${parts.method ? ` (${parts.method})` : ''}`;
    case 'twoFactorDisabled':
      return `Two-factor authentication disabled for ${who}${parts.method ? ` (${parts.method})` : ''}`;
    case 'userCreated':
      return parts.selfService ? `${who} signed up` : `User ${who} created`;
    case 'userDeleted':
      return parts.selfService ? `${who} deleted their own account` : `User ${who} deleted`;
    case 'roleCreated':
      return `Role ${who} created`;
    case 'roleDeleted':
      return `Role ${who} deleted`;
    case 'permissionGranted':
      return `Permission ${who} granted to ${related(parts)}`;
    case 'permissionRevoked':
      return `Permission ${who} revoked from ${related(parts)}`;
    case 'memberAdded':
      return `${who} added to ${related(parts)}`;
    case 'memberRemoved':
      return `${who} removed from ${related(parts)}`;
    case 'organisationCreated':
      return `Organisation ${who} created`;
    case 'organisationDeleted':
      return `Organisation ${who} deleted`;
    case 'projectCreated':
      return `Project ${who} created`;
    case 'projectDeleted':
      return `Project ${who} deleted`;
  }
}
