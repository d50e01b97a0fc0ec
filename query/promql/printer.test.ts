import { describe, expect, it } from 'vitest';
import { parseExpr } from './parser.js';
import { formatNumber, printExpr } from './printer.js';

describe('printExpr', () => {
  it.each<[string, string]>([
    ['foo', 'foo'],
    ['foo{a="b",c=~"d"}', 'foo{a="b",c=~"d"}'],
    ['{__name__="foo", a!="b"}', '{__name__="foo",a!="b"}'],
    ["foo{a='x\"y'}", 'foo{a="x\\"y"}'],
    ['foo[90s]', 'foo[1m30s]'],
    ['foo[7d]', 'foo[1w]'],
    ['foo[5m] offset -1h @ 100', 'foo[5m] @ 100.000 offset -1h'],
    ['foo @ 1.5', 'foo @ 1.500'],
    ['foo @ -0.25', 'foo @ -0.250'],
    ['foo offset 1m @ start()', 'foo @ start() offset 1m'],
    ['rate(foo[5m])[1h:]', 'rate(foo[5m])[1h:]'],
    ['(a+b)[1h:1m] @ end()', '(a + b)[1h:1m] @ end()'],
    ['sum(foo) by (a)', 'sum by (a) (foo)'],
    ['sum without(a,b)(foo)', 'sum without (a, b) (foo)'],
    ['sum(foo) by ()', 'sum(foo)'],
    ['topk(5,foo)', 'topk(5, foo)'],
    ['count_values by (x) ("v", foo)', 'count_values by (x) ("v", foo)'],
    ['a+b*c', 'a + b * c'],
    ['(a+b)*c', '(a + b) * c'],
    ['-(1)', '-(1)'],
    ['- -foo', '--foo'],
    ['foo == bool on(a) group_left(b) bar', 'foo == bool on(a) group_left(b) bar'],
    ['foo and ignoring() bar', 'foo and bar'],
    ['foo * ignoring() group_left() bar', 'foo * ignoring() group_left() bar'],
    ['foo * on() bar', 'foo * on() bar'],
    ['label_join(foo,"d",",","a")', 'label_join(foo, "d", ",", "a")'],
    ['time()', 'time()'],
    ['1e-7', '0.0000001'],
    ['0x10', '16'],
    ['-Inf', '-Inf'],
    ['NaN', 'NaN'],
    ['"a\\nb"', '"a\\nb"'],
    ["'it\\'s'", '"it\'s"'],
    ['`a"b\\c`', '"a\\"b\\\\c"'],
    ['"\\x01é"', '"\\x01é"'],
  ])('%s', (input, expected) => {
    expect(printExpr(parseExpr(input))).toBe(expected);
  });
});

describe('formatNumber', () => {
  it.each<[number, string]>([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-2.5, '-2.5'],
    [0.1, '0.1'],
    [1e-7, '0.0000001'],
    [1.5e-10, '0.00000000015'],
    [1e21, '1000000000000000000000'],
    [1.2345e22, '12345000000000000000000'],
    [123456789012345680000, '123456789012345680000'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
  ])('%s', (v, expected) => {
    expect(formatNumber(v)).toBe(expected);
    // The printed form parses back to the same float.
    if (Number.isFinite(v)) expect(Object.is(Number(expected), v)).toBe(true);
  });
});
