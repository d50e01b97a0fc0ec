import { describe, expect, it } from 'vitest';
import { ValueType } from './ast.js';
import { valueTypeOf } from './check.js';
import { parseExpr } from './parser.js';

describe('valueTypeOf', () => {
  it.each<[string, ValueType]>([
    ['1', ValueType.Scalar],
    ['-1 + 2 * 3', ValueType.Scalar],
    ['"s"', ValueType.String],
    ['foo', ValueType.Vector],
    ['foo[5m]', ValueType.Matrix],
    ['foo[5m:]', ValueType.Matrix],
    ['(foo[5m])', ValueType.Matrix],
    ['-foo', ValueType.Vector],
    ['foo + 1', ValueType.Vector],
    ['1 + foo', ValueType.Vector],
    ['1 == bool 2', ValueType.Scalar],
    ['sum(foo)', ValueType.Vector],
    ['time()', ValueType.Scalar],
    ['scalar(foo)', ValueType.Scalar],
    ['vector(1)', ValueType.Vector],
    ['rate(foo[5m])', ValueType.Vector],
  ])('%s', (query, expected) => {
    expect(valueTypeOf(parseExpr(query))).toBe(expected);
  });
});
