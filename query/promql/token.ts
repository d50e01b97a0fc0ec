/**
 * PromQL token kinds and the keyword table, mirroring the item types of Prometheus 2.42's lexer
 * (`promql/parser/lex.go`). Kinds are plain numbers laid out in ordered ranges so that "is this an
 * operator / aggregator / keyword?" is a range check, and token descriptions in error messages
 * ("unexpected <op:+>", `unexpected identifier "foo"`) follow Prometheus's spelling.
 */

/** Token kinds. The `*_START`/`*_END` markers bound ranges and are never emitted. */
export const Tok = {
  EOF: 0,
  ERROR: 1,
  COMMENT: 2,
  IDENTIFIER: 3,
  METRIC_IDENTIFIER: 4,
  LEFT_PAREN: 5,
  RIGHT_PAREN: 6,
  LEFT_BRACE: 7,
  RIGHT_BRACE: 8,
  LEFT_BRACKET: 9,
  RIGHT_BRACKET: 10,
  COMMA: 11,
  EQL: 12,
  COLON: 13,
  STRING: 14,
  NUMBER: 15,
  DURATION: 16,

  OPERATORS_START: 20,
  ADD: 21,
  DIV: 22,
  EQLC: 23,
  EQL_REGEX: 24,
  GTE: 25,
  GTR: 26,
  LAND: 27,
  LOR: 28,
  LSS: 29,
  LTE: 30,
  LUNLESS: 31,
  MOD: 32,
  MUL: 33,
  NEQ: 34,
  NEQ_REGEX: 35,
  POW: 36,
  SUB: 37,
  AT: 38,
  ATAN2: 39,
  OPERATORS_END: 40,

  AGGREGATORS_START: 50,
  AVG: 51,
  BOTTOMK: 52,
  COUNT: 53,
  COUNT_VALUES: 54,
  GROUP: 55,
  MAX: 56,
  MIN: 57,
  QUANTILE: 58,
  STDDEV: 59,
  STDVAR: 60,
  SUM: 61,
  TOPK: 62,
  AGGREGATORS_END: 63,

  KEYWORDS_START: 70,
  BOOL: 71,
  BY: 72,
  GROUP_LEFT: 73,
  GROUP_RIGHT: 74,
  IGNORING: 75,
  OFFSET: 76,
  ON: 77,
  WITHOUT: 78,
  KEYWORDS_END: 79,

  PREPROCESSORS_START: 80,
  START: 81,
  END: 82,
  PREPROCESSORS_END: 83,
} as const;
/** A token kind: one of the values of {@link Tok}. */
export type TokenKind = (typeof Tok)[keyof typeof Tok];

/**
 * One lexed token. `pos` is the offset of its first character in the query (UTF-16 code units);
 * `text` is the raw source text, except for ERROR tokens where it is the error message (an ERROR
 * token spans from `pos` to the end of the input, as in Prometheus).
 */
export interface Token {
  readonly kind: TokenKind;
  readonly pos: number;
  readonly text: string;
}

/**
 * Words the lexer turns into keyword tokens, matched case-insensitively. `inf` and `nan` lex as
 * numbers (Prometheus adds them to its table after building the type names, so they describe
 * themselves as numbers in messages).
 */
export const KEYWORDS: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  ['and', Tok.LAND],
  ['or', Tok.LOR],
  ['unless', Tok.LUNLESS],
  ['atan2', Tok.ATAN2],
  ['sum', Tok.SUM],
  ['avg', Tok.AVG],
  ['count', Tok.COUNT],
  ['min', Tok.MIN],
  ['max', Tok.MAX],
  ['group', Tok.GROUP],
  ['stddev', Tok.STDDEV],
  ['stdvar', Tok.STDVAR],
  ['topk', Tok.TOPK],
  ['bottomk', Tok.BOTTOMK],
  ['count_values', Tok.COUNT_VALUES],
  ['quantile', Tok.QUANTILE],
  ['offset', Tok.OFFSET],
  ['by', Tok.BY],
  ['without', Tok.WITHOUT],
  ['on', Tok.ON],
  ['ignoring', Tok.IGNORING],
  ['group_left', Tok.GROUP_LEFT],
  ['group_right', Tok.GROUP_RIGHT],
  ['bool', Tok.BOOL],
  ['start', Tok.START],
  ['end', Tok.END],
  ['inf', Tok.NUMBER],
  ['nan', Tok.NUMBER],
]);

/** Fixed spellings of punctuation and operator kinds (Prometheus's `ItemTypeStr`). */
const SYMBOLS: ReadonlyMap<TokenKind, string> = new Map<TokenKind, string>([
  [Tok.LEFT_PAREN, '('],
  [Tok.RIGHT_PAREN, ')'],
  [Tok.LEFT_BRACE, '{'],
  [Tok.RIGHT_BRACE, '}'],
  [Tok.LEFT_BRACKET, '['],
  [Tok.RIGHT_BRACKET, ']'],
  [Tok.COMMA, ','],
  [Tok.EQL, '='],
  [Tok.COLON, ':'],
  [Tok.ADD, '+'],
  [Tok.SUB, '-'],
  [Tok.MUL, '*'],
  [Tok.DIV, '/'],
  [Tok.MOD, '%'],
  [Tok.POW, '^'],
  [Tok.EQLC, '=='],
  [Tok.NEQ, '!='],
  [Tok.LTE, '<='],
  [Tok.LSS, '<'],
  [Tok.GTE, '>='],
  [Tok.GTR, '>'],
  [Tok.EQL_REGEX, '=~'],
  [Tok.NEQ_REGEX, '!~'],
  [Tok.AT, '@'],
]);

/** Whether `k` is an operator kind (binary operators, `@`, `atan2`). */
export function isOperator(k: TokenKind): boolean {
  return k > Tok.OPERATORS_START && k < Tok.OPERATORS_END;
}

/** Whether `k` is an aggregation operator kind (`sum`, `topk`, …). */
export function isAggregator(k: TokenKind): boolean {
  return k > Tok.AGGREGATORS_START && k < Tok.AGGREGATORS_END;
}

/** Whether `k` is a keyword kind (`by`, `offset`, `bool`, …). */
export function isKeyword(k: TokenKind): boolean {
  return k > Tok.KEYWORDS_START && k < Tok.KEYWORDS_END;
}

/** Whether `k` is `start` or `end` (the `@` modifier preprocessors). */
export function isPreprocessor(k: TokenKind): boolean {
  return k > Tok.PREPROCESSORS_START && k < Tok.PREPROCESSORS_END;
}

/**
 * Quotes a string as Go's `strconv.Quote` does: double quotes, `\a \b \f \n \r \t \v \\ \"`
 * escapes, other non-printable characters as `\xNN`, `\uNNNN` or `\UNNNNNNNN`, printable Unicode
 * kept as is. Used for echoing user text in messages and for printing string literals.
 */
export function goQuote(s: string): string {
  return `"${goEscape(s, '"')}"`;
}

/** Quotes one character as Go's `%q` does for a rune: `'x'`, `'\n'`, `'\x00'`. */
export function goQuoteRune(ch: string): string {
  return `'${goEscape(ch, "'")}'`;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Whether one character is printable in Go's sense (`strconv.IsPrint`: letters, marks, numbers, punctuation, symbols, ASCII space). */
export function isPrintable(ch: string): boolean {
  return PRINTABLE.test(ch);
}

function goEscape(s: string, quote: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') {
      out += `\\${ch}`;
    } else if (cp >= 0xd800 && cp < 0xe000) {
      out += '\\ufffd';
    } else if (PRINTABLE.test(ch)) {
      out += ch;
    } else {
      switch (ch) {
        case '\x07': out += '\\a'; break;
        case '\b': out += '\\b'; break;
        case '\f': out += '\\f'; break;
        case '\n': out += '\\n'; break;
        case '\r': out += '\\r'; break;
        case '\t': out += '\\t'; break;
        case '\v': out += '\\v'; break;
        default:
          if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
          else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
          else out += `\\U${cp.toString(16).padStart(8, '0')}`;
      }
    }
  }
  return out;
}

/**
 * Describes a token for "unexpected …" messages the way Prometheus's `Item.desc()` does:
 * `end of input`, `"("`, `<op:+>`, `<aggr:sum>`, `<by>`, `identifier "foo"`, `number "1"`,
 * `string "\"a\""`, `duration "5m"` (long texts cut to 10 characters plus `...`).
 */
export function describeToken(t: Token): string {
  const k = t.kind;
  if (k === Tok.EOF) return 'end of input';
  if (k === Tok.ERROR) return t.text;
  if (isOperator(k)) return `<op:${t.text}>`;
  if (isAggregator(k)) return `<aggr:${t.text}>`;
  if (isKeyword(k)) return `<${t.text}>`;
  if (SYMBOLS.has(k) || isPreprocessor(k)) return goQuote(t.text);
  switch (k) {
    case Tok.IDENTIFIER:
      return `identifier ${goQuote(t.text)}`;
    case Tok.METRIC_IDENTIFIER:
      return `metric identifier ${goQuote(t.text)}`;
    case Tok.STRING:
      return `string ${shortQuote(t.text)}`;
    case Tok.NUMBER:
      return `number ${shortQuote(t.text)}`;
    case Tok.DURATION:
      return `duration ${shortQuote(t.text)}`;
    case Tok.COMMENT:
      return `comment ${shortQuote(t.text)}`;
    default:
      return goQuote(t.text);
  }
}

/** Go's `%.10q...` for long texts: the first 10 characters quoted, then `...`. */
function shortQuote(text: string): string {
  const chars = Array.from(text);
  return chars.length > 10 ? `${goQuote(chars.slice(0, 10).join(''))}...` : goQuote(text);
}
