import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { documentHash, summariseOperation } from './document.js';

describe('summariseOperation', () => {
  it('names the type, the name and the top-level fields (schema names, not aliases)', () => {
    const document = parse('mutation Pay($id: ID!) { charge: pay(id: $id) { ok } notify }');
    expect(summariseOperation(document)).toEqual({
      type: 'mutation',
      name: 'Pay',
      fields: ['pay', 'notify'],
      introspection: false,
    });
  });

  it('follows fragments and inline fragments at the top level, once each', () => {
    const document = parse('{ ...A ... on Query { b } } fragment A on Query { a ...A }');
    expect(summariseOperation(document).fields).toEqual(['a', 'b']);
  });

  it('picks the operation by name in a document with several', () => {
    const document = parse('query A { a } query B { b }');
    expect(summariseOperation(document, 'B')).toMatchObject({ name: 'B', fields: ['b'] });
    expect(summariseOperation(document)).toMatchObject({ type: undefined, fields: [] });
  });

  it('calls an operation that asks only __schema, __type or __typename introspection', () => {
    expect(summariseOperation(parse('{ __schema { types { name } } __typename }')).introspection).toBe(true);
    expect(summariseOperation(parse('{ __typename me }')).introspection).toBe(false);
  });

  it('describes a missing document as an unknown operation', () => {
    expect(summariseOperation(undefined, 'X')).toEqual({
      type: undefined,
      name: 'X',
      fields: [],
      introspection: false,
    });
  });
});

describe('documentHash', () => {
  it('is the sha256 of the query text', () => {
    expect(documentHash('{ a }')).toBe(
      'sha256:1c7e1e347f726166b5b1c55afd61f278cc9b45e00c108ec33d540a566379811b',
    );
    expect(documentHash('{ a }')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(documentHash('{ a }')).not.toBe(documentHash('{ b }'));
  });
});
