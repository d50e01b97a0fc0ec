import { formatDurationMs } from '../../common/duration.js';
import { matchTypeSymbol } from '../../common/matchers.js';
import type { AtModifier, Expr } from '../../query/promql/ast.js';
import { isSetOp } from '../../query/promql/check.js';
import { formatNumber } from '../../query/promql/printer.js';

/**
 * Renders a PromQL AST as the s-expression used by `parser-cases.txt` (positions left out):
 *
 *   (num 1)  (str "a")  (vs foo a="b" __name__="foo" offset=5m @=start)  (matrix 5m (vs …))
 *   (subquery 10m:1m (…) offset=-1m @=1000)  (paren …)  (neg …)  (pos …)
 *   (+ L R)                     scalar operand involved (matching null)
 *   (* ignoring() L R)          vector/vector; `bool`, `on(a)`, `group_left(b)` as written
 *   (sum by(a) X)  (topk P X)  (call rate X)
 *
 * `@=` is in ms; matcher values are JSON strings; cards other than the default of the operator
 * (one-to-one, many-to-many for set operators) appear as group_left/group_right.
 */
export function toSexpr(e: Expr): string {
  switch (e.kind) {
    case 'NumberLiteral':
      return `(num ${formatNumber(e.value)})`;
    case 'StringLiteral':
      return `(str ${JSON.stringify(e.value)})`;
    case 'VectorSelector': {
      const parts = ['vs'];
      if (e.name !== '') parts.push(e.name);
      for (const m of e.matchers) parts.push(`${m.name}${matchTypeSymbol(m.type)}${JSON.stringify(m.value)}`);
      return `(${parts.join(' ')}${mods(e.offsetMs, e.at)})`;
    }
    case 'MatrixSelector':
      return `(matrix ${formatDurationMs(e.rangeMs)} ${toSexpr(e.vectorSelector)})`;
    case 'SubqueryExpr': {
      const step = e.stepMs === 0 ? '' : formatDurationMs(e.stepMs);
      return `(subquery ${formatDurationMs(e.rangeMs)}:${step} ${toSexpr(e.expr)}${mods(e.offsetMs, e.at)})`;
    }
    case 'ParenExpr':
      return `(paren ${toSexpr(e.expr)})`;
    case 'UnaryExpr':
      return `(${e.op === '-' ? 'neg' : 'pos'} ${toSexpr(e.expr)})`;
    case 'BinaryExpr': {
      const parts: string[] = [e.op];
      if (e.returnBool) parts.push('bool');
      const m = e.matching;
      if (m !== null) {
        parts.push(`${m.on ? 'on' : 'ignoring'}(${m.labels.join(',')})`);
        if (m.card === 'many-to-one') parts.push(`group_left(${m.include.join(',')})`);
        else if (m.card === 'one-to-many') parts.push(`group_right(${m.include.join(',')})`);
        else if ((m.card === 'many-to-many') !== isSetOp(e.op)) parts.push(`card=${m.card}`);
      }
      return `(${parts.join(' ')} ${toSexpr(e.lhs)} ${toSexpr(e.rhs)})`;
    }
    case 'AggregateExpr': {
      const parts: string[] = [e.op];
      if (e.without) parts.push(`without(${e.grouping.join(',')})`);
      else if (e.grouping.length > 0) parts.push(`by(${e.grouping.join(',')})`);
      if (e.param !== null) parts.push(toSexpr(e.param));
      parts.push(toSexpr(e.expr));
      return `(${parts.join(' ')})`;
    }
    case 'Call':
      return `(call ${[e.func, ...e.args.map(toSexpr)].join(' ')})`;
  }
}

function mods(offsetMs: number, at: AtModifier | null): string {
  let s = '';
  if (offsetMs !== 0) s += ` offset=${formatDurationMs(offsetMs)}`;
  if (at !== null) s += ` @=${at.type === 'timestamp' ? String(at.ms) : at.type}`;
  return s;
}
