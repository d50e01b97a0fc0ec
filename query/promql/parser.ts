import { parseDurationMs } from '../../common/duration.js';
import { badData, type AppError } from '../../common/errors.js';
import { compileMatcher } from '../../common/matchers.js';
import { MatchType, type Matcher } from '../../common/types.js';
import type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryOp,
  Expr,
  NumberLiteral,
  PositionRange,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { checkAst } from './check.js';
import { FUNCTION_SIGNATURES } from './function-signatures.js';
import { lex } from './lexer.js';
import { Tok, describeToken, goQuote, isAggregator, isKeyword, type Token, type TokenKind } from './token.js';

/**
 * PromQL parser: precedence climbing over the lexer's tokens, reproducing the grammar, the
 * precedences and the error messages of Prometheus 2.42 (`promql/parser/generated_parser.y`,
 * `parse.go`). Syntax errors stop parsing at the first offending token (Prometheus reports only the
 * first error anyway); errors that upstream raises in grammar actions (bad durations, unknown
 * functions, misplaced `offset`, …) are recorded and parsing goes on, so the first reported error
 * is the same one Prometheus reports. Type checking (check.ts) runs only after a clean parse.
 */

/** One parse or type error: where (offsets into the query, end exclusive) and what. */
export interface ParseError {
  readonly pos: PositionRange;
  /** The bare message, e.g. `unexpected end of input`; see formatParseError for the full text. */
  readonly message: string;
  /** Set when the parser itself failed (a bug); rendered as plain `unexpected error` like upstream. */
  readonly internal?: true;
}

/** Result of {@link parse}: `expr` is null whenever `errors` is non-empty. */
export interface ParseResult {
  readonly expr: Expr | null;
  readonly errors: ParseError[];
}

/** Thrown internally after a syntax error has been recorded; never escapes this module. */
const ABORT: unique symbol = Symbol('promql-parse-abort');

/** Binary operator token → [precedence (higher binds tighter), AST operator]. */
const BINARY_OPS: ReadonlyMap<TokenKind, readonly [number, BinaryOp]> = new Map<TokenKind, readonly [number, BinaryOp]>([
  [Tok.LOR, [1, 'or']],
  [Tok.LAND, [2, 'and']],
  [Tok.LUNLESS, [2, 'unless']],
  [Tok.EQLC, [3, '==']],
  [Tok.NEQ, [3, '!=']],
  [Tok.LTE, [3, '<=']],
  [Tok.LSS, [3, '<']],
  [Tok.GTE, [3, '>=']],
  [Tok.GTR, [3, '>']],
  [Tok.ADD, [4, '+']],
  [Tok.SUB, [4, '-']],
  [Tok.MUL, [5, '*']],
  [Tok.DIV, [5, '/']],
  [Tok.MOD, [5, '%']],
  [Tok.ATAN2, [5, 'atan2']],
  [Tok.POW, [6, '^']],
]);
const POW_PREC = 6;

/** Aggregators that take a parameter before the vector. */
const PARAM_AGGREGATORS: ReadonlySet<string> = new Set(['topk', 'bottomk', 'quantile', 'count_values']);

/** Keywords that may also name a metric when not used as keywords (upstream `metric_identifier`). */
const METRIC_NAME_KEYWORDS: ReadonlySet<TokenKind> = new Set<TokenKind>([
  Tok.BY, Tok.WITHOUT, Tok.OFFSET, Tok.LAND, Tok.LOR, Tok.LUNLESS, Tok.START, Tok.END,
]);

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const INT64_MAX = 2n ** 63n - 1n;

class Parser {
  readonly errors: ParseError[] = [];
  private readonly _toks: Token[];
  private _i = 0;

  constructor(private readonly _input: string) {
    this._toks = lex(_input).filter((t) => t.kind !== Tok.COMMENT);
  }

  parseTop(): Expr | null {
    if (this._peek().kind === Tok.EOF) {
      this._error({ start: 0, end: 0 }, 'no expression found in input');
      return null;
    }
    const expr = this._parseExpression(0);
    const t = this._peek();
    if (t.kind !== Tok.EOF) this._unexpected(t, '', '');
    return expr;
  }

  /** A lone series selector (`name`, `name{…}`, `{…}`) and nothing else (upstream START_METRIC_SELECTOR). */
  parseSelectorTop(): VectorSelector {
    const t = this._peek();
    let vs: VectorSelector;
    if (t.kind === Tok.LEFT_BRACE) {
      vs = this._parseVectorSelector(null);
    } else if (
      t.kind === Tok.IDENTIFIER ||
      t.kind === Tok.METRIC_IDENTIFIER ||
      isAggregator(t.kind) ||
      METRIC_NAME_KEYWORDS.has(t.kind)
    ) {
      this._next();
      vs = this._parseVectorSelector(t);
    } else {
      return this._unexpected(t, '', '');
    }
    const end = this._peek();
    if (end.kind !== Tok.EOF) this._unexpected(end, '', '');
    return vs;
  }

  // --- token access ---------------------------------------------------------------------------

  /** The lookahead token; reaching a lexer ERROR token records its message and aborts. */
  private _peek(): Token {
    const t = this._toks[Math.min(this._i, this._toks.length - 1)] as Token;
    if (t.kind === Tok.ERROR) {
      this.errors.push({ pos: { start: t.pos, end: this._input.length }, message: t.text });
      throw ABORT;
    }
    return t;
  }

  /** Kind of the token after the lookahead, without reporting lexer errors. */
  private _peekKind2(): TokenKind {
    return (this._toks[Math.min(this._i + 1, this._toks.length - 1)] as Token).kind;
  }

  private _next(): Token {
    const t = this._peek();
    if (t.kind !== Tok.EOF) this._i++;
    return t;
  }

  private _expect(kind: TokenKind, context: string, expected: string): Token {
    const t = this._peek();
    if (t.kind !== kind) this._unexpected(t, context, expected);
    return this._next();
  }

  /** Records a non-syntax error and carries on, as upstream grammar actions do. */
  private _error(pos: PositionRange, message: string): void {
    this.errors.push({ pos, message });
  }

  /** Records Prometheus's `unexpected <token>[ in <context>][, expected <what>]` and aborts. */
  private _unexpected(t: Token, context: string, expected: string): never {
    let msg = `unexpected ${describeToken(t)}`;
    if (context !== '') msg += ` in ${context}`;
    if (expected !== '') msg += `, expected ${expected}`;
    this.errors.push({ pos: tokenRange(t), message: msg });
    throw ABORT;
  }

  // --- expressions ------------------------------------------------------------------------------

  /** Binary expressions whose operators bind at least as tightly as `minPrec`. */
  private _parseExpression(minPrec: number): Expr {
    let lhs = this._parseUnary();
    for (;;) {
      const t = this._peek();
      const op = BINARY_OPS.get(t.kind);
      if (op === undefined || op[0] < minPrec) return lhs;
      this._next();
      const [prec, binOp] = op;
      let returnBool = false;
      if (this._peek().kind === Tok.BOOL) {
        this._next();
        returnBool = true;
      }
      const matching = this._parseVectorMatching();
      // `^` is right-associative; everything else is left-associative.
      const rhs = this._parseExpression(prec === POW_PREC ? prec : prec + 1);
      lhs = {
        kind: 'BinaryExpr',
        op: binOp,
        lhs,
        rhs,
        returnBool,
        matching,
        pos: { start: lhs.pos.start, end: rhs.pos.end },
      };
    }
  }

  /** `on(…)`/`ignoring(…)` and `group_left(…)`/`group_right(…)` after an operator (and `bool`). */
  private _parseVectorMatching(): VectorMatching {
    const t = this._peek();
    if (t.kind !== Tok.ON && t.kind !== Tok.IGNORING) {
      return { card: 'one-to-one', on: false, labels: [], include: [] };
    }
    this._next();
    const labels = this._parseGroupingLabels();
    const g = this._peek();
    if (g.kind !== Tok.GROUP_LEFT && g.kind !== Tok.GROUP_RIGHT) {
      return { card: 'one-to-one', on: t.kind === Tok.ON, labels, include: [] };
    }
    this._next();
    // Upstream shifts a following `(` into the label list: `a * on(x) group_left (b)` lists `b`.
    const include = this._peek().kind === Tok.LEFT_PAREN ? this._parseGroupingLabels() : [];
    return {
      card: g.kind === Tok.GROUP_LEFT ? 'many-to-one' : 'one-to-many',
      on: t.kind === Tok.ON,
      labels,
      include,
    };
  }

  /**
   * Unary `+`/`-`: binds looser than `^` and postfix modifiers but tighter than `*` (`-2^2` is -4,
   * `-a * b` is `(-a) * b`). A sign on a number literal folds into the literal, as upstream.
   */
  private _parseUnary(): Expr {
    const t = this._peek();
    if (t.kind !== Tok.ADD && t.kind !== Tok.SUB) return this._parsePostfix(this._parsePrimary());
    this._next();
    const operand = this._parseExpression(POW_PREC);
    const pos = { start: t.pos, end: operand.pos.end };
    if (operand.kind === 'NumberLiteral') {
      return { kind: 'NumberLiteral', value: t.kind === Tok.SUB ? -operand.value : operand.value, pos };
    }
    return { kind: 'UnaryExpr', op: t.kind === Tok.SUB ? '-' : '+', expr: operand, pos };
  }

  private _parsePrimary(): Expr {
    const t = this._peek();
    switch (t.kind) {
      case Tok.NUMBER:
        this._next();
        return { kind: 'NumberLiteral', value: this._number(t), pos: tokenRange(t) };
      case Tok.STRING:
        this._next();
        return { kind: 'StringLiteral', value: unquote(t.text), pos: tokenRange(t) };
      case Tok.LEFT_PAREN: {
        this._next();
        const expr = this._parseExpression(0);
        const rp = this._expect(Tok.RIGHT_PAREN, '', '');
        return { kind: 'ParenExpr', expr, pos: { start: t.pos, end: tokenEnd(rp) } };
      }
      case Tok.LEFT_BRACE:
        return this._parseVectorSelector(null);
      case Tok.IDENTIFIER:
        if (this._peekKind2() === Tok.LEFT_PAREN) return this._parseCall();
        this._next();
        return this._parseVectorSelector(t);
      case Tok.METRIC_IDENTIFIER:
        this._next();
        return this._parseVectorSelector(t);
      default:
        break;
    }
    if (isAggregator(t.kind)) {
      const k2 = this._peekKind2();
      if (k2 === Tok.LEFT_PAREN || k2 === Tok.BY || k2 === Tok.WITHOUT) return this._parseAggregate();
      this._next();
      return this._parseVectorSelector(t);
    }
    if (METRIC_NAME_KEYWORDS.has(t.kind)) {
      this._next();
      return this._parseVectorSelector(t);
    }
    return this._unexpected(t, '', '');
  }

  /** Postfix `[range]`, `[range:step]`, `offset d` and `@ t`, in any order and number. */
  private _parsePostfix(base: Expr): Expr {
    let e = base;
    for (;;) {
      const t = this._peek();
      if (t.kind === Tok.LEFT_BRACKET) {
        this._next();
        e = this._parseRangeOrSubquery(e, t);
      } else if (t.kind === Tok.OFFSET) {
        this._next();
        e = this._parseOffset(e);
      } else if (t.kind === Tok.AT) {
        this._next();
        e = this._parseAt(e);
      } else {
        return e;
      }
    }
  }

  private _parseRangeOrSubquery(e: Expr, lb: Token): Expr {
    const d = this._peek();
    if (d.kind !== Tok.DURATION) this._unexpected(d, 'subquery selector', 'duration');
    this._next();
    const rangeMs = this._duration(d);
    const t = this._peek();
    if (t.kind === Tok.RIGHT_BRACKET) {
      const rb = this._next();
      let errMsg = '';
      if (e.kind !== 'VectorSelector') errMsg = 'ranges only allowed for vector selectors';
      else if (e.offsetMs !== 0) errMsg = 'no offset modifiers allowed before range';
      // Upstream checks only a fixed timestamp here, not start()/end().
      else if (e.at !== null && e.at.type === 'timestamp') errMsg = 'no @ modifiers allowed before range';
      if (errMsg !== '') this._error({ start: lb.pos, end: tokenEnd(rb) }, errMsg);
      if (e.kind !== 'VectorSelector') return e;
      return { kind: 'MatrixSelector', vectorSelector: e, rangeMs, pos: { start: e.pos.start, end: tokenEnd(rb) } };
    }
    if (t.kind !== Tok.COLON) this._unexpected(t, 'subquery or range', '":" or "]"');
    this._next();
    let stepMs = 0;
    const s = this._peek();
    if (s.kind === Tok.DURATION) {
      this._next();
      stepMs = this._duration(s);
      const r = this._peek();
      if (r.kind !== Tok.RIGHT_BRACKET) this._unexpected(r, 'subquery selector', '"]"');
    } else if (s.kind !== Tok.RIGHT_BRACKET) {
      this._unexpected(s, 'subquery selector', 'duration or "]"');
    }
    const rb = this._next();
    return {
      kind: 'SubqueryExpr',
      expr: e,
      rangeMs,
      stepMs,
      offsetMs: 0,
      at: null,
      pos: { start: e.pos.start, end: tokenEnd(rb) },
    };
  }

  private _parseOffset(e: Expr): Expr {
    let sign = 1;
    if (this._peek().kind === Tok.SUB) {
      this._next();
      sign = -1;
    }
    const d = this._peek();
    if (d.kind !== Tok.DURATION) this._unexpected(d, 'offset', 'duration');
    this._next();
    const offsetMs = sign * this._duration(d);
    const end = tokenEnd(d);
    const dup = 'offset may not be set multiple times';
    switch (e.kind) {
      case 'VectorSelector':
        if (e.offsetMs !== 0) this._error(e.pos, dup);
        return { ...e, offsetMs: e.offsetMs !== 0 ? e.offsetMs : offsetMs, pos: { start: e.pos.start, end } };
      case 'MatrixSelector': {
        const vs = e.vectorSelector;
        if (vs.offsetMs !== 0) this._error(e.pos, dup);
        const offset = vs.offsetMs !== 0 ? vs.offsetMs : offsetMs;
        return { ...e, vectorSelector: { ...vs, offsetMs: offset }, pos: { start: e.pos.start, end } };
      }
      case 'SubqueryExpr':
        if (e.offsetMs !== 0) this._error(e.pos, dup);
        return { ...e, offsetMs: e.offsetMs !== 0 ? e.offsetMs : offsetMs, pos: { start: e.pos.start, end } };
      default:
        this._error(
          e.pos,
          'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
        );
        return e;
    }
  }

  private _parseAt(e: Expr): Expr {
    let at: AtModifier;
    let end: number;
    const t = this._peek();
    if (t.kind === Tok.START || t.kind === Tok.END) {
      this._next();
      this._expect(Tok.LEFT_PAREN, '@', 'timestamp');
      end = tokenEnd(this._expect(Tok.RIGHT_PAREN, '@', 'timestamp'));
      at = t.kind === Tok.START ? { type: 'start' } : { type: 'end' };
    } else {
      let sign = 1;
      if (t.kind === Tok.ADD || t.kind === Tok.SUB) {
        this._next();
        if (t.kind === Tok.SUB) sign = -1;
      }
      const n = this._peek();
      if (n.kind !== Tok.NUMBER) this._unexpected(n, '@', 'timestamp');
      this._next();
      end = tokenEnd(n);
      const seconds = sign * this._number(n);
      // Upstream compares seconds against the int64 range, then converts with math.Round(s*1000).
      if (!Number.isFinite(seconds) || seconds >= 9223372036854775807 || seconds <= -9223372036854775808) {
        this._error(e.pos, `timestamp out of bounds for @ modifier: ${goFormatF(seconds)}`);
      }
      const ms = Number.isFinite(seconds) ? goRound(seconds * 1000) : 0;
      at = { type: 'timestamp', ms: ms === 0 ? 0 : ms };
    }
    const dup = '@ <timestamp> may not be set multiple times';
    switch (e.kind) {
      case 'VectorSelector':
        if (e.at !== null) {
          this._error(e.pos, dup);
          return e;
        }
        return { ...e, at, pos: { start: e.pos.start, end } };
      case 'MatrixSelector': {
        const vs = e.vectorSelector;
        if (vs.at !== null) {
          this._error(e.pos, dup);
          return e;
        }
        return { ...e, vectorSelector: { ...vs, at }, pos: { start: e.pos.start, end } };
      }
      case 'SubqueryExpr':
        if (e.at !== null) {
          this._error(e.pos, dup);
          return e;
        }
        return { ...e, at, pos: { start: e.pos.start, end } };
      default:
        this._error(
          e.pos,
          '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
        );
        return e;
    }
  }

  /** `name`, `name{…}` or `{…}`; `nameTok` was already consumed. */
  private _parseVectorSelector(nameTok: Token | null): VectorSelector {
    const matchers: Matcher[] = [];
    let start = nameTok !== null ? nameTok.pos : 0;
    let end = nameTok !== null ? tokenEnd(nameTok) : 0;
    if (this._peek().kind === Tok.LEFT_BRACE) {
      const lb = this._next();
      if (nameTok === null) start = lb.pos;
      end = this._parseLabelMatchers(matchers);
    }
    const name = nameTok !== null ? nameTok.text : '';
    // Upstream appends the name matcher after the braces' matchers.
    if (name !== '') matchers.push({ type: MatchType.EQ, name: '__name__', value: name });
    return { kind: 'VectorSelector', name, matchers, offsetMs: 0, at: null, pos: { start, end } };
  }

  /** Matchers after `{` up to and including `}`; returns the end offset of `}`. */
  private _parseLabelMatchers(out: Matcher[]): number {
    for (;;) {
      const t = this._peek();
      if (t.kind === Tok.RIGHT_BRACE) return tokenEnd(this._next());
      if (t.kind !== Tok.IDENTIFIER) this._unexpected(t, 'label matching', 'identifier or "}"');
      this._next();
      const op = this._peek();
      let type: MatchType;
      switch (op.kind) {
        case Tok.EQL: type = MatchType.EQ; break;
        case Tok.NEQ: type = MatchType.NEQ; break;
        case Tok.EQL_REGEX: type = MatchType.RE; break;
        case Tok.NEQ_REGEX: type = MatchType.NRE; break;
        default: return this._unexpected(op, 'label matching', 'label matching operator');
      }
      this._next();
      const v = this._peek();
      if (v.kind !== Tok.STRING) this._unexpected(v, 'label matching', 'string');
      this._next();
      const m: Matcher = { type, name: t.text, value: unquote(v.text) };
      if (type === MatchType.RE || type === MatchType.NRE) {
        try {
          compileMatcher(m);
        } catch (err) {
          this._error({ start: t.pos, end: tokenEnd(v) }, `error parsing regexp: ${(err as AppError).message}`);
        }
      }
      out.push(m);
      const sep = this._peek();
      if (sep.kind === Tok.COMMA) {
        this._next();
      } else if (sep.kind !== Tok.RIGHT_BRACE) {
        this._unexpected(sep, 'label matching', '"," or "}"');
      }
    }
  }

  /** `(a, b, …)` after by/without/on/ignoring/group_*; trailing comma allowed. */
  private _parseGroupingLabels(): string[] {
    this._expect(Tok.LEFT_PAREN, 'grouping opts', '"("');
    const labels: string[] = [];
    if (this._peek().kind === Tok.RIGHT_PAREN) {
      this._next();
      return labels;
    }
    for (;;) {
      const t = this._peek();
      if (!isLabelToken(t)) this._unexpected(t, 'grouping opts', 'label');
      this._next();
      labels.push(t.text);
      const sep = this._peek();
      if (sep.kind === Tok.COMMA) {
        this._next();
        if (this._peek().kind === Tok.RIGHT_PAREN) {
          this._next();
          return labels;
        }
      } else if (sep.kind === Tok.RIGHT_PAREN) {
        this._next();
        return labels;
      } else {
        this._unexpected(sep, 'grouping opts', '"," or ")"');
      }
    }
  }

  /** Arguments after `(` up to and including `)`. */
  private _parseArgs(): { args: Expr[]; end: number } {
    const args: Expr[] = [];
    if (this._peek().kind === Tok.RIGHT_PAREN) return { args, end: tokenEnd(this._next()) };
    for (;;) {
      args.push(this._parseExpression(0));
      const t = this._peek();
      if (t.kind === Tok.COMMA) {
        this._next();
        if (this._peek().kind === Tok.RIGHT_PAREN) {
          this._error(tokenRange(t), 'trailing commas not allowed in function call args');
          return { args, end: tokenEnd(this._next()) };
        }
      } else if (t.kind === Tok.RIGHT_PAREN) {
        return { args, end: tokenEnd(this._next()) };
      } else {
        this._unexpected(t, '', '');
      }
    }
  }

  private _parseCall(): Expr {
    const ident = this._next();
    this._next(); // (
    const { args, end } = this._parseArgs();
    if (!FUNCTION_SIGNATURES.has(ident.text)) {
      this._error(tokenRange(ident), `unknown function with name ${goQuote(ident.text)}`);
    }
    return { kind: 'Call', func: ident.text, args, pos: { start: ident.pos, end } };
  }

  /** `op [by|without (…)] (args) [by|without (…)]`. */
  private _parseAggregate(): Expr {
    const opTok = this._next();
    const op = opTok.text.toLowerCase() as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    let hasModifier = false;
    const m = this._peek();
    if (m.kind === Tok.BY || m.kind === Tok.WITHOUT) {
      this._next();
      without = m.kind === Tok.WITHOUT;
      grouping = this._parseGroupingLabels();
      hasModifier = true;
    }
    const lp = this._peek();
    if (lp.kind !== Tok.LEFT_PAREN) this._unexpected(lp, 'aggregation', '');
    this._next();
    const body = this._parseArgs();
    let end = body.end;
    const m2 = this._peek();
    if (!hasModifier && (m2.kind === Tok.BY || m2.kind === Tok.WITHOUT)) {
      this._next();
      without = m2.kind === Tok.WITHOUT;
      grouping = this._parseGroupingLabels();
      end = this._toks[this._i - 1] !== undefined ? tokenEnd(this._toks[this._i - 1] as Token) : end;
    }
    const pos = { start: opTok.pos, end };
    const args = body.args;
    const placeholder: NumberLiteral = { kind: 'NumberLiteral', value: Number.NaN, pos };
    const result = (expr: Expr, param: Expr | null): AggregateExpr => ({
      kind: 'AggregateExpr',
      op,
      expr,
      param,
      grouping,
      without,
      pos,
    });
    if (args.length === 0) {
      this._error(pos, 'no arguments for aggregate expression provided');
      return result(placeholder, null);
    }
    const desired = PARAM_AGGREGATORS.has(op) ? 2 : 1;
    if (args.length !== desired) {
      this._error(
        pos,
        `wrong number of arguments for aggregate expression provided, expected ${desired}, got ${args.length}`,
      );
      return result(placeholder, null);
    }
    return result(args[desired - 1] as Expr, desired === 2 ? (args[0] as Expr) : null);
  }

  // --- literals ---------------------------------------------------------------------------------

  /** Value of a NUMBER token as Go's strconv.ParseInt(s, 0, 64) then ParseFloat would give it. */
  private _number(t: Token): number {
    const v = parseGoNumber(t.text);
    if (typeof v === 'string') {
      this._error(tokenRange(t), `error parsing number: ${v}`);
      return 0;
    }
    return v;
  }

  /** A DURATION token in ms; zero and malformed durations are errors, as upstream. */
  private _duration(t: Token): number {
    const ms = parseDurationMs(t.text);
    if (ms === null) {
      this._error(tokenRange(t), `not a valid duration string: ${goQuote(t.text)}`);
      return 0;
    }
    if (ms === 0) this._error(tokenRange(t), 'duration must be greater than 0');
    return ms;
  }
}

function tokenEnd(t: Token): number {
  return t.pos + t.text.length;
}

function tokenRange(t: Token): PositionRange {
  return { start: t.pos, end: tokenEnd(t) };
}

/** Tokens allowed as label names in grouping clauses (upstream `maybe_label` + a name check). */
function isLabelToken(t: Token): boolean {
  const k = t.kind;
  const candidate =
    k === Tok.IDENTIFIER ||
    k === Tok.METRIC_IDENTIFIER ||
    isAggregator(k) ||
    isKeyword(k) ||
    k === Tok.LAND ||
    k === Tok.LOR ||
    k === Tok.LUNLESS ||
    k === Tok.ATAN2 ||
    k === Tok.START ||
    k === Tok.END;
  return candidate && LABEL_NAME_RE.test(t.text);
}

/**
 * Parses a number literal like Prometheus: first as a Go integer with base prefix (`0x1f`, and a
 * leading `0` means octal), else as a Go float (`1.5e3`, `.5`, `5.`, `Inf`, `NaN`). Returns the
 * Go error text when neither works.
 */
export function parseGoNumber(text: string): number | string {
  const lower = text.toLowerCase();
  let int: bigint | null = null;
  if (/^0x[0-9a-f]+$/.test(lower)) int = BigInt(lower);
  else if (/^0[0-7]+$/.test(text)) int = BigInt(`0o${text.slice(1)}`);
  else if (/^[0-9]+$/.test(text)) int = BigInt(text);
  if (int !== null && int <= INT64_MAX) return Number(int);
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  if (/^([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?$/.test(lower)) {
    const v = Number(lower);
    if (Number.isFinite(v)) return v;
    return `strconv.ParseFloat: parsing ${goQuote(text)}: value out of range`;
  }
  return `strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax`;
}

/** Go's math.Round: halves round away from zero. */
function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Go's `%f`: six decimals; `+Inf`, `-Inf`, `NaN`. */
function goFormatF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  return x.toFixed(6);
}

const ESCAPES: Readonly<Record<string, number>> = {
  a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34,
};

/**
 * The value of a string token (quotes included) already validated by the lexer: Go escapes for
 * `"…"`/`'…'`, verbatim for backticks. `\x`/octal escapes are raw bytes, as in Go, so the result is
 * assembled as UTF-8 and decoded (invalid sequences become U+FFFD).
 */
export function unquote(text: string): string {
  const body = text.slice(1, -1);
  if (text[0] === '`' || !body.includes('\\')) return body;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  const pushCp = (cp: number): void => {
    for (const b of enc.encode(String.fromCodePoint(cp))) bytes.push(b);
  };
  let i = 0;
  while (i < body.length) {
    const cp = body.codePointAt(i) as number;
    const w = cp > 0xffff ? 2 : 1;
    if (cp !== 0x5c) {
      pushCp(cp >= 0xd800 && cp < 0xe000 ? 0xfffd : cp);
      i += w;
      continue;
    }
    const c = body[i + 1] ?? '';
    const simple = ESCAPES[c];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
    } else if (c >= '0' && c <= '7') {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8) & 0xff);
      i += 4;
    } else if (c === 'x') {
      bytes.push(parseInt(body.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (c === 'u' || c === 'U') {
      const n = c === 'u' ? 4 : 8;
      const v = parseInt(body.slice(i + 2, i + 2 + n), 16);
      pushCp(Number.isNaN(v) || v > 0x10ffff ? 0xfffd : v);
      i += 2 + n;
    } else {
      // Not reachable for lexer-validated input; keep the character.
      pushCp(0x5c);
      i += 1;
    }
  }
  return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}

/**
 * Lexes, parses and type-checks a PromQL query. Never throws: syntax and type errors come back as
 * values (`expr` is then null), and an internal failure becomes one `unexpected error`.
 */
export function parse(query: string): ParseResult {
  try {
    const p = new Parser(query);
    let expr: Expr | null = null;
    try {
      expr = p.parseTop();
    } catch (err) {
      if (err !== ABORT) throw err;
    }
    if (p.errors.length > 0 || expr === null) return { expr: null, errors: p.errors };
    const checked = checkAst(expr, query, p.errors);
    return p.errors.length > 0 ? { expr: null, errors: p.errors } : { expr: checked, errors: [] };
  } catch {
    // Recovery boundary: a parser bug must not take the process down or leak a raw exception.
    return { expr: null, errors: [{ pos: { start: 0, end: 0 }, message: 'unexpected error', internal: true }] };
  }
}

/**
 * Renders an error like Prometheus: `<line>:<col>: parse error: <message>`, line and column
 * 1-based, the column counted in UTF-8 bytes of that line (Prometheus positions are byte offsets).
 */
export function formatParseError(query: string, err: ParseError): string {
  if (err.internal === true) return err.message;
  const pos = err.pos.start;
  if (pos < 0 || pos > query.length) return `invalid position: parse error: ${err.message}`;
  const before = query.slice(0, pos);
  let line = 1;
  for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1)) line++;
  const lineStart = before.lastIndexOf('\n') + 1;
  const col = Buffer.byteLength(before.slice(lineStart), 'utf8') + 1;
  return `${line}:${col}: parse error: ${err.message}`;
}

/**
 * Parses a series selector as used by `match[]` (Prometheus `ParseMetricSelector`): a metric name
 * and/or `{…}` matchers, nothing else. Returns its matchers (the name matcher last). Like upstream
 * this does not type-check, so a selector whose matchers all match the empty string is accepted
 * here; callers reject it. Throws a bad_data AppError with code `promql-parse` otherwise.
 */
export function parseMetricSelector(query: string): Matcher[] {
  let errors: ParseError[];
  try {
    const p = new Parser(query);
    try {
      const vs = p.parseSelectorTop();
      if (p.errors.length === 0) return [...vs.matchers];
    } catch (err) {
      if (err !== ABORT) throw err;
    }
    errors = p.errors;
  } catch {
    errors = [{ pos: { start: 0, end: 0 }, message: 'unexpected error', internal: true }];
  }
  const first = errors[0];
  throw badData('promql-parse', first !== undefined ? formatParseError(query, first) : 'unexpected error');
}

/**
 * Parses and type-checks a query, returning its syntax tree. Throws a bad_data AppError with code
 * `promql-parse` whose message is Prometheus's rendering of the first error, e.g.
 * `1:14: parse error: unexpected end of input`. Throws nothing else.
 */
export function parseExpr(query: string): Expr {
  const { expr, errors } = parse(query);
  const first = errors[0];
  if (expr === null || first !== undefined) {
    throw badData('promql-parse', first !== undefined ? formatParseError(query, first) : 'unexpected error');
  }
  return expr;
}
