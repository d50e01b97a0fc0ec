/**
 * Function implementations: name → handler over step values. Range-vector functions run one
 * sliding window per input series across all steps (two monotone pointers, no per-step search);
 * instant-vector functions map values per step. Semantics follow Prometheus 2.42 `promql/functions.go`.
 * SUPPORTED_FUNCTIONS is the catalogue the engine checks before any I/O.
 */
import { AppError, ErrorKind } from '../../common/errors.js';
import { METRIC_NAME, getLabel, isValidLabelName } from '../../common/labels.js';
import { compileRegex } from '../../common/matchers.js';
import { MatchType, type Labels } from '../../common/types.js';
import type { Call, Expr } from './ast.js';
import { quantileOf, withLabel } from './aggregations.js';
import { firstAtOrAfter, unwrapParens, type Evaluator } from './evaluator.js';
import { daysInMonth, goCivil, goCivilOfValue, type GoCivil } from './go-time.js';
import {
  SeriesCollector,
  assertUniqueLabelsets,
  dropMetricName,
  execError,
  hasAnyPresent,
  newStepSeries,
  type EvalValue,
  type ScalarValue,
  type StepGrid,
  type StepSeries,
  type VectorValue,
} from './step-values.js';

/** Per-window inputs of a range function; one object reused for every window. */
interface WindowCtx {
  /** Window bounds (inclusive), ms. */
  startMs: number;
  endMs: number;
  rangeMs: number;
  /** Evaluation time of the step, ms (not shifted by offset). */
  evalMs: number;
  /** Scalar argument at this step (quantile φ, predict_linear's seconds, holt_winters' sf), else NaN. */
  param: number;
  /** Second scalar argument at this step (holt_winters' trend factor), else NaN. */
  param2: number;
}

/** A range function over samples `[lo, hi)` of one series; null means no output for the window. */
type RangeImpl = (ts: Float64Array, vs: Float64Array, lo: number, hi: number, w: WindowCtx) => number | null;

/**
 * Samples of one series in each step's window: step i's window holds samples `[lo[i], hi[i])`.
 * Filled for every step before the function runs, so the per-window loops below are tight.
 */
interface SeriesWindows {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  /** Window end of each step, ms; the window is `[end − rangeMs, end]`. */
  readonly endMs: Float64Array;
  readonly rangeMs: number;
  /** Evaluation time of step i is `gridStartMs + i × stepMs` (not shifted by offset). */
  readonly gridStartMs: number;
  readonly stepMs: number;
  /** Scalar arguments per step (quantile φ, predict_linear's seconds, holt_winters' factors), else null. */
  readonly param: Float64Array | null;
  readonly param2: Float64Array | null;
}

/**
 * A range function over all steps of one series: sets `out.values[i]` and `out.present[i]` for
 * every step with a result. One call per series keeps the per-window work in one optimised loop
 * (a call per window through a function value cannot be inlined, and boxes each result).
 */
type SeriesKernel = (ts: Float64Array, vs: Float64Array, win: SeriesWindows, out: StepSeries) => void;

type Handler = (ev: Evaluator, call: Call, grid: StepGrid) => EvalValue;

/**
 * Prometheus 2.42 `extrapolatedRate` over samples `[lo, hi)` (at least 2) of the window
 * `[endMs − rangeMs, endMs]`: see docs/spec promql-semantics §5 (zero clamp before the threshold test, as
 * in 2.x). `resets` is null when the series has no counter reset at all, else the running count of
 * resets per sample (see counterResets), so a window without one skips the reset scan.
 */
function extrapolatedWindow(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  endMs: number,
  rangeMs: number,
  isCounter: boolean,
  isRate: boolean,
  resets: Uint32Array | null,
): number {
  const count = hi - lo;
  const firstT = ts[lo] as number;
  const lastT = ts[hi - 1] as number;
  const firstV = vs[lo] as number;
  let result = (vs[hi - 1] as number) - firstV;
  if (isCounter && resets !== null && resets[hi - 1] !== resets[lo]) {
    let last = 0;
    for (let j = lo; j < hi; j++) {
      const v = vs[j] as number;
      if (v < last) result += last;
      last = v;
    }
  }
  let toStart = (firstT - (endMs - rangeMs)) / 1000;
  const toEnd = (endMs - lastT) / 1000;
  const sampled = (lastT - firstT) / 1000;
  const avg = sampled / (count - 1);
  if (isCounter && result > 0 && firstV >= 0) {
    const toZero = sampled * (firstV / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = avg * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : avg / 2;
  interval += toEnd < threshold ? toEnd : avg / 2;
  result *= interval / sampled;
  if (isRate) result /= rangeMs / 1000;
  return result;
}

let resetScratch = new Uint32Array(0);

/**
 * Null when no sample of `vs` in `[from, to)` is below its predecessor (the usual counter), else a
 * shared scratch array whose entry j (from ≤ j < to) counts the resets among samples from+1..j.
 */
function counterResets(vs: Float64Array, from: number, to: number): Uint32Array | null {
  let first = from + 1;
  while (first < to && !((vs[first] as number) < (vs[first - 1] as number))) first++;
  if (first >= to) return null;
  if (resetScratch.length < to) resetScratch = new Uint32Array(Math.max(to, 2 * resetScratch.length));
  const resets = resetScratch;
  resets.fill(0, from, first);
  let r = 0;
  for (let j = first; j < to; j++) {
    if ((vs[j] as number) < (vs[j - 1] as number)) r++;
    resets[j] = r;
  }
  return resets;
}

/** rate, increase (counters) and delta (gauges), all steps of one series. */
function extrapolatedRate(isCounter: boolean, isRate: boolean): SeriesKernel {
  return (ts, vs, win, out) => {
    const { lo, hi, endMs, rangeMs } = win;
    // Only samples inside some window matter: [first window's start, last window's end).
    const resets = isCounter && lo.length > 0 ? counterResets(vs, lo[0] as number, hi[hi.length - 1] as number) : null;
    const values = out.values;
    const present = out.present;
    for (let i = 0; i < lo.length; i++) {
      const first = lo[i] as number;
      const end = hi[i] as number;
      if (end - first < 2) continue;
      values[i] = extrapolatedWindow(ts, vs, first, end, endMs[i] as number, rangeMs, isCounter, isRate, resets);
      present[i] = 1;
    }
  };
}

/** irate / idelta: the last two samples only. */
function instantValue(isRate: boolean): RangeImpl {
  return (ts, vs, lo, hi) => {
    if (hi - lo < 2) return null;
    const last = vs[hi - 1] as number;
    const prev = vs[hi - 2] as number;
    const result = isRate && last < prev ? last : last - prev;
    const dtMs = (ts[hi - 1] as number) - (ts[hi - 2] as number);
    if (dtMs === 0) return null;
    return isRate ? result / (dtMs / 1000) : result;
  };
}

/** Kahan-compensated increment (Prometheus `kahanSumInc`). Returns [sum, c] via the scratch array. */
function kahanInc(inc: number, acc: Float64Array): void {
  const sum = acc[0] as number;
  const c = acc[1] as number;
  const t = sum + inc;
  let nc = c;
  if (Math.abs(sum) >= Math.abs(inc)) nc += sum - t + inc;
  else nc += inc - t + sum;
  acc[0] = t;
  acc[1] = nc;
}

const kX = new Float64Array(2);
const kY = new Float64Array(2);
const kXY = new Float64Array(2);
const kX2 = new Float64Array(2);

/** Least-squares fit over `[lo, hi)` with x in seconds relative to `interceptMs`; returns [slope, intercept] in `out`. */
function linearRegression(ts: Float64Array, vs: Float64Array, lo: number, hi: number, interceptMs: number, out: Float64Array): void {
  kX.fill(0);
  kY.fill(0);
  kXY.fill(0);
  kX2.fill(0);
  const initY = vs[lo] as number;
  let constY = true;
  let n = 0;
  for (let j = lo; j < hi; j++) {
    const y = vs[j] as number;
    if (constY && j > lo && y !== initY) constY = false;
    n++;
    const x = ((ts[j] as number) - interceptMs) / 1000;
    kahanInc(x, kX);
    kahanInc(y, kY);
    kahanInc(x * y, kXY);
    kahanInc(x * x, kX2);
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) {
      out[0] = NaN;
      out[1] = NaN;
    } else {
      out[0] = 0;
      out[1] = initY;
    }
    return;
  }
  const sumX = (kX[0] as number) + (kX[1] as number);
  const sumY = (kY[0] as number) + (kY[1] as number);
  const sumXY = (kXY[0] as number) + (kXY[1] as number);
  const sumX2 = (kX2[0] as number) + (kX2[1] as number);
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  out[0] = slope;
  out[1] = sumY / n - (slope * sumX) / n;
}

const regOut = new Float64Array(2);
const kAcc = new Float64Array(2);
const kAux = new Float64Array(2);

function stdvarOverTime(vs: Float64Array, lo: number, hi: number): number {
  let count = 0;
  kAcc.fill(0);
  kAux.fill(0);
  for (let j = lo; j < hi; j++) {
    const v = vs[j] as number;
    count++;
    const delta = v - ((kAcc[0] as number) + (kAcc[1] as number));
    kahanInc(delta / count, kAcc);
    kahanInc(delta * (v - ((kAcc[0] as number) + (kAcc[1] as number))), kAux);
  }
  return ((kAux[0] as number) + (kAux[1] as number)) / count;
}

/** Runs a per-window function over every non-empty window of a series. */
function perWindow(impl: RangeImpl): SeriesKernel {
  return (ts, vs, win, out) => {
    const w: WindowCtx = { startMs: 0, endMs: 0, rangeMs: win.rangeMs, evalMs: 0, param: NaN, param2: NaN };
    for (let i = 0; i < win.lo.length; i++) {
      const lo = win.lo[i] as number;
      const hi = win.hi[i] as number;
      if (hi <= lo) continue;
      w.endMs = win.endMs[i] as number;
      w.startMs = w.endMs - win.rangeMs;
      w.evalMs = win.gridStartMs + i * win.stepMs;
      w.param = win.param === null ? NaN : (win.param[i] as number);
      w.param2 = win.param2 === null ? NaN : (win.param2[i] as number);
      const r = impl(ts, vs, lo, hi, w);
      if (r === null) continue;
      out.present[i] = 1;
      out.values[i] = r;
    }
  };
}

/** Range functions that run per window (see perWindow); rate, increase and delta have kernels. */
const WINDOW_FUNCTIONS: Readonly<Record<string, RangeImpl>> = {
  irate: instantValue(true),
  idelta: instantValue(false),
  deriv: (ts, vs, lo, hi) => {
    if (hi - lo < 2) return null;
    // Intercept at the first sample keeps x small (Prometheus issue 2674).
    linearRegression(ts, vs, lo, hi, ts[lo] as number, regOut);
    return regOut[0] as number;
  },
  predict_linear: (ts, vs, lo, hi, w) => {
    if (hi - lo < 2) return null;
    linearRegression(ts, vs, lo, hi, w.evalMs, regOut);
    return (regOut[0] as number) * w.param + (regOut[1] as number);
  },
  changes: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let changes = 0;
    let prev = vs[lo] as number;
    for (let j = lo + 1; j < hi; j++) {
      const cur = vs[j] as number;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
      prev = cur;
    }
    return changes;
  },
  resets: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let resets = 0;
    let prev = vs[lo] as number;
    for (let j = lo + 1; j < hi; j++) {
      const cur = vs[j] as number;
      if (cur < prev) resets++;
      prev = cur;
    }
    return resets;
  },
  avg_over_time: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let count = 0;
    kAcc.fill(0);
    for (let j = lo; j < hi; j++) {
      const v = vs[j] as number;
      count++;
      const mean = kAcc[0] as number;
      if (mean === Infinity || mean === -Infinity) {
        if ((v === Infinity || v === -Infinity) && mean > 0 === v > 0) continue;
        if (Number.isFinite(v)) continue;
      }
      kahanInc(v / count - mean / count, kAcc);
    }
    const mean = kAcc[0] as number;
    return mean === Infinity || mean === -Infinity ? mean : mean + (kAcc[1] as number);
  },
  sum_over_time: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    kAcc.fill(0);
    for (let j = lo; j < hi; j++) kahanInc(vs[j] as number, kAcc);
    const sum = kAcc[0] as number;
    return sum === Infinity || sum === -Infinity ? sum : sum + (kAcc[1] as number);
  },
  count_over_time: (_ts, _vs, lo, hi) => (hi > lo ? hi - lo : null),
  min_over_time: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let min = vs[lo] as number;
    for (let j = lo; j < hi; j++) {
      const v = vs[j] as number;
      if (v < min || Number.isNaN(min)) min = v;
    }
    return min;
  },
  max_over_time: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let max = vs[lo] as number;
    for (let j = lo; j < hi; j++) {
      const v = vs[j] as number;
      if (v > max || Number.isNaN(max)) max = v;
    }
    return max;
  },
  last_over_time: (_ts, vs, lo, hi) => (hi > lo ? (vs[hi - 1] as number) : null),
  present_over_time: (_ts, _vs, lo, hi) => (hi > lo ? 1 : null),
  stdvar_over_time: (_ts, vs, lo, hi) => (hi > lo ? stdvarOverTime(vs, lo, hi) : null),
  stddev_over_time: (_ts, vs, lo, hi) => (hi > lo ? Math.sqrt(stdvarOverTime(vs, lo, hi)) : null),
  holt_winters: (_ts, vs, lo, hi, w) => {
    const sf = w.param;
    const tf = w.param2;
    // Prometheus validates the factors only when a series reaches the function.
    if (!(sf > 0 && sf < 1)) throw execError('promql-bad-function-arg', `invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`);
    if (!(tf > 0 && tf < 1)) throw execError('promql-bad-function-arg', `invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`);
    if (hi - lo < 2) return null;
    let s0 = 0;
    let s1 = vs[lo] as number;
    let b = (vs[lo + 1] as number) - s1;
    for (let j = lo + 1; j < hi; j++) {
      const x = sf * (vs[j] as number);
      // The trend is left as is for the first pair, then smoothed with the trend factor.
      if (j > lo + 1) b = tf * (s1 - s0) + (1 - tf) * b;
      const y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    return s1;
  },
  quantile_over_time: (_ts, vs, lo, hi, w) => {
    if (hi <= lo) return null;
    const values: number[] = [];
    for (let j = lo; j < hi; j++) values.push(vs[j] as number);
    return quantileOf(w.param, values);
  },
};

/** Every range function, as a kernel over all steps of one series. */
const RANGE_FUNCTIONS: Readonly<Record<string, SeriesKernel>> = {
  rate: extrapolatedRate(true, true),
  increase: extrapolatedRate(true, false),
  delta: extrapolatedRate(false, false),
  ...Object.fromEntries(Object.entries(WINDOW_FUNCTIONS).map(([name, impl]) => [name, perWindow(impl)])),
};

/** Index of the range-vector argument and of the optional scalar parameter, per range function. */
const RANGE_ARG: Readonly<Record<string, { matrix: number; param: number; param2: number }>> = {
  quantile_over_time: { matrix: 1, param: 0, param2: -1 },
  predict_linear: { matrix: 0, param: 1, param2: -1 },
  holt_winters: { matrix: 0, param: 1, param2: 2 },
};

function rangeHandler(name: string, kernel: SeriesKernel): Handler {
  const keepName = name === 'last_over_time';
  const argPos = RANGE_ARG[name] ?? { matrix: 0, param: -1, param2: -1 };
  return (ev, call, grid) => {
    const arg = unwrapParens(call.args[argPos.matrix] as Expr);
    if (arg.kind !== 'MatrixSelector' && arg.kind !== 'SubqueryExpr') throw execError('promql-type', `expected range vector argument to ${name}`);
    const param = argPos.param >= 0 ? ev.expectScalar(ev.eval(call.args[argPos.param] as Expr, grid)) : null;
    const param2 = argPos.param2 >= 0 ? ev.expectScalar(ev.eval(call.args[argPos.param2] as Expr, grid)) : null;
    const input = ev.rangeInput(arg, grid);
    const n = grid.n;
    const win: SeriesWindows = {
      lo: new Int32Array(n),
      hi: new Int32Array(n),
      endMs: input.endMs,
      rangeMs: input.rangeMs,
      gridStartMs: grid.startMs,
      stepMs: grid.stepMs,
      param: param === null ? null : param.values,
      param2: param2 === null ? null : param2.values,
    };
    const out: StepSeries[] = [];
    const sources: Labels[] = [];
    // One slab for all output series (views per series): far fewer allocations than one per series.
    const slabValues = new Float64Array(input.series.length * n);
    const slabPresent = new Uint8Array(input.series.length * n);
    let used = 0;
    for (const s of input.series) {
      ev.ctx.checkpoint();
      const series: StepSeries = {
        labels: keepName ? s.labels : dropMetricName(s.labels),
        values: slabValues.subarray(used * n, used * n + n),
        present: slabPresent.subarray(used * n, used * n + n),
      };
      fillWindows(s.tsMs, win);
      kernel(s.tsMs, s.values, win, series);
      if (hasAnyPresent(series)) {
        out.push(series);
        sources.push(s.labels);
        used++;
      }
    }
    // Prometheus checks the whole result of a range function for duplicate label sets, not per step.
    assertUniqueLabelsets(out, sources, ev.ctx.uniqueRegistry?.(call));
    return { type: 'vector', series: out };
  };
}

/** Sets `win.lo`/`win.hi` for samples `ts` (ascending): window ends never decrease, so both bounds only move forward. */
function fillWindows(ts: Float64Array, win: SeriesWindows): void {
  const { lo: los, hi: his, endMs, rangeMs } = win;
  const n = los.length;
  const len = ts.length;
  let lo = n > 0 ? firstAtOrAfter(ts, (endMs[0] as number) - rangeMs) : 0;
  let hi = lo;
  for (let i = 0; i < n; i++) {
    const end = endMs[i] as number;
    const start = end - rangeMs;
    while (lo < len && (ts[lo] as number) < start) lo++;
    if (hi < lo) hi = lo;
    while (hi < len && (ts[hi] as number) <= end) hi++;
    los[i] = lo;
    his[i] = hi;
  }
}

/** Maps every present value of an instant vector, dropping the metric name (per-step duplicate check). */
function mapVector(vec: VectorValue, n: number, fn: (v: number, i: number) => number, keepName = false): VectorValue {
  const out = new SeriesCollector(n);
  for (const s of vec.series) {
    const idx = out.indexOf(keepName ? s.labels : dropMetricName(s.labels));
    for (let i = 0; i < n; i++) if (s.present[i] === 1) out.set(idx, i, fn(s.values[i] as number, i));
  }
  return out.toVector();
}

function mathHandler(fn: (v: number) => number): Handler {
  return (ev, call, grid) => mapVector(ev.expectVector(ev.eval(call.args[0] as Expr, grid)), grid.n, fn);
}

function scalarArg(ev: Evaluator, call: Call, idx: number, grid: StepGrid, dflt: number): ScalarValue {
  const a = call.args[idx];
  if (a === undefined) return { type: 'scalar', values: new Float64Array(grid.n).fill(dflt) };
  return ev.expectScalar(ev.eval(a, grid));
}

/**
 * Date functions: optional vector argument, default `vector(time())`; UTC, with Go's conversion of
 * the value to whole seconds and Go's calendar (go-time.ts), so NaN and huge values match too.
 */
function dateHandler(fn: (c: GoCivil) => number): Handler {
  return (ev, call, grid) => {
    const arg = call.args[0];
    if (arg === undefined) {
      const s = newStepSeries([], grid.n);
      for (let i = 0; i < grid.n; i++) {
        s.present[i] = 1;
        s.values[i] = fn(goCivil(Math.trunc((grid.startMs + i * grid.stepMs) / 1000)));
      }
      return { type: 'vector', series: [s] };
    }
    const vec = ev.expectVector(ev.eval(arg, grid));
    return mapVector(vec, grid.n, (v) => fn(goCivilOfValue(v)));
  };
}

/** Labels `absent()` reports: the selector's equality matchers, minus names matched any other way. */
function absentLabels(expr: Expr): Labels {
  const e = unwrapParens(expr);
  const vs = e.kind === 'VectorSelector' ? e : e.kind === 'MatrixSelector' ? e.vectorSelector : null;
  if (vs === null) return [];
  const set = new Map<string, string>();
  const removed = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === MatchType.EQ && !set.has(m.name)) set.set(m.name, m.value);
    else removed.add(m.name);
  }
  let out: Labels = [];
  for (const [k, v] of [...set.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (!removed.has(k)) out = withLabel(out, k, v);
  return out;
}

/** Go `regexp.Expand` template: `$1`, `${1}`, `$name`, `${name}`, `$$`. */
function expandTemplate(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if (c !== '$' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const next = template[i + 1] as string;
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close === -1 ? '' : template.slice(i + 2, close);
      if (close === -1 || !/^[A-Za-z0-9_]+$/.test(inner)) {
        out += c;
        continue;
      }
      name = inner;
      i = close;
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (mm === null) {
        out += c;
        continue;
      }
      name = mm[0];
      i += name.length;
    }
    if (/^[0-9]+$/.test(name)) out += m[Number(name)] ?? '';
    else out += m.groups?.[name] ?? '';
  }
  return out;
}

function stringArg(ev: Evaluator, call: Call, idx: number, grid: StepGrid): string {
  const v = ev.eval(call.args[idx] as Expr, grid);
  if (v.type !== 'string') throw execError('promql-type', 'expected string argument');
  return v.value;
}

const labelReplace: Handler = (ev, call, grid) => {
  const vec = ev.expectVector(ev.eval(call.args[0] as Expr, grid));
  const dst = stringArg(ev, call, 1, grid);
  const repl = stringArg(ev, call, 2, grid);
  const src = stringArg(ev, call, 3, grid);
  const regexText = stringArg(ev, call, 4, grid);
  let re: RegExp;
  try {
    // compileRegex translates Go syntax, including named groups (?P<name>…).
    re = compileRegex(regexText);
  } catch {
    throw execError('promql-bad-function-arg', `invalid regular expression in label_replace(): ${regexText}`);
  }
  if (!isValidLabelName(dst)) throw execError('promql-bad-function-arg', `invalid destination label name in label_replace(): ${dst}`);
  const out = new SeriesCollector(grid.n);
  for (const s of vec.series) {
    const m = re.exec(getLabel(s.labels, src));
    const labels = m === null ? s.labels : withLabel(s.labels, dst, expandTemplate(repl, m));
    const idx = out.indexOf(labels);
    for (let i = 0; i < grid.n; i++) if (s.present[i] === 1) out.set(idx, i, s.values[i] as number);
  }
  return out.toVector();
};

const labelJoin: Handler = (ev, call, grid) => {
  const vec = ev.expectVector(ev.eval(call.args[0] as Expr, grid));
  const dst = stringArg(ev, call, 1, grid);
  const sep = stringArg(ev, call, 2, grid);
  const srcs: string[] = [];
  for (let k = 3; k < call.args.length; k++) {
    const src = stringArg(ev, call, k, grid);
    if (!isValidLabelName(src)) throw execError('promql-bad-function-arg', `invalid source label name in label_join(): ${src}`);
    srcs.push(src);
  }
  if (!isValidLabelName(dst)) throw execError('promql-bad-function-arg', `invalid destination label name in label_join(): ${dst}`);
  const out = new SeriesCollector(grid.n);
  for (const s of vec.series) {
    const joined = srcs.map((l) => getLabel(s.labels, l)).join(sep);
    const idx = out.indexOf(withLabel(s.labels, dst, joined));
    for (let i = 0; i < grid.n; i++) if (s.present[i] === 1) out.set(idx, i, s.values[i] as number);
  }
  return out.toVector();
};

/** Parses an `le` label like Go's strconv.ParseFloat (incl. "+Inf"); NaN when malformed. */
function parseBound(text: string): number {
  const t = text.trim();
  if (t === '') return NaN;
  const lower = t.toLowerCase();
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan') return NaN;
  const v = Number(t);
  return Number.isNaN(v) ? NaN : v;
}

/** Prometheus 2.42 `bucketQuantile` over (upperBound, cumulative count) pairs. */
export function bucketQuantile(q: number, bounds: number[], counts: number[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const order = bounds.map((_, k) => k).sort((a, b) => (bounds[a] as number) - (bounds[b] as number));
  const ub: number[] = [];
  const cnt: number[] = [];
  for (const k of order) {
    const b = bounds[k] as number;
    // Coalesce buckets with the same upper bound.
    if (ub.length > 0 && ub[ub.length - 1] === b) cnt[cnt.length - 1] = (cnt[cnt.length - 1] as number) + (counts[k] as number);
    else {
      ub.push(b);
      cnt.push(counts[k] as number);
    }
  }
  if (ub[ub.length - 1] !== Infinity) return NaN;
  let max = -Infinity;
  for (let k = 0; k < cnt.length; k++) {
    const c = cnt[k] as number;
    if (c > max) max = c;
    else if (c < max) cnt[k] = max;
  }
  if (ub.length < 2) return NaN;
  const observations = cnt[cnt.length - 1] as number;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < ub.length - 1 && !((cnt[b] as number) >= rank)) b++;
  if (b === ub.length - 1) return ub[ub.length - 2] as number;
  if (b === 0 && (ub[0] as number) <= 0) return ub[0] as number;
  let start = 0;
  const end = ub[b] as number;
  let count = cnt[b] as number;
  if (b > 0) {
    start = ub[b - 1] as number;
    count -= cnt[b - 1] as number;
    rank -= cnt[b - 1] as number;
  }
  return start + (end - start) * (rank / count);
}

const histogramQuantile: Handler = (ev, call, grid) => {
  const q = ev.expectScalar(ev.eval(call.args[0] as Expr, grid));
  const vec = ev.expectVector(ev.eval(call.args[1] as Expr, grid));
  // Group by all labels but `le` (the name included); output drops `le` and the name.
  const groups = new Map<string, { labels: Labels; members: number[]; bounds: number[] }>();
  for (let k = 0; k < vec.series.length; k++) {
    const s = vec.series[k] as StepSeries;
    const bound = parseBound(getLabel(s.labels, 'le'));
    if (getLabel(s.labels, 'le') === '' || (Number.isNaN(bound) && getLabel(s.labels, 'le').toLowerCase() !== 'nan')) continue;
    const rest = withLabel(s.labels, 'le', '');
    const key = rest.join('\xff');
    let g = groups.get(key);
    if (g === undefined) {
      g = { labels: dropMetricName(rest), members: [], bounds: [] };
      groups.set(key, g);
    }
    g.members.push(k);
    g.bounds.push(bound);
  }
  const out = new SeriesCollector(grid.n);
  const bounds: number[] = [];
  const counts: number[] = [];
  for (const g of groups.values()) {
    const idx = out.indexOf(g.labels);
    for (let i = 0; i < grid.n; i++) {
      bounds.length = 0;
      counts.length = 0;
      for (let m = 0; m < g.members.length; m++) {
        const s = vec.series[g.members[m] as number] as StepSeries;
        if (s.present[i] !== 1) continue;
        bounds.push(g.bounds[m] as number);
        counts.push(s.values[i] as number);
      }
      if (bounds.length === 0) continue;
      out.set(idx, i, bucketQuantile(q.values[i] as number, bounds, counts));
    }
  }
  return out.toVector();
};

const HANDLERS: Readonly<Record<string, Handler>> = {
  ...Object.fromEntries(Object.entries(RANGE_FUNCTIONS).map(([name, kernel]) => [name, rangeHandler(name, kernel)])),
  abs: mathHandler(Math.abs),
  ceil: mathHandler(Math.ceil),
  floor: mathHandler(Math.floor),
  exp: mathHandler(Math.exp),
  ln: mathHandler(Math.log),
  log2: mathHandler(Math.log2),
  log10: mathHandler(Math.log10),
  sqrt: mathHandler(Math.sqrt),
  sgn: mathHandler((v) => (v > 0 ? 1 : v < 0 ? -1 : v)),
  acos: mathHandler(Math.acos),
  acosh: mathHandler(Math.acosh),
  asin: mathHandler(Math.asin),
  asinh: mathHandler(Math.asinh),
  atan: mathHandler(Math.atan),
  atanh: mathHandler(Math.atanh),
  cos: mathHandler(Math.cos),
  cosh: mathHandler(Math.cosh),
  sin: mathHandler(Math.sin),
  sinh: mathHandler(Math.sinh),
  tan: mathHandler(Math.tan),
  tanh: mathHandler(Math.tanh),
  deg: mathHandler((v) => (v * 180) / Math.PI),
  rad: mathHandler((v) => (v * Math.PI) / 180),
  pi: (_ev, _call, grid) => ({ type: 'scalar', values: new Float64Array(grid.n).fill(Math.PI) }),
  round: (ev, call, grid) => {
    const vec = ev.expectVector(ev.eval(call.args[0] as Expr, grid));
    const to = scalarArg(ev, call, 1, grid, 1);
    return mapVector(vec, grid.n, (v, i) => {
      const inv = 1 / (to.values[i] as number);
      return Math.floor(v * inv + 0.5) / inv;
    });
  },
  clamp: (ev, call, grid) => {
    const vec = ev.expectVector(ev.eval(call.args[0] as Expr, grid));
    const lo = scalarArg(ev, call, 1, grid, NaN);
    const hi = scalarArg(ev, call, 2, grid, NaN);
    const out = mapVector(vec, grid.n, (v, i) => Math.max(lo.values[i] as number, Math.min(hi.values[i] as number, v)));
    // max < min yields an empty vector at that step.
    for (const s of out.series) for (let i = 0; i < grid.n; i++) if ((hi.values[i] as number) < (lo.values[i] as number)) s.present[i] = 0;
    return { type: 'vector', series: out.series.filter(hasAnyPresent) };
  },
  clamp_min: (ev, call, grid) => {
    const vec = ev.expectVector(ev.eval(call.args[0] as Expr, grid));
    const lo = scalarArg(ev, call, 1, grid, NaN);
    return mapVector(vec, grid.n, (v, i) => Math.max(lo.values[i] as number, v));
  },
  clamp_max: (ev, call, grid) => {
    const vec = ev.expectVector(ev.eval(call.args[0] as Expr, grid));
    const hi = scalarArg(ev, call, 1, grid, NaN);
    return mapVector(vec, grid.n, (v, i) => Math.min(hi.values[i] as number, v));
  },
  time: (_ev, _call, grid) => {
    const values = new Float64Array(grid.n);
    for (let i = 0; i < grid.n; i++) values[i] = (grid.startMs + i * grid.stepMs) / 1000;
    return { type: 'scalar', values };
  },
  vector: (ev, call, grid) => {
    const s = ev.expectScalar(ev.eval(call.args[0] as Expr, grid));
    return { type: 'vector', series: [{ labels: [], values: s.values, present: new Uint8Array(grid.n).fill(1) }] };
  },
  scalar: (ev, call, grid) => {
    const vec = ev.expectVector(ev.eval(call.args[0] as Expr, grid));
    const values = new Float64Array(grid.n);
    for (let i = 0; i < grid.n; i++) {
      let count = 0;
      let v = NaN;
      for (const s of vec.series) {
        if (s.present[i] !== 1) continue;
        count++;
        v = s.values[i] as number;
      }
      values[i] = count === 1 ? v : NaN;
    }
    return { type: 'scalar', values };
  },
  timestamp: (ev, call, grid) => {
    const arg = unwrapParens(call.args[0] as Expr);
    if (arg.kind === 'VectorSelector') {
      // A plain selector reports its samples' own timestamps, not the step time.
      return mapVector(ev.vectorSelectorTimestamps(arg, grid), grid.n, (t) => t / 1000);
    }
    const vec = ev.expectVector(ev.eval(arg, grid));
    return mapVector(vec, grid.n, (_v, i) => (grid.startMs + i * grid.stepMs) / 1000);
  },
  sort: (ev, call, grid) => ev.eval(call.args[0] as Expr, grid),
  sort_desc: (ev, call, grid) => ev.eval(call.args[0] as Expr, grid),
  absent: (ev, call, grid) => {
    const vec = ev.expectVector(ev.eval(call.args[0] as Expr, grid));
    const s = newStepSeries(absentLabels(call.args[0] as Expr), grid.n);
    for (let i = 0; i < grid.n; i++) {
      let any = false;
      for (const x of vec.series) if (x.present[i] === 1) any = true;
      if (!any) {
        s.present[i] = 1;
        s.values[i] = 1;
      }
    }
    return { type: 'vector', series: hasAnyPresent(s) ? [s] : [] };
  },
  absent_over_time: (ev, call, grid) => {
    const arg = unwrapParens(call.args[0] as Expr);
    if (arg.kind !== 'MatrixSelector' && arg.kind !== 'SubqueryExpr') throw execError('promql-type', 'expected range vector argument to absent_over_time');
    const present = rangeHandler('present_over_time', RANGE_FUNCTIONS['present_over_time'] as SeriesKernel)(ev, call, grid) as VectorValue;
    const s = newStepSeries(absentLabels(arg), grid.n);
    for (let i = 0; i < grid.n; i++) {
      let any = false;
      for (const x of present.series) if (x.present[i] === 1) any = true;
      if (!any) {
        s.present[i] = 1;
        s.values[i] = 1;
      }
    }
    return { type: 'vector', series: hasAnyPresent(s) ? [s] : [] };
  },
  label_replace: labelReplace,
  label_join: labelJoin,
  histogram_quantile: histogramQuantile,
  day_of_month: dateHandler((c) => c.day),
  day_of_week: dateHandler((c) => c.weekday),
  day_of_year: dateHandler((c) => c.yday),
  days_in_month: dateHandler((c) => daysInMonth(c.year, c.month)),
  hour: dateHandler((c) => c.hour),
  minute: dateHandler((c) => c.minute),
  month: dateHandler((c) => c.month),
  year: dateHandler((c) => c.year),
};

/** Names of the functions this engine implements; anything else is rejected as unsupported before I/O. */
export const SUPPORTED_FUNCTIONS: ReadonlySet<string> = new Set(Object.keys(HANDLERS));

/** Evaluates a function call over all steps. */
export function evalCall(ev: Evaluator, call: Call, grid: StepGrid): EvalValue {
  const h = HANDLERS[call.func];
  if (h === undefined) throw new AppError(ErrorKind.BadData, 'promql-unsupported', `function ${JSON.stringify(call.func)} is not supported yet`);
  return h(ev, call, grid);
}
