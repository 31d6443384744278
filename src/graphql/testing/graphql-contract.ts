/**
 * The behaviour both GraphQL plugins must show, written once and run against a real server of each kind
 * (`runGraphqlPluginContract({ name, start })`), serving `schema.ts`. Test-only; not part of the package API.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Auditor } from '../../core/auditor.js';
import type { AuditEvent } from '../../core/event.js';
import { REDACTED } from '../../core/redact.js';
import {
  closeTestAuditors,
  closeTestDatabase,
  storedEvents,
  testAuditor,
} from '../../http/testing/harness.js';
import { flushGraphqlAudit, type GraphqlAuditOptions } from '../operation-audit.js';
import type { TestContext } from './schema.js';

export interface RunningGraphqlServer {
  /** The GraphQL endpoint. */
  url: string;
  close(): Promise<void>;
}

export interface GraphqlServerUnderTest {
  name: string;
  /** Starts the server on 127.0.0.1 with the plugin made from `options`. */
  start(
    audit: Auditor,
    options: Omit<GraphqlAuditOptions<TestContext>, 'audit'>,
  ): Promise<RunningGraphqlServer>;
  /** Whether resolvers run inside an audit context carrying the operation's request id. */
  resolverContext: boolean;
}

export interface GraphqlResponse {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  };
}

/** POSTs one operation as JSON. */
export async function gql(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphqlResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphqlResponse['body'] };
}

/** Every stored event once the GraphQL plugins and HTTP adapters handed everything over. */
export async function graphqlEvents(audit: Auditor): Promise<AuditEvent[]> {
  await flushGraphqlAudit(audit);
  return storedEvents(audit);
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const graphqlOf = (event: AuditEvent | undefined) => event?.metadata?.graphql as Record<string, unknown>;

export function runGraphqlPluginContract(server: GraphqlServerUnderTest): void {
  describe(`GraphQL plugin on ${server.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await closeTestAuditors();
    });
    afterAll(closeTestDatabase);

    async function start(options: Omit<GraphqlAuditOptions<TestContext>, 'audit'> = {}) {
      const audit = await testAuditor();
      const running = await server.start(audit, {
        actor: (ctx) => ctx.user,
        publicFields: ['health'],
        ...options,
      });
      cleanups.push(() => running.close());
      return { audit, url: running.url };
    }

    it('records one access event per query: name, type, document hash, top-level fields, duration', async () => {
      const { audit, url } = await start();
      const query = 'query Home { health posts { id } ...More } fragment More on Query { me { id } }';
      const res = await gql(url, query, undefined, {
        'x-request-id': 'req-home-1',
        authorization: 'Bearer ada',
      });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      const events = await graphqlEvents(audit);
      expect(events).toHaveLength(1);
      const [event] = events;
      expect(event).toMatchObject({
        category: 'access',
        action: 'graphql.query',
        outcome: 'success',
        target: { type: 'graphql.operation', id: 'Home' },
        request: { id: 'req-home-1', method: 'POST' },
        correlation: { requestId: 'req-home-1' },
      });
      expect(event?.request?.durationMs).toBeGreaterThanOrEqual(0);
      expect(graphqlOf(event)).toMatchObject({
        operationName: 'Home',
        operationType: 'query',
        documentHash: sha256(query),
        fields: ['health', 'posts', 'me'],
      });
    });

    it('generates a request id when the client sends none, and the same document keeps its hash', async () => {
      const { audit, url } = await start();
      await gql(url, '{ health }');
      await gql(url, '{ health }');
      const [a, b] = await graphqlEvents(audit);
      expect(a?.correlation?.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(a?.correlation?.requestId).not.toBe(b?.correlation?.requestId);
      expect(graphqlOf(a)?.documentHash).toBe(graphqlOf(b)?.documentHash);
      expect(a?.target?.id).toBe('anonymous');
    });

    it('records a mutation with its variables; events recorded by resolvers share the request id', async () => {
      const { audit, url } = await start();
      const res = await gql(
        url,
        'mutation Create($title: String!, $input: PostInput) { createPost(title: $title, input: $input) { id } }',
        { title: 'Hello', input: { body: 'text', apiToken: 'tok-123' } },
        { authorization: 'Bearer ada', 'x-request-id': 'req-create' },
      );
      expect(res.body.data).toEqual({ createPost: { id: '3' } });
      const events = await graphqlEvents(audit);
      const access = events.find((e) => e.category === 'access');
      expect(access).toMatchObject({ action: 'graphql.mutation', outcome: 'success', actor: { id: 'ada' } });
      expect(graphqlOf(access)?.variables).toEqual({
        title: 'Hello',
        input: { body: 'text', apiToken: REDACTED },
      });
      const custom = events.find((e) => e.action === 'post.created');
      expect(custom).toBeDefined();
      if (server.resolverContext) {
        expect(custom?.correlation?.requestId).toBe('req-create');
        expect(custom?.actor).toMatchObject({ type: 'user', id: 'ada' });
      }
    });

    it('resolves the actor from the GraphQL context after it authenticated the user', async () => {
      const { audit, url } = await start();
      await gql(url, '{ me { id } }', undefined, { authorization: 'Bearer grace' });
      await gql(url, '{ me { id } }');
      const [grace, nobody] = await graphqlEvents(audit);
      expect(grace?.actor).toMatchObject({ type: 'user', id: 'grace', label: 'Grace Hopper' });
      expect(nobody?.actor).toMatchObject({ type: 'anonymous' });
    });

    it('marks an operation that answered 200 with errors as failed and records an error event per error', async () => {
      const { audit, url } = await start();
      const res = await gql(url, 'query Broken { health boom }', undefined, { authorization: 'Bearer ada' });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ health: 'ok', boom: null });
      expect(res.body.errors).toHaveLength(1);
      const events = await graphqlEvents(audit);
      const access = events.find((e) => e.category === 'access');
      expect(access).toMatchObject({ action: 'graphql.query', outcome: 'failure', actor: { id: 'ada' } });
      expect(graphqlOf(access)?.errors).toBe(1);
      const errors = events.filter((e) => e.category === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        action: 'graphql.error',
        outcome: 'error',
        message: 'kaboom',
        actor: { id: 'ada' },
        target: { type: 'graphql.operation', id: 'Broken' },
        correlation: { requestId: access?.correlation?.requestId },
      });
      expect(graphqlOf(errors[0])).toMatchObject({ path: 'boom', operationName: 'Broken' });
    });

    it('stores the error code and treats FORBIDDEN as denied', async () => {
      const { audit, url } = await start();
      await gql(url, '{ forbidden }');
      const events = await graphqlEvents(audit);
      expect(events.find((e) => e.category === 'access')).toMatchObject({
        outcome: 'denied',
        reason: 'FORBIDDEN',
      });
      const error = events.find((e) => e.category === 'error');
      expect(error).toMatchObject({ outcome: 'denied', reason: 'FORBIDDEN', message: 'Not allowed' });
      expect(graphqlOf(error)).toMatchObject({ code: 'FORBIDDEN', path: 'forbidden' });
    });

    it('records documents that do not parse or validate as failed operations', async () => {
      const { audit, url } = await start();
      await gql(url, '{ health');
      await gql(url, '{ nope }');
      const events = await graphqlEvents(audit);
      const accesses = events.filter((e) => e.category === 'access');
      expect(accesses).toHaveLength(2);
      // A document that does not parse has no operation type; one that does keeps it.
      expect(accesses.map((a) => [a.action, a.outcome])).toEqual([
        ['graphql.operation', 'failure'],
        ['graphql.query', 'failure'],
      ]);
      expect(accesses.map((a) => graphqlOf(a)?.documentHash)).toEqual([
        sha256('{ health'),
        sha256('{ nope }'),
      ]);
      expect(events.filter((e) => e.category === 'error').map((e) => e.outcome)).toEqual([
        'failure',
        'failure',
      ]);
    });

    describe('deferred authentication errors', () => {
      const bad = { authorization: 'Bearer bad' };

      it('raises the stored error when a protected mutation resolves, and audits the attempt', async () => {
        const { audit, url } = await start();
        const res = await gql(url, 'mutation Sneaky { createPost(title: "x") { id } }', undefined, bad);
        expect(res.status).toBe(200);
        expect(res.body.data ?? null).toBeNull();
        expect(res.body.errors?.[0]).toMatchObject({
          message: 'Invalid token',
          extensions: { code: 'UNAUTHENTICATED' },
        });
        const events = await graphqlEvents(audit);
        expect(events.find((e) => e.action === 'post.created')).toBeUndefined();
        expect(events.find((e) => e.category === 'access')).toMatchObject({
          action: 'graphql.mutation',
          outcome: 'denied',
          reason: 'invalid_token',
          actor: { type: 'anonymous' },
        });
        expect(events.find((e) => e.category === 'auth')).toMatchObject({
          action: 'graphql.auth_denied',
          outcome: 'denied',
          reason: 'invalid_token',
          message: 'Invalid token',
          target: { type: 'graphql.field', id: 'Mutation.createPost' },
        });
        expect(events.find((e) => e.category === 'error')).toMatchObject({
          outcome: 'denied',
          reason: 'UNAUTHENTICATED',
        });
      });

      it('lets introspection and configured public fields through', async () => {
        const { audit, url } = await start();
        const introspection = await gql(
          url,
          '{ __schema { queryType { name } } __typename }',
          undefined,
          bad,
        );
        expect(introspection.body).toEqual({
          data: { __schema: { queryType: { name: 'Query' } }, __typename: 'Query' },
        });
        const health = await gql(url, 'query Health { health }', undefined, bad);
        expect(health.body).toEqual({ data: { health: 'ok' } });
        const events = await graphqlEvents(audit);
        expect(events.map((e) => [e.category, e.outcome])).toEqual([
          ['access', 'success'],
          ['access', 'success'],
        ]);
        expect(graphqlOf(events[0])).toMatchObject({
          introspection: true,
          authDeferred: true,
          fields: ['__schema', '__typename'],
        });
      });

      it('fails only the protected fields of a mixed query', async () => {
        const { audit, url } = await start();
        const res = await gql(url, '{ health me { id } }', undefined, bad);
        expect(res.body.data).toEqual({ health: 'ok', me: null });
        expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
        const events = await graphqlEvents(audit);
        expect(events.find((e) => e.category === 'auth')?.target?.id).toBe('Query.me');
      });
    });

    it('can leave introspection-only operations and variables out', async () => {
      const { audit, url } = await start({ logIntrospection: false, logVariables: false });
      await gql(url, '{ __typename }');
      await gql(
        url,
        'mutation($t: String!) { createPost(title: $t) { id } }',
        { t: 'x' },
        { authorization: 'Bearer ada' },
      );
      const events = (await graphqlEvents(audit)).filter((e) => e.category === 'access');
      expect(events).toHaveLength(1);
      expect(graphqlOf(events[0])?.variables).toBeUndefined();
    });

    it('never stores a secret found under a sensitive key anywhere in the variables', async () => {
      const { audit, url } = await start({ sensitiveFields: ['ssn'] });
      const sensitiveKey = fc.constantFrom(
        'password',
        'newPassword',
        'api_key',
        'accessToken',
        'client_secret',
        'ssn',
        'Authorization',
      );
      const plainKey = fc
        .string({ minLength: 1, maxLength: 8 })
        .filter((k) => !/pass|secret|token|key|auth|ssn|cookie|session|card|cv|csc/i.test(k));
      // A secret nested at a random path of plain keys and array positions.
      const placed = fc
        .tuple(
          fc.array(fc.oneof(plainKey, fc.nat({ max: 2 })), { maxLength: 4 }),
          sensitiveKey,
          fc.string({ minLength: 12, maxLength: 30 }).map((s) => `S3CR3T-${s.replace(/[^A-Za-z0-9]/g, 'x')}`),
          fc.dictionary(plainKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
        )
        .map(([path, key, secret, noise]) => {
          let value: unknown = { [key]: secret };
          for (const step of [...path].reverse()) {
            value =
              typeof step === 'number'
                ? Object.assign(new Array(step).fill(null), { [step]: value })
                : { [step]: value };
          }
          return { variables: { ...noise, wrapper: value }, secret };
        });
      await fc.assert(
        fc.asyncProperty(placed, async ({ variables, secret }) => {
          await gql(url, 'query Probe { health }', variables);
          const stored = JSON.stringify(await graphqlEvents(audit));
          expect(stored).not.toContain(secret);
        }),
        { numRuns: 25 },
      );
      expect((await graphqlEvents(audit)).length).toBeGreaterThanOrEqual(25);
    });
  });
}
