import type { ActorLike } from '../core/context.js';

/**
 * Reads an actor from a framework's user object (`req.user` of Passport, `request.user` of
 * @fastify/jwt, `c.get('user')` / `c.get('jwtPayload')` in Hono): the id from `id`, `sub`, `userId`,
 * `_id` or `uid`; the label from `name`, `username`, `displayName` or `email`. A string is a user id.
 */
export function actorFromUser(user: unknown): ActorLike | undefined {
  if (user === null || user === undefined || user === false) return undefined;
  if (typeof user === 'string' || typeof user === 'number') return String(user) || undefined;
  if (typeof user !== 'object') return undefined;
  const u = user as Record<string, unknown>;
  const id = first(u, ['id', 'sub', 'userId', 'user_id', '_id', 'uid']);
  const label = first(u, ['name', 'username', 'displayName', 'preferred_username', 'email', 'label']);
  if (id === undefined && label === undefined) return undefined;
  const type = u.type === 'service' || u.type === 'system' ? u.type : 'user';
  const actor: Exclude<ActorLike, string> = { type };
  if (id !== undefined) actor.id = id;
  if (label !== undefined) actor.label = label;
  return actor;
}

function first(source: Record<string, unknown>, keys: string[]): string | undefined {
  for (const key of keys) {
    const value = source[key];
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number' || typeof value === 'bigint') return String(value);
    // ObjectId and friends
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { toHexString?: unknown }).toHexString === 'function'
    ) {
      return (value as { toHexString(): string }).toHexString();
    }
  }
  return undefined;
}
