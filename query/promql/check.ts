import { compileMatcher } from '../../common/matchers.js';
import { ValueType, type BinaryOp, type Expr, type PositionRange, type VectorMatching } from './ast.js';
import { FUNCTION_SIGNATURES } from './function-signatures.js';
import type { ParseError } from './parser.js';
import { goQuote } from './token.js';

/**
 * Type-check pass, run only after a clean parse (upstream `checkAST` in `promql/parser/parse.go`).
 * One check per node kind; errors are collected in upstream order (children first) with the node
 * ranges upstream reports. The pass also normalizes vector matching the way upstream does: set
 * operators become many-to-many and operations with a scalar side get `matching: null`.
 */

const COMPARISONS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['==', '!=', '>', '<', '>=', '<=']);
const SET_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['and', 'or', 'unless']);

/** Whether `op` is a comparison operator (`==`, `!=`, `>`, `<`, `>=`, `<=`). */
export function isComparisonOp(op: BinaryOp): boolean {
  return COMPARISONS.has(op);
}

/** Whether `op` is a set operator (`and`, `or`, `unless`). */
export function isSetOp(op: BinaryOp): boolean {
  return SET_OPS.has(op);
}

/** The value type an expression evaluates to (as Prometheus's `Expr.Type()`). */
export function valueTypeOf(expr: Expr): ValueType {
  switch (expr.kind) {
    case 'NumberLiteral':
      return ValueType.Scalar;
    case 'StringLiteral':
      return ValueType.String;
    case 'VectorSelector':
    case 'AggregateExpr':
      return ValueType.Vector;
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return ValueType.Matrix;
    case 'ParenExpr':
    case 'UnaryExpr':
      return valueTypeOf(expr.expr);
    case 'BinaryExpr':
      return valueTypeOf(expr.lhs) === ValueType.Scalar && valueTypeOf(expr.rhs) === ValueType.Scalar
        ? ValueType.Scalar
        : ValueType.Vector;
    case 'Call':
      return FUNCTION_SIGNATURES.get(expr.func)?.returnType ?? ValueType.Vector;
  }
}

/** Upstream's internal type names, used verbatim by one message. */
function internalTypeName(t: ValueType): string {
  switch (t) {
    case ValueType.Vector:
      return 'vector';
    case ValueType.Matrix:
      return 'matrix';
    default:
      return t;
  }
}

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
}

class Checker {
  constructor(
    private readonly _input: string,
    private readonly _errors: ParseError[],
  ) {}

  private _error(pos: PositionRange, message: string): void {
    this._errors.push({ pos, message });
  }

  private _expectType(node: Expr, want: ValueType, context: string): Expr {
    const checked = this.check(node);
    const t = valueTypeOf(checked);
    if (t !== want) this._error(node.pos, `expected type ${want} in ${context}, got ${t}`);
    return checked;
  }

  /** Range of a binary operator between its operands, trimmed of spaces (upstream `opRange`). */
  private _opRange(lhs: Expr, rhs: Expr): PositionRange {
    let start = lhs.pos.end;
    while (start < rhs.pos.start && isSpace(this._input[start])) start++;
    let end = rhs.pos.start - 1;
    while (end > start && isSpace(this._input[end])) end--;
    return { start, end: Math.max(start, end + 1) };
  }

  check(e: Expr): Expr {
    switch (e.kind) {
      case 'NumberLiteral':
      case 'StringLiteral':
        return e;
      case 'ParenExpr':
        return { ...e, expr: this.check(e.expr) };
      case 'MatrixSelector':
        this._checkVectorSelector(e.vectorSelector);
        return e;
      case 'VectorSelector':
        this._checkVectorSelector(e);
        return e;
      case 'SubqueryExpr': {
        const expr = this.check(e.expr);
        const t = valueTypeOf(expr);
        if (t !== ValueType.Vector) {
          this._error(e.pos, `subquery is only allowed on instant vector, got ${internalTypeName(t)} instead`);
        }
        return { ...e, expr };
      }
      case 'UnaryExpr': {
        const expr = this.check(e.expr);
        const t = valueTypeOf(expr);
        if (t !== ValueType.Scalar && t !== ValueType.Vector) {
          this._error(e.pos, `unary expression only allowed on expressions of type scalar or instant vector, got ${goQuote(t)}`);
        }
        return { ...e, expr };
      }
      case 'AggregateExpr': {
        const expr = this._expectType(e.expr, ValueType.Vector, 'aggregation expression');
        let param = e.param;
        if (param !== null) {
          if (e.op === 'topk' || e.op === 'bottomk' || e.op === 'quantile') {
            param = this._expectType(param, ValueType.Scalar, 'aggregation parameter');
          } else if (e.op === 'count_values') {
            param = this._expectType(param, ValueType.String, 'aggregation parameter');
          }
        }
        return { ...e, expr, param };
      }
      case 'Call':
        return this._checkCall(e);
      case 'BinaryExpr':
        return this._checkBinary(e);
    }
  }

  private _checkCall(e: Extract<Expr, { kind: 'Call' }>): Expr {
    const sig = FUNCTION_SIGNATURES.get(e.func);
    if (sig === undefined) {
      // The parser reports unknown functions; this only guards the invariant.
      this._error(e.pos, `unknown function with name ${goQuote(e.func)}`);
      return e;
    }
    const name = goQuote(sig.name);
    const nargs = sig.argTypes.length;
    const n = e.args.length;
    if (sig.variadic === 0) {
      if (nargs !== n) this._error(e.pos, `expected ${nargs} argument(s) in call to ${name}, got ${n}`);
    } else {
      const min = nargs - 1;
      if (min > n) {
        this._error(e.pos, `expected at least ${min} argument(s) in call to ${name}, got ${n}`);
      } else if (sig.variadic > 0 && min + sig.variadic < n) {
        this._error(e.pos, `expected at most ${min + sig.variadic} argument(s) in call to ${name}, got ${n}`);
      }
    }
    const args: Expr[] = [];
    for (let i = 0; i < n; i++) {
      const arg = e.args[i] as Expr;
      let idx = i;
      if (i >= nargs) {
        // Extra arguments of a fixed-arity function are not checked (the count error stands).
        if (sig.variadic === 0) {
          args.push(...e.args.slice(i));
          break;
        }
        idx = nargs - 1;
      }
      args.push(this._expectType(arg, sig.argTypes[idx] as ValueType, `call to function ${name}`));
    }
    return { ...e, args };
  }

  private _checkBinary(e: Extract<Expr, { kind: 'BinaryExpr' }>): Expr {
    const lhs = this.check(e.lhs);
    const rhs = this.check(e.rhs);
    const lt = valueTypeOf(lhs);
    const rt = valueTypeOf(rhs);
    const op = e.op;

    if (e.returnBool && !COMPARISONS.has(op)) {
      this._error(this._opRange(lhs, rhs), 'bool modifier can only be used on comparison operators');
    }
    if (COMPARISONS.has(op) && !e.returnBool && lt === ValueType.Scalar && rt === ValueType.Scalar) {
      this._error(this._opRange(lhs, rhs), 'comparisons between scalars must use BOOL modifier');
    }

    let matching: VectorMatching | null = e.matching;
    if (matching !== null && SET_OPS.has(op) && matching.card === 'one-to-one') {
      matching = { ...matching, card: 'many-to-many' };
    }
    if (matching !== null && matching.on) {
      for (const l1 of matching.labels) {
        for (const l2 of matching.include) {
          if (l1 === l2) {
            this._error(this._opRange(lhs, rhs), `label ${goQuote(l1)} must not occur in ON and GROUP clause at once`);
          }
        }
      }
    }
    if (lt !== ValueType.Scalar && lt !== ValueType.Vector) {
      this._error(lhs.pos, 'binary expression must contain only scalar and instant vector types');
    }
    if (rt !== ValueType.Scalar && rt !== ValueType.Vector) {
      this._error(rhs.pos, 'binary expression must contain only scalar and instant vector types');
    }
    if ((lt !== ValueType.Vector || rt !== ValueType.Vector) && matching !== null) {
      if (matching.labels.length > 0) this._error(e.pos, 'vector matching only allowed between instant vectors');
      matching = null;
    } else if (matching !== null && SET_OPS.has(op)) {
      if (matching.card === 'one-to-many' || matching.card === 'many-to-one') {
        this._error(e.pos, `no grouping allowed for ${goQuote(op)} operation`);
      }
      if (matching.card !== 'many-to-many') this._error(e.pos, 'set operations must always be many-to-many');
    }
    if ((lt === ValueType.Scalar || rt === ValueType.Scalar) && SET_OPS.has(op)) {
      this._error(e.pos, `set operator ${goQuote(op)} not allowed in binary scalar expression`);
    }
    return { ...e, lhs, rhs, matching };
  }

  private _checkVectorSelector(e: Extract<Expr, { kind: 'VectorSelector' }>): void {
    if (e.name !== '') {
      // The last matcher is the one derived from the name; any other `__name__` one conflicts.
      for (const m of e.matchers.slice(0, -1)) {
        if (m.name === '__name__') {
          this._error(e.pos, `metric name must not be set twice: ${goQuote(e.name)} or ${goQuote(m.value)}`);
        }
      }
      // A metric name is itself a non-empty matcher.
      return;
    }
    // Guards against selecting every series by accident (e.g. a typo in `{job=~".*"}`).
    const notEmpty = e.matchers.some((m) => {
      try {
        return !compileMatcher(m).matchesEmpty;
      } catch {
        return true;
      }
    });
    if (!notEmpty) this._error(e.pos, 'vector selector must contain at least one non-empty matcher');
  }
}

/**
 * Type-checks a parsed expression, appending errors to `errors` (upstream order), and returns the
 * normalized tree (vector matching adjusted as described above). `input` is the query text, used
 * to locate operators for error positions.
 */
export function checkAst(expr: Expr, input: string, errors: ParseError[]): Expr {
  return new Checker(input, errors).check(expr);
}
