import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a session cookie says: who, which session, until when. */
export interface SessionClaims {
  /** The user name. */
  sub: string;
  /** Random session id; CSRF tokens are derived from it. */
  sid: string;
  /** Expiry, epoch milliseconds. */
  exp: number;
}

/** Signs and checks session cookies and CSRF tokens with one HMAC-SHA256 key. */
export class SessionSigner {
  readonly #key: Buffer;

  constructor(secret: string | undefined) {
    // Without a configured secret, sessions last as long as the process (logins end at a restart).
    this.#key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  mac(text: string): string {
    return createHmac('sha256', this.#key).update(text).digest('base64url');
  }

  /** `payload.signature`, both base64url. */
  issue(claims: SessionClaims): string {
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return `${payload}.${this.mac(`session|${payload}`)}`;
  }

  /** The claims of a valid, unexpired cookie value, else null. */
  read(value: string | undefined, now: number): SessionClaims | null {
    if (!value || value.length > 2000) return null;
    const [payload, signature, ...rest] = value.split('.');
    if (!payload || !signature || rest.length > 0) return null;
    if (!safeEqual(signature, this.mac(`session|${payload}`))) return null;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SessionClaims;
      if (
        typeof claims.sub !== 'string' ||
        typeof claims.sid !== 'string' ||
        typeof claims.exp !== 'number'
      ) {
        return null;
      }
      return claims.exp > now ? claims : null;
    } catch {
      return null;
    }
  }

  /** The CSRF token bound to one session (or one pre-login nonce). */
  csrfToken(binding: string): string {
    return this.mac(`csrf|${binding}`);
  }

  checkCsrf(binding: string, token: string | null | undefined): boolean {
    return typeof token === 'string' && safeEqual(token, this.csrfToken(binding));
  }
}

/** Constant-time comparison of two strings (false when their lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Random URL-safe id. */
export function randomId(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/** The cookies of a request. */
export function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!cookies.has(name)) {
      try {
        cookies.set(name, decodeURIComponent(value));
      } catch {
        cookies.set(name, value);
      }
    }
  }
  return cookies;
}

export interface CookieOptions {
  path: string;
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
}

/** A `Set-Cookie` value: always HttpOnly and SameSite=Strict. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  return (
    `${name}=${encodeURIComponent(value)}; Path=${options.path}; Max-Age=${options.maxAge}; HttpOnly; SameSite=Strict` +
    (options.secure ? '; Secure' : '')
  );
}
