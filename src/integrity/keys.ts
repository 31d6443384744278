import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuditkitError } from '../core/errors.js';

/** A key given as a KeyObject, PEM text, or the path of a PEM file. */
export type KeyInput = KeyObject | string | Buffer;

/** An Ed25519 key pair in PEM: PKCS#8 for the private key, SPKI for the public one. */
export interface SigningKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  /** Short fingerprint of the public key, stored with every checkpoint: 16 hex characters. */
  keyId: string;
}

/**
 * Creates a new Ed25519 key pair for signing checkpoints.
 *
 * @example
 * const { privateKeyPem, publicKeyPem, keyId } = generateSigningKeys();
 */
export function generateSigningKeys(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** The fingerprint of a public (or private) key: the first 16 hex characters of sha256(SPKI DER). */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function pemText(input: string | Buffer, what: string): string | Buffer {
  if (Buffer.isBuffer(input)) return input;
  if (input.includes('-----BEGIN')) return input;
  try {
    return readFileSync(input);
  } catch (error) {
    throw new AuditkitError(
      'invalid_config',
      `Could not read the ${what} file ${input}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Pass PEM text or the path of a PEM file (create one with `auditkit keys generate`).',
      { cause: error },
    );
  }
}

function assertEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AuditkitError(
      'invalid_config',
      `The ${what} is a ${key.asymmetricKeyType ?? 'symmetric'} key; Auditkit signs with Ed25519 keys (auditkit keys generate).`,
    );
  }
  return key;
}

/** Loads the private signing key (KeyObject, PEM text or a PEM file path). */
export function loadSigningKey(input: KeyInput): KeyObject {
  if (typeof input === 'object' && !Buffer.isBuffer(input)) {
    if (input.type !== 'private') {
      throw new AuditkitError('invalid_config', 'The signing key must be a private key.');
    }
    return assertEd25519(input, 'signing key');
  }
  try {
    return assertEd25519(createPrivateKey(pemText(input, 'signing key')), 'signing key');
  } catch (error) {
    if (error instanceof AuditkitError) throw error;
    throw new AuditkitError(
      'invalid_config',
      `The signing key is not a PEM private key: ${error instanceof Error ? error.message : String(error)}.`,
      { cause: error },
    );
  }
}

/** Loads a public key for verification; a private key is accepted too (its public half is used). */
export function loadPublicKey(input: KeyInput): KeyObject {
  if (typeof input === 'object' && !Buffer.isBuffer(input)) {
    return assertEd25519(input.type === 'private' ? createPublicKey(input) : input, 'public key');
  }
  try {
    return assertEd25519(createPublicKey(pemText(input, 'public key')), 'public key');
  } catch (error) {
    if (error instanceof AuditkitError) throw error;
    throw new AuditkitError(
      'invalid_config',
      `The public key is not a PEM key: ${error instanceof Error ? error.message : String(error)}.`,
      { cause: error },
    );
  }
}

/** The public key of a key pair, as SPKI PEM: what a third party needs to verify checkpoints and proofs. */
export function publicKeyPem(key: KeyInput): string {
  return loadPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** Ed25519 signature of `message` (base64). */
export function signText(message: string, key: KeyObject): string {
  return sign(null, Buffer.from(message, 'utf8'), key).toString('base64');
}

/** True when `signature` (base64) is a valid Ed25519 signature of `message` by `key`. */
export function verifyText(message: string, signature: string, key: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(message, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
