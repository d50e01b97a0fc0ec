import { describe, expect, it } from 'vitest';
import { compileRegex } from './matchers.js';
import { RegexSyntaxError, translateGoRegex } from './go-regex.js';

// What Prometheus (Go RE2, anchored) matches, checked through compileRegex.
describe('Go regex syntax', () => {
  it.each<[string, string, boolean]>([
    ['[[:digit:]]+', '123', true],
    ['[[:digit:]]+', '12a', false],
    ['[[:alpha:]_]+', 'ab_c', true],
    ['[^[:space:]]+', 'a b', false],
    ['[[:upper:]][[:lower:]]*', 'Hello', true],
    ['(?i)foo', 'FOO', true],
    ['(?s)a.b', 'a\nb', true],
    ['a.b', 'a\nb', false],
    ['(?is)A.B', 'a\nb', true],
    ['(?P<x>a+)b', 'aab', true],
    ['\\Aab\\z', 'ab', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['[]a]+', ']a]', true],
    ['foo|bar', 'bar', true],
    ['foo|bar', 'foobar', false],
    ['.*', '', true],
  ])('%s on %j → %s', (pattern, text, want) => {
    expect(compileRegex(pattern).test(text)).toBe(want);
  });

  // RE2 (Go 1.20, as in Prometheus 2.42) rejects these too.
  it.each(['a(?=b)', 'a(?!b)', '(?<=a)b', '(?<!a)b', '(a)\\1', '[[:nope:]]', '(?<n>a)'])(
    'rejects %s as RE2 does',
    (pattern) => {
      expect(() => translateGoRegex(pattern)).toThrow(RegexSyntaxError);
      expect(() => compileRegex(pattern)).toThrow(/invalid regular expression/);
    },
  );

  // RE2 accepts these but JS has no equivalent: a clear 400 rather than a wrong answer.
  it.each(['(?U)a+', '(?m)^a', 'a(?i)b', '[[:^digit:]]'])(
    'reports %s as unsupported',
    (pattern) => {
      expect(() => translateGoRegex(pattern)).toThrow(RegexSyntaxError);
      expect(() => compileRegex(pattern)).toThrow(/invalid regular expression/);
    },
  );
});
