import { formatDurationMs } from '../../common/duration.js';
import { matchTypeSymbol } from '../../common/matchers.js';
import { MatchType } from '../../common/types.js';
import type { AtModifier, Expr, VectorMatching, VectorSelector } from './ast.js';
import { goQuote } from './token.js';

/**
 * AST → canonical PromQL, following Prometheus's `String()` methods (`promql/parser/printer.go`):
 * one space around binary operators, `sum by (a) (x)`, numbers in plain decimal, strings
 * double-quoted with Go escapes, durations like `1h30m`, `@ 123.456`. Deliberate deviations so
 * that `parse(print(parse(x)))` equals `parse(x)`: matchers keep their source order (upstream
 * sorts them), and `group_left()`/`group_right()` are printed even with an empty `ignoring()`.
 */
export function printExpr(expr: Expr): string {
  switch (expr.kind) {
    case 'NumberLiteral':
      return formatNumber(expr.value);
    case 'StringLiteral':
      return goQuote(expr.value);
    case 'VectorSelector':
      return printSelector(expr) + modifiers(expr.at, expr.offsetMs);
    case 'MatrixSelector': {
      const vs = expr.vectorSelector;
      return `${printSelector(vs)}[${formatDurationMs(expr.rangeMs)}]${modifiers(vs.at, vs.offsetMs)}`;
    }
    case 'SubqueryExpr': {
      const step = expr.stepMs !== 0 ? formatDurationMs(expr.stepMs) : '';
      return `${printExpr(expr.expr)}[${formatDurationMs(expr.rangeMs)}:${step}]${modifiers(expr.at, expr.offsetMs)}`;
    }
    case 'ParenExpr':
      return `(${printExpr(expr.expr)})`;
    case 'UnaryExpr':
      return `${expr.op}${printExpr(expr.expr)}`;
    case 'BinaryExpr': {
      const bool = expr.returnBool ? ' bool' : '';
      return `${printExpr(expr.lhs)} ${expr.op}${bool}${printMatching(expr.matching)} ${printExpr(expr.rhs)}`;
    }
    case 'AggregateExpr': {
      let s: string = expr.op;
      if (expr.without) s += ` without (${expr.grouping.join(', ')}) `;
      else if (expr.grouping.length > 0) s += ` by (${expr.grouping.join(', ')}) `;
      const param = expr.param !== null ? `${printExpr(expr.param)}, ` : '';
      return `${s}(${param}${printExpr(expr.expr)})`;
    }
    case 'Call':
      return `${expr.func}(${expr.args.map(printExpr).join(', ')})`;
  }
}

function printSelector(vs: VectorSelector): string {
  const parts: string[] = [];
  for (const m of vs.matchers) {
    // The name written before the braces is also a matcher; print it only once.
    if (m.name === '__name__' && m.type === MatchType.EQ && m.value === vs.name) continue;
    parts.push(`${m.name}${matchTypeSymbol(m.type)}${goQuote(m.value)}`);
  }
  return parts.length === 0 ? vs.name : `${vs.name}{${parts.join(',')}}`;
}

function modifiers(at: AtModifier | null, offsetMs: number): string {
  let s = '';
  if (at !== null) {
    if (at.type === 'start') s += ' @ start()';
    else if (at.type === 'end') s += ' @ end()';
    else s += ` @ ${formatSeconds(at.ms)}`;
  }
  if (offsetMs > 0) s += ` offset ${formatDurationMs(offsetMs)}`;
  else if (offsetMs < 0) s += ` offset -${formatDurationMs(-offsetMs)}`;
  return s;
}

function printMatching(m: VectorMatching | null): string {
  if (m === null) return '';
  const grouped = m.card === 'many-to-one' || m.card === 'one-to-many';
  if (!m.on && m.labels.length === 0 && !grouped) return '';
  let s = ` ${m.on ? 'on' : 'ignoring'}(${m.labels.join(', ')})`;
  if (grouped) s += ` group_${m.card === 'many-to-one' ? 'left' : 'right'}(${m.include.join(', ')})`;
  return s;
}

/** Unix ms as seconds with exactly three decimals (upstream `%.3f`), computed without rounding. */
function formatSeconds(ms: number): string {
  const abs = Math.abs(ms);
  const whole = Math.floor(abs / 1000);
  const frac = String(abs - whole * 1000).padStart(3, '0');
  return `${ms < 0 ? '-' : ''}${whole}.${frac}`;
}

/**
 * Formats a float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits in
 * plain decimal notation (never exponent form), `NaN`, `+Inf`, `-Inf`.
 */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e === -1) return s;
  const neg = s.startsWith('-');
  const mantissa = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  // Position of the decimal point relative to the start of `digits`.
  const point = (dot === -1 ? mantissa.length : dot) + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return neg ? `-${out}` : out;
}
