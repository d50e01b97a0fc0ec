/**
 * The PromQL engine: parse, reject unsupported features before any I/O, load each selector's
 * samples once for the whole query, evaluate all steps, and shape the result. Owns the query
 * lifecycle: timeout, cancellation (AbortSignal) and the sample budget. Throws only AppError.
 */
import { AppError, ErrorKind, badData, toAppError } from '../../common/errors.js';
import { compareLabels, seriesKey } from '../../common/labels.js';
import type { SampleBufferLease, SelectHints, SeriesSamples } from '../../common/types.js';
import type { Queryable } from '../queryable.js';
import type { Expr, VectorSelector } from './ast.js';
import { SUPPORTED_AGGREGATIONS } from './aggregations.js';
import { Evaluator, planSelectors, unwrapParens, type EvalContext } from './evaluator.js';
import { SUPPORTED_FUNCTIONS } from './functions.js';
import { parseExpr } from './parser.js';
import { newStepSeries, type EvalValue, type StepGrid, type StepSeries } from './step-values.js';
import type { MatrixSeries, QueryResult, QueryValue, VectorElement } from './value.js';

/** Engine-wide settings. */
export interface EngineOptions {
  /** Default lookback window of instant selectors (Prometheus `--query.lookback-delta`, 5 m). */
  lookbackDeltaMs: number;
  /** Maximum samples a query may load plus produce; ≤ 0 = unlimited. */
  maxSamples: number;
  /** Wall-clock limit per query; ≤ 0 = none. */
  timeoutMs: number;
  /** Subquery resolution when none is given (Prometheus's global evaluation interval, 1 m). */
  defaultEvalIntervalMs: number;
  /** Work above which range queries are evaluated in step blocks (default BLOCK_WORK; tests use 1). */
  evalBlockWork?: number;
}

/** Per-query settings. */
export interface QueryOptions {
  signal?: AbortSignal;
  /** Overrides EngineOptions.lookbackDeltaMs for this query when > 0. */
  lookbackDeltaMs?: number;
  /**
   * Buffers to decode the query's samples into (SelectHints.buffers). The caller releases them
   * only after it is done with the result, which may hold views of those samples.
   */
  buffers?: SampleBufferLease;
}

/** How often (in checkpoint calls) the deadline and the signal are looked at. */
const CHECK_EVERY = 64;

/** Thrown by the engine's own abort controller to tell a timeout from a client cancel. */
const TIMEOUT_REASON = Symbol('promql-timeout');

function unsupported(what: string): AppError {
  return new AppError(ErrorKind.BadData, 'promql-unsupported', `${what} is not supported yet`);
}

/**
 * Throws `promql-unsupported` (bad_data) for any node or function the evaluator does not
 * implement. Runs before any I/O.
 */
export function checkSupported(expr: Expr): void {
  switch (expr.kind) {
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
      return;
    case 'MatrixSelector':
      checkSupported(expr.vectorSelector);
      return;
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
      checkSupported(expr.expr);
      return;
    case 'BinaryExpr':
      checkSupported(expr.lhs);
      checkSupported(expr.rhs);
      return;
    case 'AggregateExpr':
      if (!SUPPORTED_AGGREGATIONS.has(expr.op)) throw unsupported(`aggregation ${JSON.stringify(expr.op)}`);
      if (expr.param !== null) checkSupported(expr.param);
      checkSupported(expr.expr);
      return;
    case 'Call':
      if (!SUPPORTED_FUNCTIONS.has(expr.func)) throw unsupported(`function ${JSON.stringify(expr.func)}`);
      for (const a of expr.args) checkSupported(a);
      return;
  }
}

const SCALAR_FUNCTIONS = new Set(['time', 'scalar', 'pi']);

/** Result type of an expression, as far as the range-query check needs it. */
function resultType(expr: Expr): 'scalar' | 'vector' | 'matrix' | 'string' {
  switch (expr.kind) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
    case 'AggregateExpr':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'ParenExpr':
    case 'UnaryExpr':
      return resultType(expr.expr);
    case 'BinaryExpr':
      return resultType(expr.lhs) === 'scalar' && resultType(expr.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'Call':
      return SCALAR_FUNCTIONS.has(expr.func) ? 'scalar' : 'vector';
  }
}

const TYPE_NAMES = { scalar: 'scalar', vector: 'instant vector', matrix: 'range vector', string: 'string' } as const;

/** Evaluates PromQL queries against a Queryable. Stateless between queries; safe to share. */
export class Engine {
  constructor(private readonly _opts: EngineOptions) {}

  /** Evaluates `query` at `timeMs`. */
  async instantQuery(q: Queryable, query: string, timeMs: number, opts?: QueryOptions): Promise<QueryResult> {
    return this._run(q, query, { startMs: timeMs, stepMs: 1, n: 1 }, timeMs, timeMs, true, opts);
  }

  /**
   * Evaluates `query` at `startMs, startMs + stepMs, …` up to `endMs` inclusive; the result is
   * always a matrix, series sorted by labels.
   */
  async rangeQuery(q: Queryable, query: string, startMs: number, endMs: number, stepMs: number, opts?: QueryOptions): Promise<QueryResult> {
    if (!(stepMs > 0)) throw badData('bad-step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    if (endMs < startMs) throw badData('bad-range', 'end timestamp must not be before start time');
    const n = Math.floor((endMs - startMs) / stepMs) + 1;
    return this._run(q, query, { startMs, stepMs, n }, startMs, endMs, false, opts);
  }

  private async _run(q: Queryable, query: string, grid: StepGrid, queryStartMs: number, queryEndMs: number, instant: boolean, opts?: QueryOptions): Promise<QueryResult> {
    const expr = parseExpr(query);
    checkSupported(expr);
    const type = resultType(expr);
    if (!instant && type !== 'scalar' && type !== 'vector') {
      throw badData('promql-bad-range-query', `invalid expression type ${JSON.stringify(TYPE_NAMES[type])} for range query, must be Scalar or instant Vector`);
    }

    const userSignal = opts?.signal;
    if (userSignal?.aborted === true) throw canceled();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    userSignal?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = this._opts.timeoutMs;
    const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
    const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(TIMEOUT_REASON), timeoutMs) : null;
    const lifecycleError = (): AppError =>
      controller.signal.reason === TIMEOUT_REASON || performance.now() >= deadline
        ? new AppError(ErrorKind.Timeout, 'query-timeout', 'query timed out in query execution')
        : canceled();

    try {
      // As Prometheus, a zero or negative per-query lookback means "use the default".
      const requested = opts?.lookbackDeltaMs ?? 0;
      const lookbackMs = requested > 0 ? requested : this._opts.lookbackDeltaMs;
      const maxSamples = this._opts.maxSamples;
      let samples = 0;
      let checks = 0;
      const ctx: EvalContext = {
        data: new Map(),
        queryStartMs,
        queryEndMs,
        lookbackMs,
        defaultEvalIntervalMs: this._opts.defaultEvalIntervalMs,
        countSamples(k: number): void {
          samples += k;
          if (maxSamples > 0 && samples > maxSamples) {
            throw new AppError(ErrorKind.Execution, 'query-too-many-samples', 'query processing would load too many samples into memory in query execution');
          }
        },
        checkpoint(): void {
          if (++checks % CHECK_EVERY !== 0) return;
          if (controller.signal.aborted || performance.now() >= deadline) throw lifecycleError();
        },
      };

      // One select per selector, all in flight at once, each over the range the whole query needs.
      const ranges = planSelectors(expr, grid, ctx);
      const data = ctx.data as Map<VectorSelector, readonly SeriesSamples[]>;
      let loaded: SeriesSamples[][];
      try {
        const buffers = opts?.buffers;
        const hints = (r: { newestOnly: boolean }): SelectHints => (buffers === undefined ? { newestOnly: r.newestOnly } : { newestOnly: r.newestOnly, buffers });
        loaded = await Promise.all(ranges.map((r) => q.select(r.node.matchers, r.startMs, r.endMs, controller.signal, hints(r))));
      } catch (err) {
        if (controller.signal.aborted) throw lifecycleError();
        throw toAppError(err);
      }
      if (controller.signal.aborted) throw lifecycleError();
      let work = 0;
      for (let k = 0; k < ranges.length; k++) {
        const series = loaded[k] as SeriesSamples[];
        let count = 0;
        for (const s of series) count += s.tsMs.length;
        ctx.countSamples(count);
        work += count + series.length * grid.n;
        data.set((ranges[k] as { node: VectorSelector }).node, series);
      }

      const alive = (): void => {
        if (controller.signal.aborted || performance.now() >= deadline) throw lifecycleError();
      };
      const value = await evaluateInBlocks(ctx, expr, grid, work, alive, this._opts.evalBlockWork ?? BLOCK_WORK);
      alive();
      return { value: shapeResult(value, expr, grid, instant), warnings: [] };
    } catch (err) {
      throw toAppError(err);
    } finally {
      if (timer !== null) clearTimeout(timer);
      userSignal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Estimated work (samples scanned + series × steps) above which a range query is split into step blocks. */
export const BLOCK_WORK = 8_000_000;

/**
 * Evaluates `expr` over `grid`, in one go when the work is small, else in consecutive step blocks
 * with a `setImmediate` yield between blocks so that a long query does not starve other requests.
 * Block results are merged by label set; whole-result duplicate checks span blocks through
 * `uniqueRegistry`, so results and errors are the same as one evaluation over all steps. A block is
 * about `blockWork` units (a few hundred ms on one core at most). `alive` throws when the query was canceled or
 * timed out.
 */
export async function evaluateInBlocks(ctx: EvalContext, expr: Expr, grid: StepGrid, work: number, alive: () => void, blockWork = BLOCK_WORK): Promise<EvalValue> {
  if (grid.n <= 1 || work <= blockWork) return new Evaluator(ctx).eval(expr, grid);
  const registries = new Map<Expr, Map<string, string>>();
  const blockCtx: EvalContext = {
    ...ctx,
    uniqueRegistry(node: Expr): Map<string, string> {
      let m = registries.get(node);
      if (m === undefined) {
        m = new Map();
        registries.set(node, m);
      }
      return m;
    },
  };
  // Blocks are sized from the work estimate (about `blockWork` units each), not from timing, so the
  // split is deterministic; one Evaluator serves all blocks and keeps its per-selector caches.
  const per = Math.max(1, Math.ceil(grid.n / Math.ceil(work / blockWork)));
  const ev = new Evaluator(blockCtx);
  const merged = new Map<string, StepSeries>();
  let scalar: Float64Array | null = null;
  for (let first = 0; first < grid.n; ) {
    const cnt = Math.min(per, grid.n - first);
    const v = ev.eval(expr, { startMs: grid.startMs + first * grid.stepMs, stepMs: grid.stepMs, n: cnt });
    if (v.type === 'scalar') {
      scalar ??= new Float64Array(grid.n);
      scalar.set(v.values, first);
    } else if (v.type === 'vector') {
      for (const s of v.series) {
        const key = seriesKey(s.labels);
        let m = merged.get(key);
        if (m === undefined) {
          m = newStepSeries(s.labels, grid.n);
          merged.set(key, m);
        }
        m.values.set(s.values, first);
        m.present.set(s.present, first);
      }
    } else {
      // Matrices and strings are not range-query results; shapeResult reports the error.
      return v;
    }
    first += cnt;
    if (first < grid.n) {
      await new Promise<void>((r) => setImmediate(r));
      alive();
    }
  }
  return scalar !== null ? { type: 'scalar', values: scalar } : { type: 'vector', series: [...merged.values()] };
}

function canceled(): AppError {
  return new AppError(ErrorKind.Canceled, 'query-canceled', 'query was canceled in query execution');
}

/** Sort order of sort()/sort_desc(): by value, NaN last in both directions, ties by labels. */
function byValue(desc: boolean): (a: VectorElement, b: VectorElement) => number {
  return (a, b) => {
    const x = a.value;
    const y = b.value;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) && Number.isNaN(y)) return compareLabels(a.labels, b.labels);
      return Number.isNaN(x) ? 1 : -1;
    }
    if (x !== y) return desc ? (y > x ? 1 : -1) : x > y ? 1 : -1;
    return compareLabels(a.labels, b.labels);
  };
}

/** Turns the evaluator's step values into the API's result shape. */
function shapeResult(value: EvalValue, expr: Expr, grid: StepGrid, instant: boolean): QueryValue {
  if (instant) {
    const t = grid.startMs;
    switch (value.type) {
      case 'scalar':
        return { type: 'scalar', timeMs: t, value: value.values[0] as number };
      case 'string':
        return { type: 'string', timeMs: t, value: value.value };
      case 'matrix': {
        const series: MatrixSeries[] = value.series.map((s) => ({ labels: s.labels, tsMs: s.tsMs.slice(), values: s.values.slice() }));
        series.sort((a, b) => compareLabels(a.labels, b.labels));
        return { type: 'matrix', series };
      }
      case 'vector': {
        const elements: VectorElement[] = [];
        for (const s of value.series) if (s.present[0] === 1) elements.push({ labels: s.labels, value: s.values[0] as number });
        const outer = unwrapParens(expr);
        if (outer.kind === 'Call' && (outer.func === 'sort' || outer.func === 'sort_desc')) elements.sort(byValue(outer.func === 'sort_desc'));
        else elements.sort((a, b) => compareLabels(a.labels, b.labels));
        return { type: 'vector', timeMs: t, elements };
      }
    }
  }
  if (value.type === 'scalar') {
    const tsMs = new Float64Array(grid.n);
    for (let i = 0; i < grid.n; i++) tsMs[i] = grid.startMs + i * grid.stepMs;
    return { type: 'matrix', series: [{ labels: [], tsMs, values: value.values.slice() }] };
  }
  if (value.type !== 'vector') throw badData('promql-bad-range-query', `invalid expression type ${JSON.stringify(value.type)} for range query, must be Scalar or instant Vector`);
  const series: MatrixSeries[] = [];
  for (const s of value.series) {
    let cnt = 0;
    for (let i = 0; i < grid.n; i++) cnt += s.present[i] as number;
    if (cnt === 0) continue;
    const tsMs = new Float64Array(cnt);
    const values = new Float64Array(cnt);
    let k = 0;
    for (let i = 0; i < grid.n; i++) {
      if (s.present[i] !== 1) continue;
      tsMs[k] = grid.startMs + i * grid.stepMs;
      values[k] = s.values[i] as number;
      k++;
    }
    series.push({ labels: s.labels, tsMs, values });
  }
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  return { type: 'matrix', series };
}
