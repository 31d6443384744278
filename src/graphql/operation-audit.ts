import type { DocumentNode, GraphQLError } from 'graphql';
import type { Auditor } from '../core/auditor.js';
import {
  type ActorLike,
  type AuditContext,
  normaliseActor,
  resolveActor,
  tryGetContext,
} from '../core/context.js';
import { AuditkitError, toAuditkitError } from '../core/errors.js';
import type { Actor, AuditEventInput, Outcome, RequestInfo } from '../core/event.js';
import { actorFromUser } from '../http/actor.js';
import { createFieldMasker, type FieldMasker } from '../http/masking.js';
import { pickRequestId } from '../http/request-id.js';
import { type AuthDenial, deferredAuthError, onAuthDenied } from './deferred-auth.js';
import { documentHash, type OperationSummary, summariseOperation } from './document.js';

type MaybePromise<T> = T | Promise<T>;

/** Options shared by `useAuditLog` (GraphQL Yoga / envelop) and `auditApolloPlugin` (Apollo Server). */
export interface GraphqlAuditOptions<TContext = Record<string, unknown>> {
  /** The auditor events go to. */
  audit: Auditor;
  /**
   * The actor, read from the GraphQL context once the operation has run (so after the context factory
   * or a resolver authenticated the user). Default: the context's `user` (`{ id, name }` and the like).
   * Falls back to the running audit context's actor (the HTTP adapter's chain), then anonymous.
   */
  actor?: (context: TContext) => MaybePromise<ActorLike | null | undefined>;
  /** The tenant of the operation's events, read from the GraphQL context at the end of the operation. */
  tenant?: (context: TContext) => MaybePromise<string | null | undefined>;
  /** Extra variable names to mask, matched like the auditor's defaults (which always apply). */
  sensitiveFields?: string[];
  /** Store the (masked) variables. Default true. */
  logVariables?: boolean;
  /** Record an `error` event for each GraphQL error. Default true. */
  recordErrors?: boolean;
  /** Record operations that only ask introspection fields (GraphiQL polls them). Default true. */
  logIntrospection?: boolean;
  /**
   * Root fields (`health` or `Query.health`) that resolve even when an auth error was deferred with
   * `deferAuthError`; introspection always does.
   */
  publicFields?: string[];
  /** The header that carries the request id when no HTTP adapter set one. Default `x-request-id`. */
  requestIdHeader?: string;
}

/** What a server adapter knows about the HTTP request of an operation. */
export interface OperationStart {
  contextValue: unknown;
  method?: string;
  path?: string;
  header?: (name: string) => string | undefined;
}

/** One GraphQL operation being audited; created by `begin`, ended once by `finish`. */
export interface OperationRecord {
  readonly requestId: string;
  /** The query text, when the server has it (hashed, never stored). */
  source(text: string | undefined): void;
  document(document: DocumentNode | undefined, operationName: string | null | undefined): void;
  variables(variables: unknown): void;
  errors(errors: readonly GraphQLError[] | undefined): void;
  /** The actor source for events recorded by resolvers while the operation runs. */
  lazyActor(): Promise<ActorLike | null | undefined>;
  /** Records the events (without delaying the response); idempotent. */
  finish(): void;
}

/** The core both plugins share. */
export interface OperationAudit {
  readonly audit: Auditor;
  readonly publicFields: readonly string[];
  begin(start: OperationStart): OperationRecord;
  /** Resolves once every finished operation's events are handed to the auditor. */
  idle(): Promise<void>;
}

const pendingByAuditor = new WeakMap<Auditor, Set<Promise<void>>>();

/**
 * Waits until the GraphQL plugins of this auditor have handed over every finished operation's events,
 * then flushes the auditor. Use it in tests and graceful shutdown.
 *
 * @example
 * await server.stop(); await flushGraphqlAudit(audit); await audit.close();
 */
export async function flushGraphqlAudit(audit: Auditor): Promise<void> {
  const pending = pendingByAuditor.get(audit);
  while (pending && pending.size > 0) await Promise.all([...pending]);
  await audit.flush();
}

const CLIENT_CODES: Record<string, Outcome> = {
  UNAUTHENTICATED: 'denied',
  FORBIDDEN: 'denied',
  BAD_USER_INPUT: 'failure',
  BAD_REQUEST: 'failure',
  GRAPHQL_PARSE_FAILED: 'failure',
  GRAPHQL_VALIDATION_FAILED: 'failure',
  PERSISTED_QUERY_NOT_FOUND: 'failure',
  OPERATION_RESOLUTION_FAILURE: 'failure',
};

/** Creates the shared core; options are checked here (`invalid_config`). */
export function createOperationAudit<TContext>(options: GraphqlAuditOptions<TContext>): OperationAudit {
  const { audit } = options ?? ({} as GraphqlAuditOptions<TContext>);
  if (!audit || typeof audit.record !== 'function' || typeof audit.runWithContext !== 'function') {
    throw new AuditkitError(
      'invalid_config',
      'The GraphQL plugin needs an auditor: pass { audit: createAuditor(...) }.',
    );
  }
  for (const key of ['actor', 'tenant'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new AuditkitError(
        'invalid_config',
        `GraphQL audit option "${key}" must be a function of the context.`,
      );
    }
  }
  const masker = createFieldMasker(audit.redactor, options.sensitiveFields ?? []);
  const pending = pendingByAuditor.get(audit) ?? new Set<Promise<void>>();
  pendingByAuditor.set(audit, pending);
  const settings: Settings<TContext> = {
    options,
    masker,
    requestIdHeader: (options.requestIdHeader ?? 'x-request-id').toLowerCase(),
    track(work) {
      pending.add(work);
      void work.finally(() => pending.delete(work));
    },
  };
  return {
    audit,
    publicFields: options.publicFields ?? [],
    begin: (start) => new Operation(settings, start),
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

interface Settings<TContext> {
  options: GraphqlAuditOptions<TContext>;
  masker: FieldMasker;
  requestIdHeader: string;
  track(work: Promise<void>): void;
}

class Operation<TContext> implements OperationRecord {
  readonly requestId: string;
  private readonly started = performance.now();
  /** The audit context the request runs in (the HTTP adapter's), captured before GraphQL nests its own. */
  private readonly outer: AuditContext | undefined;
  private readonly request: RequestInfo;
  private text: string | undefined;
  private doc: DocumentNode | undefined;
  private operationName: string | null | undefined;
  private vars: unknown;
  private readonly errorList: GraphQLError[] = [];
  private denial: AuthDenial | undefined;
  private done = false;

  constructor(
    private readonly settings: Settings<TContext>,
    private readonly start: OperationStart,
  ) {
    this.outer = tryGetContext();
    this.requestId =
      this.outer?.requestId ?? pickRequestId(start.header?.(settings.requestIdHeader) ?? undefined);
    const summary = this.outer?.request;
    this.request = withoutUndefined({
      id: this.requestId,
      method: summary?.method ?? start.method,
      path: summary?.path ?? start.path,
      route: summary?.route,
    });
    onAuthDenied(start.contextValue, (denial) => {
      this.denial ??= denial;
    });
  }

  source(text: string | undefined): void {
    if (typeof text === 'string') this.text = text;
  }

  document(document: DocumentNode | undefined, operationName: string | null | undefined): void {
    this.doc = document ?? this.doc;
    if (operationName !== undefined) this.operationName = operationName;
  }

  variables(variables: unknown): void {
    this.vars = variables;
  }

  errors(errors: readonly GraphQLError[] | undefined): void {
    for (const error of errors ?? []) if (!this.errorList.includes(error)) this.errorList.push(error);
  }

  async lazyActor(): Promise<ActorLike | null | undefined> {
    const fromGraphql = await this.graphqlActor();
    if (fromGraphql) return fromGraphql;
    return this.outer?.actor === undefined ? undefined : resolveActor(this.outer.actor);
  }

  /** The `actor` option, else the context's `user`; a user object (`{ id, name }`) is read like the HTTP adapters do. */
  private async graphqlActor(): Promise<ActorLike | undefined> {
    const { actor } = this.settings.options;
    const context = this.start.contextValue as TContext;
    const value = actor ? await actor(context) : (context as { user?: unknown } | null)?.user;
    if (value === null || value === undefined) return undefined;
    if (typeof value === 'object' && !('type' in value)) return actorFromUser(value) ?? (value as ActorLike);
    return value as ActorLike;
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    const durationMs = Math.round((performance.now() - this.started) * 1000) / 1000;
    const work = this.record(durationMs).catch((error: unknown) =>
      this.settings.options.audit.reportError(error, 'graphql_capture_failed'),
    );
    this.settings.track(work);
  }

  private async record(durationMs: number): Promise<void> {
    const { options, masker } = this.settings;
    const { audit } = options;
    const summary = summariseOperation(this.doc, this.operationName);
    if (summary.introspection && options.logIntrospection === false && this.errorList.length === 0) return;
    const context = this.start.contextValue as TContext;
    const actor = await this.resolveActor();
    let tenantId: string | null | undefined;
    if (options.tenant) {
      try {
        tenantId = (await options.tenant(context)) ?? undefined;
      } catch (error) {
        audit.reportError(toAuditkitError(error, 'tenant_resolution_failed', 'The tenant callable failed'));
      }
    }
    const hash = this.text !== undefined ? documentHash(this.text) : undefined;
    const denied = this.denial !== undefined || this.errorList.some((e) => outcomeOfError(e) === 'denied');
    const outcome: Outcome = denied ? 'denied' : this.errorList.length > 0 ? 'failure' : 'success';
    const target = { type: 'graphql.operation', id: summary.name ?? 'anonymous' };
    const graphql = withoutUndefined({
      operationName: summary.name,
      operationType: summary.type,
      documentHash: hash,
      fields: summary.fields,
      introspection: summary.introspection || undefined,
      variables:
        options.logVariables === false || this.vars === undefined || this.vars === null
          ? undefined
          : masker.maskValue(this.vars),
      errors: this.errorList.length || undefined,
      authDeferred: deferredAuthError(context) !== undefined || undefined,
    });
    const common = { actor, target, tenantId, correlation: { requestId: this.requestId } };
    const inputs: AuditEventInput[] = [
      {
        ...common,
        category: 'access',
        action: `graphql.${summary.type ?? 'operation'}`,
        outcome,
        request: { ...this.request, durationMs },
        reason: this.denial?.reason ?? firstCode(this.errorList),
        metadata: { graphql },
      },
    ];
    if (this.denial) {
      inputs.push({
        ...common,
        category: 'auth',
        action: 'graphql.auth_denied',
        outcome: 'denied',
        target: { type: 'graphql.field', id: this.denial.field },
        request: this.request,
        reason: this.denial.reason,
        message: this.denial.message,
        metadata: {
          graphql: { operationName: summary.name, operationType: summary.type, documentHash: hash },
        },
      });
    }
    if (options.recordErrors !== false) {
      for (const error of this.errorList.slice(0, 100))
        inputs.push(this.errorInput(error, summary, hash, common));
    }
    // Recorded in the request's own context, so the auditor adds its ip, user agent and metadata.
    const write = () => Promise.all(inputs.map((input) => audit.record(input)));
    await (this.outer
      ? audit.runWithContext(this.outer, write)
      : audit.runWithContext({ request: this.request }, write));
  }

  private errorInput(
    error: GraphQLError,
    summary: OperationSummary,
    hash: string | undefined,
    common: Pick<AuditEventInput, 'actor' | 'target' | 'tenantId' | 'correlation'>,
  ): AuditEventInput {
    const code = errorCode(error);
    const path = Array.isArray(error.path) ? error.path.join('.') : undefined;
    const original = (error as { originalError?: unknown }).originalError;
    return {
      ...common,
      category: 'error',
      action: 'graphql.error',
      outcome: outcomeOfError(error),
      request: this.request,
      message: String(error.message ?? 'GraphQL error'),
      reason: code ?? (original instanceof Error ? original.name : 'GraphQLError'),
      metadata: {
        graphql: withoutUndefined({
          operationName: summary.name,
          operationType: summary.type,
          documentHash: hash,
          path,
          code,
        }),
        error: withoutUndefined({
          name: original instanceof Error ? original.name : 'GraphQLError',
          stack: original instanceof Error ? original.stack : undefined,
        }),
      },
    };
  }

  private async resolveActor(): Promise<Actor> {
    const { audit } = this.settings.options;
    try {
      const fromGraphql = normaliseActor(await this.graphqlActor());
      // The HTTP access event of the same request then names the user GraphQL authenticated.
      if (fromGraphql && this.outer) this.outer.actor = fromGraphql;
      const actor =
        fromGraphql ?? (this.outer?.actor === undefined ? undefined : await resolveActor(this.outer.actor));
      if (actor) return actor;
    } catch (error) {
      audit.reportError(toAuditkitError(error, 'actor_resolution_failed', 'The actor callable failed'));
    }
    return { type: 'anonymous' };
  }
}

function errorCode(error: GraphQLError): string | undefined {
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

function firstCode(errors: readonly GraphQLError[]): string | undefined {
  for (const error of errors) {
    const code = errorCode(error);
    if (code) return code;
  }
  return errors.length > 0 ? 'graphql_error' : undefined;
}

/** A client's mistake or a refusal is a failure or denial; anything else an error of the server. */
function outcomeOfError(error: GraphQLError): Outcome {
  const code = errorCode(error);
  if (code && CLIENT_CODES[code]) return CLIENT_CODES[code];
  // graphql-js validation and syntax errors carry no code in Yoga; they have no path (never executed).
  if (!code && !error.path && (error.message.startsWith('Syntax Error') || error.locations)) return 'failure';
  return 'error';
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as T;
}
