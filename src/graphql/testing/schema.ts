/**
 * The schema and context the GraphQL plugin tests serve from a real Yoga and a real Apollo Server.
 * Test-only; not part of the package API.
 *
 * | operation | behaviour |
 * |---|---|
 * | `query { health }` | public field: `ok` |
 * | `query { me { id name } }` | the context's user (from `authorization: Bearer <id>`), or null |
 * | `query { posts { id title } }` | protected: two posts |
 * | `query { boom }` | the resolver throws `new Error('kaboom')` |
 * | `query { forbidden }` | throws a GraphQLError with code `FORBIDDEN` |
 * | `mutation { createPost(title, input) }` | records a `custom` event from inside, returns the post |
 *
 * `authorization: Bearer bad` makes the context factory defer an `UNAUTHENTICATED` error.
 */
import { GraphQLError } from 'graphql';
import type { Auditor } from '../../core/auditor.js';
import { deferAuthError } from '../deferred-auth.js';

export const typeDefs = /* GraphQL */ `
  type User { id: ID!, name: String }
  type Post { id: ID!, title: String! }
  input PostInput { body: String, apiToken: String }
  type Query {
    health: String
    me: User
    posts: [Post!]!
    boom: String
    forbidden: String
  }
  type Mutation { createPost(title: String!, input: PostInput): Post! }
`;

export type TestContext = {
  user?: { id: string; name: string };
  audit: Auditor;
};

export function resolvers(audit: Auditor) {
  return {
    Query: {
      health: () => 'ok',
      me: (_: unknown, __: unknown, ctx: TestContext) => ctx.user ?? null,
      posts: () => [
        { id: '1', title: 'First' },
        { id: '2', title: 'Second' },
      ],
      boom: () => {
        throw new Error('kaboom');
      },
      forbidden: () => {
        throw new GraphQLError('Not allowed', { extensions: { code: 'FORBIDDEN' } });
      },
    },
    Mutation: {
      createPost: async (_: unknown, args: { title: string }) => {
        await audit.record({ category: 'custom', action: 'post.created', target: { type: 'post', id: '3' } });
        return { id: '3', title: args.title };
      },
    },
  };
}

const USERS: Record<string, string> = { ada: 'Ada Lovelace', grace: 'Grace Hopper' };

/** The app's own authentication, as a context factory does it: a user, nothing, or a deferred error. */
export function contextFromAuthorization(header: string | null | undefined): Record<string, unknown> {
  const token = header?.replace(/^Bearer\s+/i, '');
  if (!token) return {};
  const name = USERS[token];
  if (name) return { user: { id: token, name } };
  return deferAuthError(
    {},
    new GraphQLError('Invalid token', { extensions: { code: 'UNAUTHENTICATED' } }),
    'invalid_token',
  );
}
