import { AuditkitError } from '../../core/errors.js';

interface Argon2Like {
  hash(password: string, options?: Record<string, unknown>): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

let argon2: Promise<Argon2Like> | undefined;

/** Loads the optional `argon2` peer dependency once, with a clear error when it is not installed. */
function loadArgon2(): Promise<Argon2Like> {
  argon2 ??= import('argon2').then(
    (module) => ((module as { default?: Argon2Like }).default ?? module) as Argon2Like,
    (cause: unknown) => {
      argon2 = undefined;
      throw new AuditkitError(
        'missing_dependency',
        'Password logins of the admin UI need the argon2 package: npm install argon2 (or use tokens / authorize).',
        { cause },
      );
    },
  );
  return argon2;
}

/**
 * Hashes a password for the `users` option of the admin UI (argon2id).
 *
 * @example
 * const passwordHash = await hashPassword('correct horse battery staple');
 * auditUi({ audit, users: [{ username: 'ada', passwordHash, role: 'admin' }] });
 */
export async function hashPassword(
  password: string,
  /** argon2 cost parameters; the library's defaults (64 MiB, 3 passes) unless a constrained host needs less. */
  cost: { memoryCost?: number; timeCost?: number } = {},
): Promise<string> {
  if (typeof password !== 'string' || password.length < 8) {
    throw new AuditkitError('invalid_config', 'A UI password must be at least 8 characters.');
  }
  return (await loadArgon2()).hash(password, { type: 2, ...cost });
}

// A valid hash of a random password, checked when the user name is unknown so both cases take as long.
let decoy: Promise<string> | undefined;

/** True when `password` matches `hash`; false for a malformed hash. */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  const lib = await loadArgon2();
  if (hash === undefined) {
    decoy ??= lib.hash(crypto.randomUUID(), { type: 2 });
    await lib.verify(await decoy, password).catch(() => false);
    return false;
  }
  try {
    return await lib.verify(hash, password);
  } catch {
    return false;
  }
}
