import { ValueType } from './ast.js';

/**
 * Type signatures of the PromQL functions of Prometheus 2.42 (`promql/parser/functions.go`). The
 * parser's type checker uses them; the evaluator pairs each name with an implementation.
 */

/** Signature of one PromQL function. */
export interface FunctionSignature {
  readonly name: string;
  /** Declared argument types in order. */
  readonly argTypes: readonly ValueType[];
  /**
   * 0: exactly `argTypes.length` arguments. n > 0: the last `argTypes` entry is optional and may be
   * given up to n times (so `argTypes.length - 1` … `argTypes.length - 1 + n` arguments).
   * -1: at least `argTypes.length - 1` arguments, any number of trailing ones of the last type.
   */
  readonly variadic: number;
  readonly returnType: ValueType;
}

const S = ValueType.Scalar;
const V = ValueType.Vector;
const M = ValueType.Matrix;
const STR = ValueType.String;

/** [name, argTypes, variadic, returnType] rows, alphabetical. */
const ROWS: ReadonlyArray<readonly [string, readonly ValueType[], number, ValueType]> = [
  ['abs', [V], 0, V],
  ['absent', [V], 0, V],
  ['absent_over_time', [M], 0, V],
  ['acos', [V], 0, V],
  ['acosh', [V], 0, V],
  ['asin', [V], 0, V],
  ['asinh', [V], 0, V],
  ['atan', [V], 0, V],
  ['atanh', [V], 0, V],
  ['avg_over_time', [M], 0, V],
  ['ceil', [V], 0, V],
  ['changes', [M], 0, V],
  ['clamp', [V, S, S], 0, V],
  ['clamp_max', [V, S], 0, V],
  ['clamp_min', [V, S], 0, V],
  ['cos', [V], 0, V],
  ['cosh', [V], 0, V],
  ['count_over_time', [M], 0, V],
  ['days_in_month', [V], 1, V],
  ['day_of_month', [V], 1, V],
  ['day_of_week', [V], 1, V],
  ['day_of_year', [V], 1, V],
  ['deg', [V], 0, V],
  ['delta', [M], 0, V],
  ['deriv', [M], 0, V],
  ['exp', [V], 0, V],
  ['floor', [V], 0, V],
  ['histogram_quantile', [S, V], 0, V],
  ['holt_winters', [M, S, S], 0, V],
  ['hour', [V], 1, V],
  ['idelta', [M], 0, V],
  ['increase', [M], 0, V],
  ['irate', [M], 0, V],
  ['label_join', [V, STR, STR, STR], -1, V],
  ['label_replace', [V, STR, STR, STR, STR], 0, V],
  ['last_over_time', [M], 0, V],
  ['ln', [V], 0, V],
  ['log10', [V], 0, V],
  ['log2', [V], 0, V],
  ['max_over_time', [M], 0, V],
  ['min_over_time', [M], 0, V],
  ['minute', [V], 1, V],
  ['month', [V], 1, V],
  ['pi', [], 0, S],
  ['predict_linear', [M, S], 0, V],
  ['present_over_time', [M], 0, V],
  ['quantile_over_time', [S, M], 0, V],
  ['rad', [V], 0, V],
  ['rate', [M], 0, V],
  ['resets', [M], 0, V],
  ['round', [V, S], 1, V],
  ['scalar', [V], 0, S],
  ['sgn', [V], 0, V],
  ['sin', [V], 0, V],
  ['sinh', [V], 0, V],
  ['sort', [V], 0, V],
  ['sort_desc', [V], 0, V],
  ['sqrt', [V], 0, V],
  ['stddev_over_time', [M], 0, V],
  ['stdvar_over_time', [M], 0, V],
  ['sum_over_time', [M], 0, V],
  ['tan', [V], 0, V],
  ['tanh', [V], 0, V],
  ['time', [], 0, S],
  ['timestamp', [V], 0, V],
  ['vector', [S], 0, V],
  ['year', [V], 1, V],
];

/** Every PromQL function of Prometheus 2.42 by name (case-sensitive, as in PromQL). */
export const FUNCTION_SIGNATURES: ReadonlyMap<string, FunctionSignature> = new Map(
  ROWS.map(([name, argTypes, variadic, returnType]) => [name, Object.freeze({ name, argTypes, variadic, returnType })]),
);
