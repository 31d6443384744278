import { once } from 'node:events';
import { createServer } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHttpAuditOptions } from './config.js';
import { createJwtVerifier, rejectionReason } from './jwt-actor.js';

const verifier = (jwt: Record<string, unknown>) =>
  createJwtVerifier(resolveHttpAuditOptions({ jwt }, {}).jwt as never);

describe('createJwtVerifier', () => {
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwksUrl: string;
  const server = createServer(async (_req, res) => {
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  beforeAll(async () => {
    keys = await generateKeyPair('RS256');
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    jwksUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const sign = (claims: Record<string, unknown>, kid = 'k1') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer('https://id.example.com')
      .setAudience('api')
      .setExpirationTime('5m')
      .sign(keys.privateKey);

  it('verifies a bearer against a JWKS URL and maps claims to the actor and tenant', async () => {
    const verify = verifier({
      jwksUrl,
      issuer: 'https://id.example.com',
      audience: 'api',
      tenantClaim: 'org',
    });
    const token = await sign({ sub: 'u-1', preferred_username: 'ada', org: 'org_7', sid: 'sess-9' });
    expect(await verify(`Bearer ${token}`)).toMatchObject({
      ok: true,
      actor: { type: 'user', id: 'u-1', label: 'ada', sessionId: 'sess-9' },
      tenantId: 'org_7',
    });
  });

  it('verifies against a PEM public key', async () => {
    const verify = verifier({ publicKey: await exportSPKI(keys.publicKey), algorithms: ['RS256'] });
    expect(await verify(`bearer ${await sign({ sub: 'u-2' })}`)).toMatchObject({
      ok: true,
      actor: { id: 'u-2' },
    });
  });

  it('says why a token was rejected', async () => {
    const verify = verifier({ jwksUrl, issuer: 'https://id.example.com', audience: 'other' });
    expect(await verify(`Bearer ${await sign({ sub: 'u' })}`)).toMatchObject({
      ok: false,
      reason: 'claim_aud_invalid',
    });
    expect(await verify('Bearer not.a.jwt')).toMatchObject({ ok: false, reason: 'malformed_token' });
    expect(await verify(`Bearer ${await sign({ sub: 'u' }, 'unknown-kid')}`)).toMatchObject({
      ok: false,
      reason: 'unknown_key',
    });
    const hs = verifier({ secret: 'another-secret-of-good-length' });
    expect(await hs(`Bearer ${await sign({ sub: 'u' })}`)).toMatchObject({
      ok: false,
      reason: 'algorithm_not_allowed',
    });
  });

  it('finds nothing to verify without a bearer token', async () => {
    const verify = verifier({ secret: 'x' });
    expect(await verify(undefined)).toBeUndefined();
    expect(await verify('Basic dXNlcjpwYXNz')).toBeUndefined();
  });

  it('maps unknown failures to token_invalid', () => {
    expect(rejectionReason(new Error('odd'))).toBe('token_invalid');
  });
});
