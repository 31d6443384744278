import { createRemoteJWKSet, importSPKI, type JWTPayload, jwtVerify } from 'jose';
import type { Actor } from '../core/event.js';
import type { ResolvedHttpAuditOptions } from './config.js';

type ResolvedJwtOptions = NonNullable<ResolvedHttpAuditOptions['jwt']>;

/** The outcome of checking one request's bearer token. */
export type JwtVerdict =
  | { ok: true; actor: Actor; tenantId?: string; claims: JWTPayload }
  | { ok: false; reason: string; message: string };

/** Verifies a bearer token; resolves undefined when the request carries none. Never rejects. */
export type JwtVerifier = (authorization: string | string[] | undefined) => Promise<JwtVerdict | undefined>;

/**
 * Builds the verifier of the default actor: an `Authorization: Bearer <jwt>` token checked with jose
 * against a shared secret, a PEM public key or a JWKS URL, plus issuer and audience when configured.
 */
export function createJwtVerifier(options: ResolvedJwtOptions): JwtVerifier {
  const { issuer, audience, idClaim, labelClaims, tenantClaim, clockToleranceSeconds } = options;
  // Pin the algorithms to the key kind, so a token cannot pick one the key was not meant for.
  const algorithms =
    options.algorithms ??
    (options.secret !== undefined
      ? ['HS256', 'HS384', 'HS512']
      : options.publicKey !== undefined
        ? ['RS256']
        : undefined);
  let key: Promise<Parameters<typeof jwtVerify>[1]> | undefined;
  const getKey = () => {
    if (!key) {
      if (options.secret !== undefined) key = Promise.resolve(new TextEncoder().encode(options.secret));
      else if (options.jwksUrl !== undefined)
        key = Promise.resolve(createRemoteJWKSet(new URL(options.jwksUrl)));
      else key = importSPKI(options.publicKey as string, algorithms?.[0] ?? 'RS256');
    }
    return key;
  };
  return async (authorization) => {
    const header = Array.isArray(authorization) ? authorization[0] : authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) return undefined;
    try {
      const { payload } = await jwtVerify(match[1] as string, await getKey(), {
        issuer,
        audience,
        algorithms,
        clockTolerance: clockToleranceSeconds,
      });
      const id = claim(payload, idClaim);
      const label = labelClaims.map((c) => claim(payload, c)).find((v) => v !== undefined);
      const actor: Actor = { type: id === undefined && label === undefined ? 'anonymous' : 'user' };
      if (id !== undefined) actor.id = id;
      if (label !== undefined) actor.label = label;
      const sid = claim(payload, 'sid');
      if (sid !== undefined) actor.sessionId = sid;
      const tenantId = tenantClaim ? claim(payload, tenantClaim) : undefined;
      return tenantId === undefined
        ? { ok: true, actor, claims: payload }
        : { ok: true, actor, tenantId, claims: payload };
    } catch (error) {
      return {
        ok: false,
        reason: rejectionReason(error),
        message: error instanceof Error ? error.message : String(error),
      };
    }
  };
}

function claim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** A short, stable reason for a rejected token, from jose's error codes. */
export function rejectionReason(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'token_expired';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const name = (error as { claim?: string }).claim;
      return name ? `claim_${name}_invalid` : 'claim_invalid';
    }
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed_token';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'algorithm_not_allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown_key';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return 'jwks_unavailable';
    default:
      return 'token_invalid';
  }
}
