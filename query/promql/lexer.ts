import { KEYWORDS, Tok, goQuote, goQuoteRune, isPrintable, type Token, type TokenKind } from './token.js';

/**
 * PromQL lexer: a state-function machine after Prometheus 2.42's `promql/parser/lex.go`. It never
 * throws on user input: a problem becomes one ERROR token (text = message) at the position where
 * Prometheus reports it, and lexing stops there. Positions are offsets into the JS string (UTF-16
 * code units); `formatParseError` turns them into Prometheus's byte-based columns.
 */

/** Returned by `next()` at the end of the input. */
const EOF_CH = -1;
/** Go's `utf8.RuneError`; a literal U+FFFD (or a lone surrogate) in a string is rejected like invalid UTF-8. */
const RUNE_ERROR = 0xfffd;

type StateFn = (l: LexState) => StateFn | null;

/** Mutable lexer state shared by the state functions; one instance per `lex()` call. */
class LexState {
  readonly tokens: Token[] = [];
  pos = 0;
  start = 0;
  /** Width of the last rune read by next(), so backup() can undo exactly one read. */
  width = 0;
  parenDepth = 0;
  braceOpen = false;
  bracketOpen = false;
  gotColon = false;
  /** The quote character (code point) of the string being scanned. */
  stringOpen = 0;

  constructor(readonly input: string) {}

  next(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF_CH;
    }
    const cp = this.input.codePointAt(this.pos) as number;
    if (cp > 0xffff) {
      this.width = 2;
      this.pos += 2;
      return cp;
    }
    this.width = 1;
    this.pos += 1;
    return cp >= 0xd800 && cp < 0xe000 ? RUNE_ERROR : cp;
  }

  backup(): void {
    this.pos -= this.width;
  }

  peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  ignore(): void {
    this.start = this.pos;
  }

  accept(valid: string): boolean {
    const r = this.next();
    if (r !== EOF_CH && valid.includes(String.fromCodePoint(r))) return true;
    this.backup();
    return false;
  }

  acceptRun(valid: string): void {
    while (this.accept(valid)) {
      // consume
    }
  }

  emit(kind: TokenKind): void {
    this.tokens.push({ kind, pos: this.start, text: this.input.slice(this.start, this.pos) });
    this.start = this.pos;
  }

  errorf(message: string): null {
    this.tokens.push({ kind: Tok.ERROR, pos: this.start, text: message });
    return null;
  }

  /**
   * Scans a number without validating it (the parser does that). Returns true when the number is
   * not followed by an alphanumeric character, i.e. it is a number and not the start of a duration.
   */
  scanNumber(): boolean {
    let digits = '0123456789';
    if (this.accept('0') && this.accept('xX')) digits = '0123456789abcdefABCDEF';
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789');
    }
    return !isAlphaNumeric(this.peek());
  }

  /** After the digits of a duration: units and further digit/unit groups, then a non-alphanumeric. */
  acceptRemainingDuration(): boolean {
    if (!this.accept('smhdwy')) return false;
    // `ms`; bad combinations like `hs` are rejected later by the duration parser, as upstream.
    this.accept('s');
    while (this.accept('0123456789')) {
      this.acceptRun('0123456789');
      // `y` may only come first.
      if (!this.accept('smhdw')) return false;
      this.accept('s');
    }
    return !isAlphaNumeric(this.next());
  }
}

function isSpace(r: number): boolean {
  return r === 0x20 || r === 0x09 || r === 0x0a || r === 0x0d;
}

function isEndOfLine(r: number): boolean {
  return r === 0x0a || r === 0x0d;
}

function isDigit(r: number): boolean {
  return r >= 0x30 && r <= 0x39;
}

function isAlpha(r: number): boolean {
  return r === 0x5f || (r >= 0x61 && r <= 0x7a) || (r >= 0x41 && r <= 0x5a);
}

function isAlphaNumeric(r: number): boolean {
  return isAlpha(r) || isDigit(r);
}

function rune(r: number): string {
  return goQuoteRune(String.fromCodePoint(r));
}

/** Go's `%#U`: `U+0027 '''` for printable runes, `U+000A` otherwise. */
function unicodeDesc(r: number): string {
  const hex = `U+${r.toString(16).toUpperCase().padStart(4, '0')}`;
  const ch = String.fromCodePoint(r);
  return isPrintable(ch) ? `${hex} '${ch}'` : hex;
}

const lexStatements: StateFn = (l) => {
  if (l.braceOpen) return lexInsideBraces;
  if (l.input.startsWith('#', l.pos)) return lexLineComment;

  const r = l.next();
  switch (r) {
    case EOF_CH:
      if (l.parenDepth !== 0) return l.errorf('unclosed left parenthesis');
      if (l.bracketOpen) return l.errorf('unclosed left bracket');
      l.emit(Tok.EOF);
      return null;
    case 0x2c: // ,
      l.emit(Tok.COMMA);
      return lexStatements;
    case 0x2a: // *
      l.emit(Tok.MUL);
      return lexStatements;
    case 0x2f: // /
      l.emit(Tok.DIV);
      return lexStatements;
    case 0x25: // %
      l.emit(Tok.MOD);
      return lexStatements;
    case 0x2b: // +
      l.emit(Tok.ADD);
      return lexStatements;
    case 0x2d: // -
      l.emit(Tok.SUB);
      return lexStatements;
    case 0x5e: // ^
      l.emit(Tok.POW);
      return lexStatements;
    case 0x3d: { // =
      const t = l.peek();
      if (t === 0x3d) {
        l.next();
        l.emit(Tok.EQLC);
      } else if (t === 0x7e) {
        return l.errorf(`unexpected character after '=': ${rune(t)}`);
      } else {
        l.emit(Tok.EQL);
      }
      return lexStatements;
    }
    case 0x21: { // !
      const t = l.next();
      if (t !== 0x3d) return l.errorf(`unexpected character after '!': ${rune(t === EOF_CH ? RUNE_ERROR : t)}`);
      l.emit(Tok.NEQ);
      return lexStatements;
    }
    case 0x3c: // <
      if (l.peek() === 0x3d) {
        l.next();
        l.emit(Tok.LTE);
      } else {
        l.emit(Tok.LSS);
      }
      return lexStatements;
    case 0x3e: // >
      if (l.peek() === 0x3d) {
        l.next();
        l.emit(Tok.GTE);
      } else {
        l.emit(Tok.GTR);
      }
      return lexStatements;
    case 0x22: // "
    case 0x27: // '
      l.stringOpen = r;
      return lexString;
    case 0x60: // `
      l.stringOpen = r;
      return lexRawString;
    case 0x28: // (
      l.emit(Tok.LEFT_PAREN);
      l.parenDepth++;
      return lexStatements;
    case 0x29: // )
      l.parenDepth--;
      if (l.parenDepth < 0) {
        // Upstream emits the `)` and then overwrites it with the error, positioned after it.
        l.start = l.pos;
        return l.errorf(`unexpected right parenthesis ${rune(r)}`);
      }
      l.emit(Tok.RIGHT_PAREN);
      return lexStatements;
    case 0x7b: // {
      l.emit(Tok.LEFT_BRACE);
      l.braceOpen = true;
      return lexInsideBraces;
    case 0x5b: // [
      if (l.bracketOpen) return l.errorf(`unexpected left bracket ${rune(r)}`);
      l.gotColon = false;
      l.emit(Tok.LEFT_BRACKET);
      while (isSpace(l.peek())) l.next();
      l.ignore();
      l.bracketOpen = true;
      return lexDuration;
    case 0x5d: // ]
      if (!l.bracketOpen) return l.errorf(`unexpected right bracket ${rune(r)}`);
      l.emit(Tok.RIGHT_BRACKET);
      l.bracketOpen = false;
      return lexStatements;
    case 0x40: // @
      l.emit(Tok.AT);
      return lexStatements;
    default:
      break;
  }
  if (isSpace(r)) return lexSpace;
  if (isDigit(r) || (r === 0x2e && isDigit(l.peek()))) {
    l.backup();
    return lexNumberOrDuration;
  }
  if (isAlpha(r) || r === 0x3a) {
    if (!l.bracketOpen) {
      l.backup();
      return lexKeywordOrIdentifier;
    }
    if (r !== 0x3a) return l.errorf(`unexpected character: ${rune(r)}, expected ':'`);
    if (l.gotColon) return l.errorf(`unexpected colon ${rune(r)}`);
    l.emit(Tok.COLON);
    l.gotColon = true;
    return lexStatements;
  }
  return l.errorf(`unexpected character: ${rune(r)}`);
};

/** Inside `{…}`: keywords are plain identifiers, only matcher syntax is allowed. */
const lexInsideBraces: StateFn = (l) => {
  if (l.input.startsWith('#', l.pos)) return lexLineComment;
  const r = l.next();
  if (r === EOF_CH) return l.errorf('unexpected end of input inside braces');
  if (isSpace(r)) return lexSpace;
  if (isAlpha(r)) {
    l.backup();
    return lexIdentifier;
  }
  switch (r) {
    case 0x2c:
      l.emit(Tok.COMMA);
      return lexInsideBraces;
    case 0x22:
    case 0x27:
      l.stringOpen = r;
      return lexString;
    case 0x60:
      l.stringOpen = r;
      return lexRawString;
    case 0x3d: // =
      if (l.next() === 0x7e) {
        l.emit(Tok.EQL_REGEX);
      } else {
        l.backup();
        l.emit(Tok.EQL);
      }
      return lexInsideBraces;
    case 0x21: { // !
      const nr = l.next();
      if (nr === 0x7e) l.emit(Tok.NEQ_REGEX);
      else if (nr === 0x3d) l.emit(Tok.NEQ);
      else return l.errorf(`unexpected character after '!' inside braces: ${rune(nr === EOF_CH ? RUNE_ERROR : nr)}`);
      return lexInsideBraces;
    }
    case 0x7b:
      return l.errorf(`unexpected left brace ${rune(r)}`);
    case 0x7d:
      l.emit(Tok.RIGHT_BRACE);
      l.braceOpen = false;
      return lexStatements;
    default:
      return l.errorf(`unexpected character inside braces: ${rune(r)}`);
  }
};

const lexString: StateFn = (l) => {
  for (;;) {
    const r = l.next();
    if (r === 0x5c) return lexEscape;
    if (r === RUNE_ERROR) return l.errorf('invalid UTF-8 rune');
    if (r === EOF_CH || r === 0x0a) return l.errorf('unterminated quoted string');
    if (r === l.stringOpen) break;
  }
  l.emit(Tok.STRING);
  return lexStatements;
};

const lexRawString: StateFn = (l) => {
  for (;;) {
    const r = l.next();
    if (r === RUNE_ERROR) return l.errorf('invalid UTF-8 rune');
    if (r === EOF_CH) return l.errorf('unterminated raw string');
    if (r === l.stringOpen) break;
  }
  l.emit(Tok.STRING);
  return lexStatements;
};

/** After a backslash in a quoted string: validates the escape as Go's scanner does. */
const lexEscape: StateFn = (l) => {
  let ch = l.next();
  let n: number;
  let base: number;
  let max: number;
  switch (ch) {
    case 0x61: case 0x62: case 0x66: case 0x6e: case 0x72: case 0x74: case 0x76: case 0x5c: // a b f n r t v \
      return lexString;
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37:
      n = 3; base = 8; max = 255;
      break;
    case 0x78: // x
      ch = l.next(); n = 2; base = 16; max = 255;
      break;
    case 0x75: // u
      ch = l.next(); n = 4; base = 16; max = 0x10ffff;
      break;
    case 0x55: // U
      ch = l.next(); n = 8; base = 16; max = 0x10ffff;
      break;
    case EOF_CH:
      return l.errorf('escape sequence not terminated');
    default:
      if (ch === l.stringOpen) return lexString;
      return l.errorf(`unknown escape sequence ${unicodeDesc(ch)}`);
  }
  let x = 0;
  while (n > 0) {
    const d = digitVal(ch);
    if (d >= base) {
      if (ch === EOF_CH) return l.errorf('escape sequence not terminated');
      return l.errorf(`illegal character ${unicodeDesc(ch)} in escape sequence`);
    }
    x = x * base + d;
    n--;
    if (n > 0) ch = l.next();
  }
  if (x > max || (x >= 0xd800 && x < 0xe000)) return l.errorf('escape sequence is an invalid Unicode code point');
  return lexString;
};

function digitVal(ch: number): number {
  if (ch >= 0x30 && ch <= 0x39) return ch - 0x30;
  if (ch >= 0x61 && ch <= 0x66) return ch - 0x61 + 10;
  if (ch >= 0x41 && ch <= 0x46) return ch - 0x41 + 10;
  return 16;
}

const lexSpace: StateFn = (l) => {
  while (isSpace(l.peek())) l.next();
  l.ignore();
  return lexStatements;
};

const lexLineComment: StateFn = (l) => {
  l.pos += 1;
  let r = l.next();
  while (!isEndOfLine(r) && r !== EOF_CH) r = l.next();
  l.backup();
  l.emit(Tok.COMMENT);
  return lexStatements;
};

const lexNumberOrDuration: StateFn = (l) => {
  if (l.scanNumber()) {
    l.emit(Tok.NUMBER);
    return lexStatements;
  }
  if (l.acceptRemainingDuration()) {
    l.backup();
    l.emit(Tok.DURATION);
    return lexStatements;
  }
  return l.errorf(`bad number or duration syntax: ${goQuote(l.input.slice(l.start, l.pos))}`);
};

/** Right after `[`: the range must be a duration with a unit. */
const lexDuration: StateFn = (l) => {
  if (l.scanNumber()) return l.errorf('missing unit character in duration');
  if (!l.acceptRemainingDuration()) {
    return l.errorf(`bad duration syntax: ${goQuote(l.input.slice(l.start, l.pos))}`);
  }
  l.backup();
  l.emit(Tok.DURATION);
  return lexStatements;
};

/** Identifier inside braces: letters, digits, underscores; never a keyword. */
const lexIdentifier: StateFn = (l) => {
  while (isAlphaNumeric(l.next())) {
    // absorb
  }
  l.backup();
  l.emit(Tok.IDENTIFIER);
  return lexStatements;
};

const lexKeywordOrIdentifier: StateFn = (l) => {
  for (;;) {
    const r = l.next();
    if (isAlphaNumeric(r) || r === 0x3a) continue;
    l.backup();
    break;
  }
  const word = l.input.slice(l.start, l.pos);
  const kw = KEYWORDS.get(word.toLowerCase());
  if (kw !== undefined) l.emit(kw);
  else if (!word.includes(':')) l.emit(Tok.IDENTIFIER);
  else l.emit(Tok.METRIC_IDENTIFIER);
  return lexStatements;
};

/**
 * Lexes a whole query. The result always ends with exactly one EOF or ERROR token; COMMENT tokens
 * are included (the parser skips them). Never throws.
 */
export function lex(input: string): Token[] {
  const l = new LexState(input);
  let state: StateFn | null = lexStatements;
  // Every state either consumes input or hands over to one that does; the bound only guards
  // against a bug turning into an endless loop.
  let budget = input.length * 8 + 64;
  while (state !== null) {
    if (--budget < 0) {
      l.start = Math.min(l.pos, input.length);
      l.errorf('unexpected error');
      break;
    }
    state = state(l);
  }
  return l.tokens;
}
