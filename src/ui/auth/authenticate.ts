import { createHash, timingSafeEqual } from 'node:crypto';
import type { ResolvedAuditUiOptions } from '../config.js';
import type { UiUser } from './roles.js';
import { parseCookies, type SessionClaims, type SessionSigner } from './session.js';

export const SESSION_COOKIE = 'auditkit_session';
export const PRELOGIN_COOKIE = 'auditkit_prelogin';

/** Who made a request and what binds their CSRF token (null: not needed, e.g. a bearer token). */
export interface Authenticated {
  user: UiUser;
  session: SessionClaims | null;
  csrfBinding: string | null;
}

/** Resolves the UI user of a request: bearer token, then session cookie, then the host's `authorize`. */
export class Authenticator {
  readonly #options: ResolvedAuditUiOptions;
  readonly #signer: SessionSigner;
  readonly #tokens: { digest: Buffer; user: UiUser }[];

  constructor(options: ResolvedAuditUiOptions, signer: SessionSigner) {
    this.#options = options;
    this.#signer = signer;
    this.#tokens = options.tokens.map((t) => ({
      digest: sha256(t.token),
      user: withTenants(
        { id: t.id, role: t.role, via: 'token', ...(t.name ? { name: t.name } : {}) },
        t.tenants,
      ),
    }));
  }

  /** The configured user with this name, as a UI user. */
  userNamed(username: string): { user: UiUser; passwordHash: string } | null {
    const config = this.#options.users.find((u) => u.username === username);
    if (!config) return null;
    return {
      passwordHash: config.passwordHash,
      user: withTenants(
        {
          id: config.username,
          role: config.role,
          via: 'password',
          ...(config.name ? { name: config.name } : {}),
        },
        config.tenants,
      ),
    };
  }

  async authenticate(request: Request, native: unknown, now: number): Promise<Authenticated | null> {
    const authorization = request.headers.get('authorization');
    if (authorization !== null) {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
      // A bad bearer token is a failed authentication, never a fall-through to cookies.
      const user = token ? this.#tokenUser(token) : null;
      return user ? { user, session: null, csrfBinding: null } : null;
    }
    const session = this.#signer.read(parseCookies(request.headers.get('cookie')).get(SESSION_COOKIE), now);
    if (session) {
      const found = this.userNamed(session.sub);
      if (found) return { user: found.user, session, csrfBinding: `session|${session.sid}` };
    }
    if (this.#options.authorize) {
      const user = await this.#options.authorize({ request, native });
      if (user && typeof user.id === 'string' && user.id.length > 0) {
        const hostUser: UiUser = { ...user, via: 'host' };
        return { user: hostUser, session: null, csrfBinding: `host|${user.id}` };
      }
    }
    return null;
  }

  #tokenUser(token: string): UiUser | null {
    const digest = sha256(token);
    let match: UiUser | null = null;
    // Every configured token is compared, so the time taken says nothing about which one was close.
    for (const candidate of this.#tokens)
      if (timingSafeEqual(candidate.digest, digest)) match = candidate.user;
    return match;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function withTenants(user: UiUser, tenants: readonly string[] | undefined): UiUser {
  return tenants === undefined ? user : { ...user, tenants: [...tenants] };
}
