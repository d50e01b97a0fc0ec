/**
 * Step evaluation of a parsed PromQL expression. Every selector's samples are loaded once for the
 * whole query (see planSelectors); evaluation then walks the AST once, each node producing its
 * value at all steps at once (step-values.ts). Selection rules are Prometheus 2.42's: lookback
 * window `[t − lookback, t]` and range window `[t − range, t]`, both closed; a staleness marker as
 * the newest sample in the lookback window hides the series; range windows skip markers.
 */
import { badData } from '../../common/errors.js';
import type { SeriesSamples } from '../../common/types.js';
import { isStaleNaNAt, wordsOf } from '../../common/types.js';
import type { AtModifier, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from './ast.js';
import { aggregate } from './aggregations.js';
import { isSetOperator, scalarScalar, setOperation, vectorScalar, vectorVector } from './binary.js';
import { evalCall } from './functions.js';
import {
  assertUniqueLabelsets,
  dropMetricName,
  newStepSeries,
  type EvalValue,
  type MatrixValue,
  type RawSeries,
  type ScalarValue,
  type StepGrid,
  type StepSeries,
  type StringValue,
  type VectorValue,
} from './step-values.js';

/** Everything evaluation needs besides the expression: loaded data, query bounds and the budget hooks. */
export interface EvalContext {
  /** Samples loaded for each selector node (bit-exact, staleness markers included). */
  readonly data: ReadonlyMap<VectorSelector, readonly SeriesSamples[]>;
  /** Query start and end, for `@ start()` / `@ end()`. */
  readonly queryStartMs: number;
  readonly queryEndMs: number;
  readonly lookbackMs: number;
  /** Default subquery resolution when the subquery gives none. */
  readonly defaultEvalIntervalMs: number;
  /** Adds to the sample budget; throws when exceeded. */
  countSamples(n: number): void;
  /** Throws when the query was canceled or ran out of time; cheap enough to call per series. */
  checkpoint(): void;
  /**
   * Set when the query is evaluated in step blocks: the cross-block memory of a node's whole-result
   * duplicate check (see assertUniqueLabelsets). Absent: each evaluation checks on its own.
   */
  uniqueRegistry?(node: Expr): Map<string, string>;
}

/** The window a range input covers at each step: samples with ts in `[endMs[i] − rangeMs, endMs[i]]`. */
export interface RangeInput {
  /** Input series, staleness markers removed, original labels. */
  readonly series: RawSeries[];
  readonly rangeMs: number;
  /** Window end per step: step time (or `@` time) minus offset. */
  readonly endMs: Float64Array;
}

/** Resolves an `@` modifier to ms, or null when absent. */
export function atTimeMs(at: AtModifier | null, queryStartMs: number, queryEndMs: number): number | null {
  if (at === null) return null;
  if (at.type === 'timestamp') return at.ms;
  return at.type === 'start' ? queryStartMs : queryEndMs;
}

/** Strips parentheses. */
export function unwrapParens(expr: Expr): Expr {
  let e = expr;
  while (e.kind === 'ParenExpr') e = e.expr;
  return e;
}

/**
 * The grid a subquery evaluates its inner expression on, for all outer steps at once: steps are the
 * multiples of the resolution, from the first one at or after `first window end − range` up to the last
 * window end (Prometheus's subquery alignment).
 */
export function subqueryGrid(node: SubqueryExpr, outer: StepGrid, queryStartMs: number, queryEndMs: number, defaultStepMs: number): StepGrid {
  const stepMs = node.stepMs > 0 ? node.stepMs : defaultStepMs > 0 ? defaultStepMs : 60_000;
  const at = atTimeMs(node.at, queryStartMs, queryEndMs);
  const firstEnd = (at ?? outer.startMs) - node.offsetMs;
  const lastEnd = (at ?? outer.startMs + (outer.n - 1) * outer.stepMs) - node.offsetMs;
  const startMs = Math.ceil((firstEnd - node.rangeMs) / stepMs) * stepMs;
  const n = lastEnd >= startMs ? Math.floor((lastEnd - startMs) / stepMs) + 1 : 0;
  return { startMs, stepMs, n };
}

/** A time range of samples a selector needs, inclusive. */
export interface SelectorRange {
  readonly node: VectorSelector;
  readonly startMs: number;
  readonly endMs: number;
  /** Only each series' newest sample in the range is used (see SelectHints.newestOnly). */
  readonly newestOnly: boolean;
}

/**
 * Lists every selector of `expr` with the sample range its evaluation over `grid` needs:
 * `[first ref − (range or lookback), last ref]` where ref = step time (or `@` time) − offset.
 */
export function planSelectors(expr: Expr, grid: StepGrid, ctx: Pick<EvalContext, 'queryStartMs' | 'queryEndMs' | 'lookbackMs' | 'defaultEvalIntervalMs'>): SelectorRange[] {
  const out: SelectorRange[] = [];
  const visit = (e: Expr, g: StepGrid, windowMs: number | null): void => {
    switch (e.kind) {
      case 'VectorSelector': {
        if (g.n <= 0) return;
        const at = atTimeMs(e.at, ctx.queryStartMs, ctx.queryEndMs);
        const first = (at ?? g.startMs) - e.offsetMs;
        const last = (at ?? g.startMs + (g.n - 1) * g.stepMs) - e.offsetMs;
        // An instant vector selector evaluated at one time (one step, or pinned by @) uses only
        // each series' newest sample up to that time: storage may send just that.
        const newestOnly = windowMs === null && first === last;
        out.push({ node: e, startMs: first - (windowMs ?? ctx.lookbackMs), endMs: last, newestOnly });
        return;
      }
      case 'MatrixSelector':
        visit(e.vectorSelector, g, e.rangeMs);
        return;
      case 'SubqueryExpr':
        visit(e.expr, subqueryGrid(e, g, ctx.queryStartMs, ctx.queryEndMs, ctx.defaultEvalIntervalMs), null);
        return;
      case 'ParenExpr':
      case 'UnaryExpr':
        visit(e.expr, g, null);
        return;
      case 'BinaryExpr':
        visit(e.lhs, g, null);
        visit(e.rhs, g, null);
        return;
      case 'AggregateExpr':
        if (e.param !== null) visit(e.param, g, null);
        visit(e.expr, g, null);
        return;
      case 'Call':
        for (const a of e.args) visit(a, g, null);
        return;
      default:
        return;
    }
  };
  visit(expr, grid, null);
  return out;
}

/** Index of the first element of ascending `ts` that is > `x` (ts.length when none). */
export function firstAfter(ts: Float64Array, x: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element of ascending `ts` that is ≥ `x` (ts.length when none). */
export function firstAtOrAfter(ts: Float64Array, x: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Copies samples without staleness markers (returns the input arrays when there are none). */
function withoutStale(s: SeriesSamples): RawSeries {
  const values = s.values;
  // A staleness marker is a NaN: most series have none, and a float compare per value finds that
  // sooner than reading both words of each.
  let firstNaN = 0;
  while (firstNaN < values.length && (values[firstNaN] as number) === (values[firstNaN] as number)) firstNaN++;
  if (firstNaN === values.length) return { labels: s.labels, tsMs: s.tsMs, values };
  const words = wordsOf(values);
  let stale = 0;
  for (let j = firstNaN; j < values.length; j++) if (isStaleNaNAt(words, j)) stale++;
  if (stale === 0) return { labels: s.labels, tsMs: s.tsMs, values };
  const n = s.values.length - stale;
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  const outWords = wordsOf(vs);
  let k = 0;
  for (let j = 0; j < s.values.length; j++) {
    if (isStaleNaNAt(words, j)) continue;
    ts[k] = s.tsMs[j] as number;
    // Word copy keeps other NaN payloads bit-exact.
    outWords[2 * k] = words[2 * j] as number;
    outWords[2 * k + 1] = words[2 * j + 1] as number;
    k++;
  }
  return { labels: s.labels, tsMs: ts, values: vs };
}

/** Evaluates expressions over step grids against pre-loaded selector data. */
export class Evaluator {
  /** Range-selector samples without staleness markers, per selector (reused across step blocks). */
  private readonly _raw = new Map<VectorSelector, RawSeries[]>();

  constructor(readonly ctx: EvalContext) {}

  /** Evaluates `expr` at every step of `grid`. */
  eval(expr: Expr, grid: StepGrid): EvalValue {
    switch (expr.kind) {
      case 'NumberLiteral':
        return { type: 'scalar', values: new Float64Array(grid.n).fill(expr.value) };
      case 'StringLiteral':
        return { type: 'string', value: expr.value } satisfies StringValue;
      case 'ParenExpr':
        return this.eval(expr.expr, grid);
      case 'UnaryExpr':
        return this._unary(expr, expr.op, this.eval(expr.expr, grid));
      case 'VectorSelector':
        return this._vectorSelector(expr, grid);
      case 'MatrixSelector':
        return this._matrixSelector(expr, grid);
      case 'SubqueryExpr': {
        const input = this.rangeInput(expr, grid);
        return { type: 'matrix', series: this._sliceWindow(input, 0) };
      }
      case 'BinaryExpr': {
        const v = this._binary(expr, grid);
        this.ctx.checkpoint();
        return v;
      }
      case 'AggregateExpr': {
        let param: ScalarValue | string | null = null;
        if (expr.param !== null) {
          const p = this.eval(expr.param, grid);
          param = p.type === 'string' ? p.value : this.expectScalar(p);
        }
        const input = this.expectVector(this.eval(expr.expr, grid));
        const v = aggregate(expr.op, input, expr.grouping, expr.without, param, grid.n);
        this.ctx.checkpoint();
        return v;
      }
      case 'Call':
        return evalCall(this, expr, grid);
    }
  }

  /** Narrows to a vector (the parser's type check guarantees it). */
  expectVector(v: EvalValue): VectorValue {
    if (v.type !== 'vector') throw badData('promql-type', `expected instant vector, got ${v.type}`);
    return v;
  }

  /** Narrows to a scalar (the parser's type check guarantees it). */
  expectScalar(v: EvalValue): ScalarValue {
    if (v.type !== 'scalar') throw badData('promql-type', `expected scalar, got ${v.type}`);
    return v;
  }

  private _unary(node: Expr, op: '-' | '+', v: EvalValue): EvalValue {
    if (op === '+') return v;
    if (v.type === 'scalar') return { type: 'scalar', values: v.values.map((x) => -x) };
    const vec = this.expectVector(v);
    const series = vec.series.map((s): StepSeries => ({ labels: dropMetricName(s.labels), values: s.values.map((x) => -x), present: s.present }));
    assertUniqueLabelsets(series, vec.series.map((s) => s.labels), this.ctx.uniqueRegistry?.(node));
    return { type: 'vector', series };
  }

  private _selected(node: VectorSelector): readonly SeriesSamples[] {
    return this.ctx.data.get(node) ?? [];
  }

  /** Reference time of a selector at step i: step time (or `@` time) minus offset. */
  private _refTimes(at: AtModifier | null, offsetMs: number, grid: StepGrid): Float64Array {
    const fixed = atTimeMs(at, this.ctx.queryStartMs, this.ctx.queryEndMs);
    const out = new Float64Array(grid.n);
    for (let i = 0; i < grid.n; i++) out[i] = (fixed ?? grid.startMs + i * grid.stepMs) - offsetMs;
    return out;
  }

  /** Like evaluating the selector, but each value is the selected sample's own timestamp in ms (for timestamp()). */
  vectorSelectorTimestamps(node: VectorSelector, grid: StepGrid): VectorValue {
    return this._vectorSelector(node, grid, true);
  }

  private _vectorSelector(node: VectorSelector, grid: StepGrid, timestamps = false): VectorValue {
    const refs = this._refTimes(node.at, node.offsetMs, grid);
    const lookback = this.ctx.lookbackMs;
    const out: StepSeries[] = [];
    let points = 0;
    const selected = this._selected(node);
    const n = grid.n;
    // One slab for all output series (views per series), as range functions do: a typed array
    // per series costs more to allocate than the lookback walk that fills it.
    const slabValues = new Float64Array(selected.length * n);
    const slabPresent = new Uint8Array(selected.length * n);
    for (const s of selected) {
      this.ctx.checkpoint();
      const values = s.values;
      const ts = s.tsMs;
      const len = ts.length;
      const at = out.length * n;
      const series: StepSeries = { labels: s.labels, values: slabValues.subarray(at, at + n), present: slabPresent.subarray(at, at + n) };
      let any = false;
      // j = index of the newest sample with ts ≤ ref; refs never decrease, so j only moves forward
      // (from a binary-searched start, so step blocks late in a long range do not rescan).
      let j = firstAfter(ts, (refs[0] as number) - lookback) - 1;
      for (let i = 0; i < n; i++) {
        const ref = refs[i] as number;
        while (j + 1 < len && (ts[j + 1] as number) <= ref) j++;
        if (j < 0 || (ts[j] as number) < ref - lookback) continue;
        const v = values[j] as number;
        // Only a NaN can be a staleness marker: compare floats first, words only then.
        if (v !== v && isStaleNaNAt(wordsOf(values), j)) continue;
        series.present[i] = 1;
        series.values[i] = timestamps ? (ts[j] as number) : v;
        any = true;
        points++;
      }
      // A series without any value leaves its slab slot (still all zero) to the next one.
      if (any) out.push(series);
    }
    this.ctx.countSamples(points);
    return { type: 'vector', series: out };
  }

  /** Raw samples of a range selector at the first step (only instant queries return range vectors). */
  private _matrixSelector(node: MatrixSelector, grid: StepGrid): MatrixValue {
    return { type: 'matrix', series: this._sliceWindow(this.rangeInput(node, grid), 0) };
  }

  /** The samples of every input series inside the window of step `i`; empty series omitted. */
  private _sliceWindow(input: RangeInput, i: number): RawSeries[] {
    const end = input.endMs[i] as number;
    const start = end - input.rangeMs;
    const out: RawSeries[] = [];
    for (const s of input.series) {
      let lo = 0;
      while (lo < s.tsMs.length && (s.tsMs[lo] as number) < start) lo++;
      let hi = lo;
      while (hi < s.tsMs.length && (s.tsMs[hi] as number) <= end) hi++;
      if (hi > lo) out.push({ labels: s.labels, tsMs: s.tsMs.subarray(lo, hi), values: s.values.subarray(lo, hi) });
    }
    return out;
  }

  /**
   * The range-vector input of a function: a range selector's series (markers removed) or a
   * subquery's inner result as raw samples, with each step's window end.
   */
  rangeInput(node: MatrixSelector | SubqueryExpr, grid: StepGrid): RangeInput {
    if (node.kind === 'MatrixSelector') {
      const vs = node.vectorSelector;
      // Loaded samples were already counted against the budget by the engine.
      let series = this._raw.get(vs);
      if (series === undefined) {
        series = this._selected(vs).map(withoutStale);
        this._raw.set(vs, series);
      }
      return { series, rangeMs: node.rangeMs, endMs: this._refTimes(vs.at, vs.offsetMs, grid) };
    }
    const inner = subqueryGrid(node, grid, this.ctx.queryStartMs, this.ctx.queryEndMs, this.ctx.defaultEvalIntervalMs);
    const series: RawSeries[] = [];
    // Every inner step may hold a point per series; count the steps before allocating them.
    this.ctx.countSamples(inner.n);
    if (inner.n > 0) {
      const v = this.eval(node.expr, inner);
      const vec: VectorValue =
        v.type === 'scalar' ? { type: 'vector', series: [{ labels: [], values: v.values, present: new Uint8Array(inner.n).fill(1) }] } : this.expectVector(v);
      for (const s of vec.series) {
        let cnt = 0;
        for (let i = 0; i < inner.n; i++) cnt += s.present[i] as number;
        if (cnt === 0) continue;
        const ts = new Float64Array(cnt);
        const vs = new Float64Array(cnt);
        let k = 0;
        for (let i = 0; i < inner.n; i++) {
          if (s.present[i] !== 1) continue;
          ts[k] = inner.startMs + i * inner.stepMs;
          vs[k] = s.values[i] as number;
          k++;
        }
        series.push({ labels: s.labels, tsMs: ts, values: vs });
      }
    }
    return { series, rangeMs: node.rangeMs, endMs: this._refTimes(node.at, node.offsetMs, grid) };
  }

  private _binary(expr: Extract<Expr, { kind: 'BinaryExpr' }>, grid: StepGrid): EvalValue {
    const lhs = this.eval(expr.lhs, grid);
    const rhs = this.eval(expr.rhs, grid);
    const n = grid.n;
    if (lhs.type === 'scalar' && rhs.type === 'scalar') return scalarScalar(expr.op, lhs, rhs);
    if (lhs.type === 'vector' && rhs.type === 'scalar') return vectorScalar(expr.op, lhs, rhs, false, expr.returnBool, n);
    if (lhs.type === 'scalar' && rhs.type === 'vector') return vectorScalar(expr.op, rhs, lhs, true, expr.returnBool, n);
    const l = this.expectVector(lhs);
    const r = this.expectVector(rhs);
    const matching = expr.matching ?? { card: isSetOperator(expr.op) ? 'many-to-many' : 'one-to-one', on: false, labels: [], include: [] };
    if (expr.op === 'and' || expr.op === 'or' || expr.op === 'unless') return setOperation(expr.op, l, r, matching, n);
    return vectorVector(expr.op, l, r, matching, expr.returnBool, n);
  }
}
