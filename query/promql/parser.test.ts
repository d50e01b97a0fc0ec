import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.js';
import type { Expr } from './ast.js';
import { formatParseError, parse, parseExpr, parseGoNumber, parseMetricSelector, unquote } from './parser.js';
import { printExpr } from './printer.js';
import { mulberry32 } from '../../load/generator/workload.js';

/** Every node of a tree with its kind and position, depth first. */
function positions(e: Expr): string[] {
  const out = [`${e.kind}@${e.pos.start}-${e.pos.end}`];
  switch (e.kind) {
    case 'MatrixSelector':
      out.push(...positions(e.vectorSelector));
      break;
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
      out.push(...positions(e.expr));
      break;
    case 'BinaryExpr':
      out.push(...positions(e.lhs), ...positions(e.rhs));
      break;
    case 'AggregateExpr':
      if (e.param !== null) out.push(...positions(e.param));
      out.push(...positions(e.expr));
      break;
    case 'Call':
      for (const a of e.args) out.push(...positions(a));
      break;
    default:
      break;
  }
  return out;
}

describe('node positions', () => {
  it.each<[string, string[]]>([
    ['sum(rate(foo[5m]))', [
      'AggregateExpr@0-18', 'Call@4-17', 'MatrixSelector@9-16', 'VectorSelector@9-12',
    ]],
    ['sum(x) by (a, b)', ['AggregateExpr@0-16', 'VectorSelector@4-5']],
    ['-1 + -foo', ['BinaryExpr@0-9', 'NumberLiteral@0-2', 'UnaryExpr@5-9', 'VectorSelector@6-9']],
    ['foo{a="b"} offset 5m @ 10', ['VectorSelector@0-25']],
    ['foo[5m] offset 1m', ['MatrixSelector@0-17', 'VectorSelector@0-3']],
    ['(x)[5m:1m] @ end()', ['SubqueryExpr@0-18', 'ParenExpr@0-3', 'VectorSelector@1-2']],
    ['{a="b"}', ['VectorSelector@0-7']],
  ])('%s', (query, expected) => {
    expect(positions(parseExpr(query))).toEqual(expected);
  });
});

describe('parse', () => {
  it('returns the tree and no errors for a valid query', () => {
    const r = parse('up == 1');
    expect(r.errors).toEqual([]);
    expect(r.expr?.kind).toBe('BinaryExpr');
  });

  it('returns errors with positions and a null tree for an invalid one', () => {
    const r = parse('rate(foo)');
    expect(r.expr).toBeNull();
    expect(r.errors).toEqual([
      { pos: { start: 5, end: 8 }, message: 'expected type range vector in call to function "rate", got instant vector' },
    ]);
  });

  it('keeps collecting non-syntax errors and reports the first one', () => {
    const r = parse('foo[0s] + bar offset 0s');
    expect(r.errors.map((e) => e.message)).toEqual(['duration must be greater than 0', 'duration must be greater than 0']);
    expect(r.errors.map((e) => e.pos.start)).toEqual([4, 21]);
    expect(() => parseExpr('foo[0s] + bar offset 0s')).toThrow('1:5: parse error: duration must be greater than 0');
  });

  it('type-checks only after a clean parse', () => {
    // The type error (string operand) is not reported because of the syntax error after it.
    expect(parse('"a" + 1 +').errors.map((e) => e.message)).toEqual(['unexpected end of input']);
  });

  it('normalizes vector matching in the checked tree', () => {
    const and = parseExpr('a and b');
    expect(and.kind === 'BinaryExpr' && and.matching?.card).toBe('many-to-many');
    const scalar = parseExpr('a + ignoring() group_left() 1');
    expect(scalar.kind === 'BinaryExpr' && scalar.matching).toBeNull();
  });
});

describe('parseExpr errors', () => {
  it('throws a bad_data AppError with code promql-parse', () => {
    let thrown: unknown;
    try {
      parseExpr('sum(');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ kind: 'bad_data', code: 'promql-parse', message: '1:5: parse error: unclosed left parenthesis' });
  });

  it('turns stack exhaustion on absurd nesting into an AppError, never a RangeError', () => {
    const deep = `${'('.repeat(50_000)}1${')'.repeat(50_000)}`;
    let thrown: unknown = null;
    try {
      parseExpr(deep);
    } catch (err) {
      thrown = err;
    }
    // Either it parses or it fails as a parse error; nothing else may escape.
    if (thrown !== null) expect(thrown).toMatchObject({ kind: 'bad_data', code: 'promql-parse' });
  });
});

describe('parseMetricSelector', () => {
  it.each<[string, string]>([
    ['up', '__name__="up"'],
    ['up{job="a",x=~"b.*"}', 'job="a" x=~"b.*" __name__="up"'],
    ['{__name__=~"probe_.+"}', '__name__=~"probe_.+"'],
    // Not type-checked, as upstream: the API layer rejects all-empty selectors itself.
    ['{job=~".*"}', 'job=~".*"'],
    ['sum', '__name__="sum"'],
  ])('%s', (query, expected) => {
    const ops = ['=', '!=', '=~', '!~'];
    expect(parseMetricSelector(query).map((m) => `${m.name}${ops[m.type]}${JSON.stringify(m.value)}`).join(' ')).toBe(expected);
  });

  it.each<[string, string]>([
    ['sum(x)', '1:4: parse error: unexpected "("'],
    ['1', '1:1: parse error: unexpected number "1"'],
    ['up offset 5m', '1:4: parse error: unexpected <offset>'],
    ['up{', '1:4: parse error: unexpected end of input inside braces'],
    ['', '1:1: parse error: unexpected end of input'],
  ])('%s fails', (query, message) => {
    expect(() => parseMetricSelector(query)).toThrow(message);
  });
});

describe('formatParseError', () => {
  it.each<[string, number, string]>([
    ['foo bar', 4, '1:5: parse error: m'],
    ['a\nb\ncd', 5, '3:2: parse error: m'],
    ['a\n', 2, '2:1: parse error: m'],
    // Columns count UTF-8 bytes, like Prometheus: "é" is 2 bytes, "😀" 4.
    ['"é😀" x', 5, '1:9: parse error: m'],
    ['x', 5, 'invalid position: parse error: m'],
  ])('%j at %d', (query, start, expected) => {
    expect(formatParseError(query, { pos: { start, end: start }, message: 'm' })).toBe(expected);
  });

  it('renders internal failures without a position, as upstream', () => {
    expect(formatParseError('x', { pos: { start: 0, end: 0 }, message: 'unexpected error', internal: true })).toBe(
      'unexpected error',
    );
  });
});

describe('parseGoNumber', () => {
  it.each<[string, number | string]>([
    ['0', 0],
    ['0x10', 16],
    ['0XfF', 255],
    ['017', 15],
    ['019', 19],
    ['9223372036854775807', 9223372036854775807],
    ['1e3', 1000],
    ['.5', 0.5],
    ['5.', 5],
    ['Inf', Number.POSITIVE_INFINITY],
    ['nan', Number.NaN],
    ['0x8000000000000000', 'strconv.ParseFloat: parsing "0x8000000000000000": invalid syntax'],
    ['1e309', 'strconv.ParseFloat: parsing "1e309": value out of range'],
    ['1e', 'strconv.ParseFloat: parsing "1e": invalid syntax'],
  ])('%s', (text, expected) => {
    expect(parseGoNumber(text)).toEqual(expected);
  });
});

describe('unquote', () => {
  it.each<[string, string]>([
    ['"plain"', 'plain'],
    ['"a\\nb\\t\\\\"', 'a\nb\t\\'],
    ["'it\\'s'", "it's"],
    ['"\\"q\\""', '"q"'],
    ['"\\a\\b\\f\\r\\v"', '\x07\b\f\r\v'],
    ['"\\101\\x42\\u00e9\\U0001F600"', 'ABé😀'],
    ['"\\xc3\\xa9"', 'é'],
    ['"\\xff"', '\uFFFD'],
    ['`raw\\n`', 'raw\\n'],
  ])('%s', (text, expected) => {
    expect(unquote(text)).toBe(expected);
  });
});

/** Seeded PRNG so failures reproduce. */
const rng = mulberry32;

/** PromQL-ish fragments, so that random sequences are often valid queries. */
const FRAGMENTS = [
  'foo', 'bar{a="b"}', '{x=~"y.+"}', '1', '2.5', '"s"', 'sum', 'by (a)', 'without (b)', 'topk', 'count_values',
  'rate', 'abs', 'label_join', 'time()', '(', ')', ',', '[5m]', '[5m:1m]', '[1h:]', 'offset 5m', 'offset -1m',
  '@ 100', '@ start()', '+', '-', '*', '/', '^', '==', '!=', '> bool', 'and', 'or', 'unless', 'on(a)',
  'ignoring(b)', 'group_left(c)', 'group_right', 'atan2', '# c\n', 'Inf', 'NaN', 'by', 'on', ']', '}', '{',
];

describe('parser robustness', () => {
  it('never throws from parse, only AppError from parseExpr, and round-trips what it accepts', () => {
    const next = rng(7);
    let validCount = 0;
    for (let n = 0; n < 3000; n++) {
      const len = 1 + Math.floor(next() * 8);
      const parts: string[] = [];
      for (let i = 0; i < len; i++) parts.push(FRAGMENTS[Math.floor(next() * FRAGMENTS.length)] as string);
      const query = parts.join(next() < 0.5 ? ' ' : '');
      const r = parse(query);
      expect(r.errors.some((e) => e.internal === true), query).toBe(false);
      if (r.expr === null) {
        expect(r.errors.length, query).toBeGreaterThan(0);
        expect(() => parseExpr(query), query).toThrow(AppError);
        continue;
      }
      validCount++;
      const printed = printExpr(r.expr);
      const again = parse(printed);
      expect(again.errors, `${query} → ${printed}`).toEqual([]);
      expect(printExpr(again.expr as Expr), query).toBe(printed);
    }
    // The generator must actually exercise the happy path.
    expect(validCount).toBeGreaterThan(100);
  });
});
