import type { Matcher } from '../../common/types.js';

/**
 * PromQL syntax tree: a discriminated union on `kind`. Produced by parser.ts, checked by check.ts,
 * evaluated by evaluator.ts, printed by printer.ts. Nodes are plain immutable data.
 */

/** PromQL value types, spelled as Prometheus spells them in messages. */
export const ValueType = {
  Scalar: 'scalar',
  Vector: 'instant vector',
  Matrix: 'range vector',
  String: 'string',
} as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/** Byte offsets into the query text, end exclusive. */
export interface PositionRange {
  readonly start: number;
  readonly end: number;
}

/** `@` modifier: a fixed Unix time in ms, or the range query's start()/end(). */
export type AtModifier =
  | { readonly type: 'timestamp'; readonly ms: number }
  | { readonly type: 'start' }
  | { readonly type: 'end' };

export const BinaryOps = ['+', '-', '*', '/', '%', '^', 'atan2', '==', '!=', '>', '<', '>=', '<=', 'and', 'or', 'unless'] as const;
export type BinaryOp = (typeof BinaryOps)[number];

export const AggregateOps = [
  'sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar',
  'topk', 'bottomk', 'quantile', 'count_values',
] as const;
export type AggregateOp = (typeof AggregateOps)[number];

/** Vector matching of a binary operation between two vectors. */
export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** true: `on(labels)`; false: `ignoring(labels)` (an absent clause is `ignoring()`). */
  readonly on: boolean;
  readonly labels: readonly string[];
  /** Extra labels of `group_left(…)` / `group_right(…)`. */
  readonly include: readonly string[];
}

export interface NumberLiteral {
  readonly kind: 'NumberLiteral';
  readonly value: number;
  readonly pos: PositionRange;
}

export interface StringLiteral {
  readonly kind: 'StringLiteral';
  readonly value: string;
  readonly pos: PositionRange;
}

export interface VectorSelector {
  readonly kind: 'VectorSelector';
  /** Metric name written before the braces, or '' (it is also present in `matchers` as `__name__="…"`). */
  readonly name: string;
  /** All matchers, including the `__name__` one derived from `name`. */
  readonly matchers: readonly Matcher[];
  /** `offset` in ms (negative looks forward); 0 when absent. */
  readonly offsetMs: number;
  readonly at: AtModifier | null;
  readonly pos: PositionRange;
}

export interface MatrixSelector {
  readonly kind: 'MatrixSelector';
  readonly vectorSelector: VectorSelector;
  readonly rangeMs: number;
  readonly pos: PositionRange;
}

export interface SubqueryExpr {
  readonly kind: 'SubqueryExpr';
  readonly expr: Expr;
  readonly rangeMs: number;
  /** Resolution in ms; 0 when omitted (the engine's default evaluation interval applies). */
  readonly stepMs: number;
  readonly offsetMs: number;
  readonly at: AtModifier | null;
  readonly pos: PositionRange;
}

export interface ParenExpr {
  readonly kind: 'ParenExpr';
  readonly expr: Expr;
  readonly pos: PositionRange;
}

export interface UnaryExpr {
  readonly kind: 'UnaryExpr';
  readonly op: '-' | '+';
  readonly expr: Expr;
  readonly pos: PositionRange;
}

export interface BinaryExpr {
  readonly kind: 'BinaryExpr';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  /** `bool` modifier on a comparison. */
  readonly returnBool: boolean;
  /** Set when both sides are vectors (null for scalar operands). */
  readonly matching: VectorMatching | null;
  readonly pos: PositionRange;
}

export interface AggregateExpr {
  readonly kind: 'AggregateExpr';
  readonly op: AggregateOp;
  readonly expr: Expr;
  /** Parameter of topk/bottomk/quantile/count_values, else null. */
  readonly param: Expr | null;
  readonly grouping: readonly string[];
  /** true for `without (…)`, false for `by (…)` or no clause. */
  readonly without: boolean;
  readonly pos: PositionRange;
}

export interface Call {
  readonly kind: 'Call';
  readonly func: string;
  readonly args: readonly Expr[];
  readonly pos: PositionRange;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call;
