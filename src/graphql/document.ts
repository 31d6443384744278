import { createHash } from 'node:crypto';
import type { DocumentNode, OperationDefinitionNode, SelectionSetNode } from 'graphql';

/** What an audit event says about a GraphQL operation, read from its parsed document. */
export interface OperationSummary {
  /** `query`, `mutation` or `subscription`; undefined when the document did not parse or name one. */
  type: 'query' | 'mutation' | 'subscription' | undefined;
  name: string | undefined;
  /** Top-level fields selected (their schema names, not aliases), fragments followed, at most 50. */
  fields: string[];
  /** True when every top-level field is introspection (`__schema`, `__type`, `__typename`). */
  introspection: boolean;
}

const MAX_FIELDS = 50;

/** `sha256:<hex>` of the query text: the same document always has the same hash, whatever its variables. */
export function documentHash(source: string): string {
  return `sha256:${createHash('sha256').update(source).digest('hex')}`;
}

/** The operation `operationName` picks in `document` (or the only one), as the audit event describes it. */
export function summariseOperation(
  document: DocumentNode | undefined,
  operationName?: string | null,
): OperationSummary {
  const operation = document ? pickOperation(document, operationName) : undefined;
  if (!document || !operation) {
    return { type: undefined, name: operationName ?? undefined, fields: [], introspection: false };
  }
  const fields = topLevelFields(document, operation.selectionSet);
  return {
    type: operation.operation,
    name: operation.name?.value ?? operationName ?? undefined,
    fields,
    introspection: fields.length > 0 && fields.every((f) => f.startsWith('__')),
  };
}

function pickOperation(
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationDefinitionNode | undefined {
  let found: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind !== 'OperationDefinition') continue;
    if (operationName) {
      if (definition.name?.value === operationName) return definition;
    } else {
      // Several operations and no name: graphql-js refuses to run it, so there is nothing to pick.
      if (found) return undefined;
      found = definition;
    }
  }
  return found;
}

function topLevelFields(document: DocumentNode, selectionSet: SelectionSetNode): string[] {
  const fragments = new Map<string, SelectionSetNode>();
  for (const definition of document.definitions) {
    if (definition.kind === 'FragmentDefinition')
      fragments.set(definition.name.value, definition.selectionSet);
  }
  const names = new Set<string>();
  const seenFragments = new Set<string>();
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (names.size >= MAX_FIELDS) return;
      if (selection.kind === 'Field') names.add(selection.name.value);
      else if (selection.kind === 'InlineFragment') visit(selection.selectionSet);
      else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // A fragment spreading itself is invalid GraphQL; validation reports it, we must not loop.
        if (fragment && !seenFragments.has(name)) {
          seenFragments.add(name);
          visit(fragment);
        }
      }
    }
  };
  visit(selectionSet);
  return [...names];
}
