import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  generateSigningKeys,
  keyIdOf,
  loadPublicKey,
  loadSigningKey,
  publicKeyPem,
  signText,
  verifyText,
} from './keys.js';

const dir = mkdtempSync(join(tmpdir(), 'auditkit-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signing keys', () => {
  it('generates an Ed25519 pair whose signatures verify with the public key only', () => {
    const pair = generateSigningKeys();
    expect(pair.privateKeyPem).toContain('BEGIN PRIVATE KEY');
    expect(pair.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(pair.keyId).toMatch(/^[0-9a-f]{16}$/);
    const signature = signText('checkpoint', loadSigningKey(pair.privateKeyPem));
    expect(verifyText('checkpoint', signature, loadPublicKey(pair.publicKeyPem))).toBe(true);
    expect(verifyText('checkpoinT', signature, loadPublicKey(pair.publicKeyPem))).toBe(false);
    expect(verifyText('checkpoint', signature, loadPublicKey(generateSigningKeys().publicKeyPem))).toBe(
      false,
    );
    expect(verifyText('checkpoint', 'not base64 at all', loadPublicKey(pair.publicKeyPem))).toBe(false);
  });

  it('loads keys from PEM files and names both halves of a pair with the same key id', () => {
    const pair = generateSigningKeys();
    const privatePath = join(dir, 'signing.key');
    writeFileSync(privatePath, pair.privateKeyPem);
    const key = loadSigningKey(privatePath);
    expect(keyIdOf(key)).toBe(pair.keyId);
    expect(keyIdOf(loadPublicKey(privatePath))).toBe(pair.keyId);
    expect(publicKeyPem(privatePath)).toBe(pair.publicKeyPem);
  });

  it('refuses missing files, non-keys, public keys for signing, and other key types', () => {
    expect(() => loadSigningKey(join(dir, 'missing.key'))).toThrowError(
      expect.objectContaining({
        code: 'invalid_config',
        message: expect.stringContaining('auditkit keys generate'),
      }),
    );
    expect(() => loadSigningKey('-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----')).toThrowError(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    expect(() => loadSigningKey(generateSigningKeys().publicKeyPem)).toThrowError(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => loadSigningKey(rsa.privateKey)).toThrowError(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('Ed25519') }),
    );
  });
});
