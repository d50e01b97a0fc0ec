import { describe, expect, it } from 'vitest';
import { ValueType } from './ast.js';
import { FUNCTION_SIGNATURES } from './function-signatures.js';

const S = ValueType.Scalar;
const V = ValueType.Vector;
const M = ValueType.Matrix;
const STR = ValueType.String;

/** The function list of Prometheus 2.42. */
const NAMES = `abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
clamp_max clamp_min cos cosh count_over_time days_in_month day_of_month day_of_week day_of_year deg delta deriv exp
floor histogram_quantile holt_winters hour idelta increase irate label_join label_replace last_over_time ln log10 log2
max_over_time min_over_time minute month pi predict_linear present_over_time quantile_over_time rad rate resets round
scalar sgn sin sinh sort sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time tan tanh time timestamp vector
year`.split(/\s+/);

describe('FUNCTION_SIGNATURES', () => {
  it('holds exactly the Prometheus 2.42 functions', () => {
    expect([...FUNCTION_SIGNATURES.keys()].sort()).toEqual([...NAMES].sort());
  });

  it('names each signature after its key', () => {
    for (const [name, sig] of FUNCTION_SIGNATURES) expect(sig.name).toBe(name);
  });

  it.each<[string, ValueType[], number, ValueType]>([
    ['rate', [M], 0, V],
    ['abs', [V], 0, V],
    ['time', [], 0, S],
    ['pi', [], 0, S],
    ['scalar', [V], 0, S],
    ['vector', [S], 0, V],
    ['round', [V, S], 1, V],
    ['year', [V], 1, V],
    ['days_in_month', [V], 1, V],
    ['clamp', [V, S, S], 0, V],
    ['histogram_quantile', [S, V], 0, V],
    ['holt_winters', [M, S, S], 0, V],
    ['quantile_over_time', [S, M], 0, V],
    ['predict_linear', [M, S], 0, V],
    ['label_replace', [V, STR, STR, STR, STR], 0, V],
    ['label_join', [V, STR, STR, STR], -1, V],
  ])('%s', (name, argTypes, variadic, returnType) => {
    expect(FUNCTION_SIGNATURES.get(name)).toEqual({ name, argTypes, variadic, returnType });
  });
});
