import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { AuditkitError } from '../../core/errors.js';
import { generateSigningKeys, keyIdOf, loadPublicKey, publicKeyPem } from '../../integrity/keys.js';
import type { CliIo } from '../io.js';

/** File names `auditkit keys generate` writes. */
export const PRIVATE_KEY_FILE = 'auditkit-signing.key';
export const PUBLIC_KEY_FILE = 'auditkit-signing.pub';

/** `auditkit keys generate | public | id`: the Ed25519 keys that sign checkpoints. */
export function registerKeys(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('Ed25519 keys that sign integrity checkpoints');
  keys
    .command('generate')
    .description(`Create a key pair: ${PRIVATE_KEY_FILE} (keep it secret) and ${PUBLIC_KEY_FILE} (share it)`)
    .option('--out <dir>', 'directory to write the two files to', '.')
    .option('--force', 'overwrite existing key files')
    .action((flags: { out: string; force?: boolean }) => {
      const dir = resolve(flags.out);
      const privatePath = join(dir, PRIVATE_KEY_FILE);
      const publicPath = join(dir, PUBLIC_KEY_FILE);
      if (!flags.force && (existsSync(privatePath) || existsSync(publicPath))) {
        throw new AuditkitError(
          'invalid_config',
          `${privatePath} or ${publicPath} already exists; pass --force to replace them (checkpoints signed with the old key then need the old public key to verify).`,
        );
      }
      mkdirSync(dir, { recursive: true });
      const pair = generateSigningKeys();
      writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600 });
      writeFileSync(publicPath, pair.publicKeyPem, { mode: 0o644 });
      io.stdout(
        `Key ${pair.keyId} written:\n  private: ${privatePath} (mode 600, keep it secret)\n  public:  ${publicPath}\n\n` +
          `Seal with it:   auditkit seal --signing-key ${privatePath}   (or AUDITKIT_SIGNING_KEY)\n` +
          `Verify with it: auditkit verify --public-key ${publicPath}   (or AUDITKIT_PUBLIC_KEY)\n`,
      );
    });
  keys
    .command('public')
    .description('Print the public key (PEM) of a private key, to hand to whoever verifies')
    .argument('<private-key>', 'PEM file of the private signing key')
    .action((path: string) => {
      io.stdout(publicKeyPem(path));
    });
  keys
    .command('id')
    .description('Print the key id (fingerprint) checkpoints carry, for a public or private key file')
    .argument('<key>', 'PEM file of a public or private key')
    .action((path: string) => {
      io.stdout(`${keyIdOf(loadPublicKey(path))}\n`);
    });
}
