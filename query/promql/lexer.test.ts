import { describe, expect, it } from 'vitest';
import { lex } from './lexer.js';
import { Tok, type Token } from './token.js';
import { mulberry32 } from '../../load/generator/workload.js';

const KIND_NAMES = new Map<number, string>(Object.entries(Tok).map(([name, kind]) => [kind, name]));

/** Tokens as `KIND:text` strings (ERROR tokens as `ERROR@pos:message`), EOF left out. */
function show(input: string): string[] {
  return lex(input)
    .filter((t) => t.kind !== Tok.EOF)
    .map((t) => (t.kind === Tok.ERROR ? `ERROR@${t.pos}:${t.text}` : `${KIND_NAMES.get(t.kind)}:${t.text}`));
}

describe('lex', () => {
  it.each<[string, string, string[]]>([
    ['selector with range and offset', 'foo{a="b"}[5m] offset 1h', [
      'IDENTIFIER:foo', 'LEFT_BRACE:{', 'IDENTIFIER:a', 'EQL:=', 'STRING:"b"', 'RIGHT_BRACE:}',
      'LEFT_BRACKET:[', 'DURATION:5m', 'RIGHT_BRACKET:]', 'OFFSET:offset', 'DURATION:1h',
    ]],
    ['numbers', '1 4.23 .3 5. 0x1f 1e-3 2E+5', [
      'NUMBER:1', 'NUMBER:4.23', 'NUMBER:.3', 'NUMBER:5.', 'NUMBER:0x1f', 'NUMBER:1e-3', 'NUMBER:2E+5',
    ]],
    ['Inf and NaN are numbers in any case', 'NaN nAN iNf +Inf', ['NUMBER:NaN', 'NUMBER:nAN', 'NUMBER:iNf', 'ADD:+', 'NUMBER:Inf']],
    ['Inf/NaN prefixes are identifiers', 'NaN123 Infoo', ['IDENTIFIER:NaN123', 'IDENTIFIER:Infoo']],
    ['keywords are case-insensitive', 'sum BY on Ignoring group_LEFT bool WITHOUT', [
      'SUM:sum', 'BY:BY', 'ON:on', 'IGNORING:Ignoring', 'GROUP_LEFT:group_LEFT', 'BOOL:bool', 'WITHOUT:WITHOUT',
    ]],
    ['colons make metric identifiers', 'a:b:c :x', ['METRIC_IDENTIFIER:a:b:c', 'METRIC_IDENTIFIER::x']],
    ['keywords inside braces are identifiers', '{on="x",by!~"y"}', [
      'LEFT_BRACE:{', 'IDENTIFIER:on', 'EQL:=', 'STRING:"x"', 'COMMA:,', 'IDENTIFIER:by', 'NEQ_REGEX:!~', 'STRING:"y"',
      'RIGHT_BRACE:}',
    ]],
    ['comparison and arithmetic operators', '== != <= >= < > + - * / % ^', [
      'EQLC:==', 'NEQ:!=', 'LTE:<=', 'GTE:>=', 'LSS:<', 'GTR:>', 'ADD:+', 'SUB:-', 'MUL:*', 'DIV:/', 'MOD:%', 'POW:^',
    ]],
    ['set operators and atan2', 'and or unless atan2', ['LAND:and', 'LOR:or', 'LUNLESS:unless', 'ATAN2:atan2']],
    ['comments run to the end of the line', '# c1\nfoo # c2', ['COMMENT:# c1', 'IDENTIFIER:foo', 'COMMENT:# c2']],
    ['subquery', 'foo[5m:1m]', [
      'IDENTIFIER:foo', 'LEFT_BRACKET:[', 'DURATION:5m', 'COLON::', 'DURATION:1m', 'RIGHT_BRACKET:]',
    ]],
    ['strings of all three kinds', '"a\\"b" \'c\' `d\\e`', ['STRING:"a\\"b"', "STRING:'c'", 'STRING:`d\\e`']],
    ['at modifier preprocessors', '@ start() end()', [
      'AT:@', 'START:start', 'LEFT_PAREN:(', 'RIGHT_PAREN:)', 'END:end', 'LEFT_PAREN:(', 'RIGHT_PAREN:)',
    ]],
    ['durations outside brackets', 'offset 1h30m 5ms', ['OFFSET:offset', 'DURATION:1h30m', 'DURATION:5ms']],
    ['unterminated string', 'foo "abc', ['IDENTIFIER:foo', 'ERROR@4:unterminated quoted string']],
    ['extra right parenthesis is reported after it', '(1))', [
      'LEFT_PAREN:(', 'NUMBER:1', 'RIGHT_PAREN:)', 'ERROR@4:unexpected right parenthesis \')\'',
    ]],
    ['unclosed parenthesis at the end', '(1', ['LEFT_PAREN:(', 'NUMBER:1', 'ERROR@2:unclosed left parenthesis']],
    ['bad duration in brackets', 'x[5mm]', ['IDENTIFIER:x', 'LEFT_BRACKET:[', 'ERROR@2:bad duration syntax: "5mm"']],
    ['unexpected character', 'a § b', ['IDENTIFIER:a', "ERROR@2:unexpected character: '§'"]],
    ['non-printable character is escaped', 'a \u0001', ["IDENTIFIER:a", "ERROR@2:unexpected character: '\\x01'"]],
    ['invalid UTF-8 in a string', '"a\uFFFDb"', ['ERROR@0:invalid UTF-8 rune']],
  ])('%s', (_name, input, expected) => {
    expect(show(input)).toEqual(expected);
  });

  it('records token positions', () => {
    expect(lex('sum(x) by (a)').map((t) => t.pos)).toEqual([0, 3, 4, 5, 7, 10, 11, 12, 13]);
  });

  it('ends with exactly one EOF or ERROR token', () => {
    expect(lex('').map((t) => t.kind)).toEqual([Tok.EOF]);
    expect(lex('foo').at(-1)?.kind).toBe(Tok.EOF);
    expect(lex('foo{').at(-1)?.kind).toBe(Tok.ERROR);
  });
});

/** Seeded PRNG so failures reproduce. */
const rng = mulberry32;

const CHARS = 'abcxyz_:019.eExX+-*/%^=!~<>(){}[],@#"\'`\\ \t\n\r\f§é😀\u0000\uFFFD\uD800';

function garbage(next: () => number, maxLen: number): string {
  const chars = Array.from(CHARS);
  let s = '';
  const len = Math.floor(next() * maxLen);
  for (let i = 0; i < len; i++) s += chars[Math.floor(next() * chars.length)] as string;
  return s;
}

describe('lexer robustness', () => {
  it('never throws and always terminates properly on garbage input', () => {
    const next = rng(42);
    for (let n = 0; n < 600; n++) {
      const input = garbage(next, 40);
      let tokens: Token[] = [];
      expect(() => {
        tokens = lex(input);
      }, JSON.stringify(input)).not.toThrow();
      const last = tokens.at(-1) as Token;
      expect([Tok.EOF, Tok.ERROR], JSON.stringify(input)).toContain(last.kind);
      const terminals = tokens.filter((t) => t.kind === Tok.EOF || t.kind === Tok.ERROR);
      expect(terminals.length, JSON.stringify(input)).toBe(1);
      let prev = 0;
      for (const t of tokens) {
        expect(t.pos, JSON.stringify(input)).toBeGreaterThanOrEqual(prev);
        expect(t.pos, JSON.stringify(input)).toBeLessThanOrEqual(input.length);
        prev = t.pos;
      }
    }
  });
});
