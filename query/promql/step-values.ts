/**
 * Intermediate values of the PromQL evaluator. An expression is evaluated once over all steps of a
 * query: an instant vector is a list of series, each with one value slot per step plus a presence
 * flag, never an object per point. Step `i` is at `grid.startMs + i * grid.stepMs`.
 */
import { AppError, ErrorKind } from '../../common/errors.js';
import { getLabel, METRIC_NAME, seriesKey } from '../../common/labels.js';
import type { Labels } from '../../common/types.js';

/** The evaluation steps of one (sub)query: `n` steps from `startMs`, `stepMs` apart. */
export interface StepGrid {
  readonly startMs: number;
  readonly stepMs: number;
  /** Number of steps, ≥ 1. */
  readonly n: number;
}

/** One series of an instant vector over all steps: `values[i]` is meaningful only where `present[i] === 1`. */
export interface StepSeries {
  readonly labels: Labels;
  readonly values: Float64Array;
  readonly present: Uint8Array;
}

/** An instant vector evaluated at every step. Labels are unique among series with any presence. */
export interface VectorValue {
  readonly type: 'vector';
  readonly series: StepSeries[];
}

/** A scalar evaluated at every step. */
export interface ScalarValue {
  readonly type: 'scalar';
  readonly values: Float64Array;
}

/** Raw samples of one series, ascending by time, staleness markers already removed. */
export interface RawSeries {
  readonly labels: Labels;
  readonly tsMs: Float64Array;
  readonly values: Float64Array;
}

/** A range vector (only ever produced for a single evaluation time: an instant query's result). */
export interface MatrixValue {
  readonly type: 'matrix';
  readonly series: RawSeries[];
}

/** A string literal. */
export interface StringValue {
  readonly type: 'string';
  readonly value: string;
}

/** Anything an expression evaluates to. */
export type EvalValue = VectorValue | ScalarValue | MatrixValue | StringValue;

/** Error message Prometheus uses when one result holds two equal label sets. */
export const DUPLICATE_LABELSET_MESSAGE = 'vector cannot contain metrics with the same labelset';

/** An execution (422) AppError. */
export function execError(code: string, message: string): AppError {
  return new AppError(ErrorKind.Execution, code, message);
}

/** A fresh series with no value present at any step. */
export function newStepSeries(labels: Labels, n: number): StepSeries {
  return { labels, values: new Float64Array(n), present: new Uint8Array(n) };
}

/** Whether the series has a value at any step. */
export function hasAnyPresent(s: StepSeries): boolean {
  return s.present.indexOf(1) !== -1;
}

/** A scalar with the same value at every step. */
export function constantScalar(value: number, n: number): ScalarValue {
  return { type: 'scalar', values: new Float64Array(n).fill(value) };
}

/** Labels without `__name__` (the input itself when it has no name). */
export function dropMetricName(labels: Labels): Labels {
  for (let i = 0; i < labels.length; i += 2) {
    if (labels[i] === METRIC_NAME) return [...labels.slice(0, i), ...labels.slice(i + 2)];
  }
  return labels;
}

/**
 * Prometheus `labels.Labels.String()`: `{a="1", b="2"}` with `__name__` as an ordinary pair.
 * Used in error messages that mirror Prometheus's.
 */
export function labelsString(labels: Labels): string {
  const parts: string[] = [];
  for (let i = 0; i < labels.length; i += 2) parts.push(`${labels[i] as string}=${JSON.stringify(labels[i + 1])}`);
  return `{${parts.join(', ')}}`;
}

/**
 * Collects output series keyed by label set, merging values from different inputs that end up with
 * equal labels at different steps (as Prometheus's range evaluation does), and failing when two
 * values land on the same label set at the same step.
 */
export class SeriesCollector {
  /** Output series in creation order; indexes are stable. */
  readonly series: StepSeries[] = [];
  private readonly _byKey = new Map<string, number>();

  constructor(
    private readonly _n: number,
    private readonly _dupCode = 'promql-duplicate-labelset',
    private readonly _dupMessage = DUPLICATE_LABELSET_MESSAGE,
  ) {}

  /** Index of the output series for `labels`, creating it on first use. */
  indexOf(labels: Labels): number {
    const key = seriesKey(labels);
    let idx = this._byKey.get(key);
    if (idx === undefined) {
      idx = this.series.length;
      this.series.push(newStepSeries(labels, this._n));
      this._byKey.set(key, idx);
    }
    return idx;
  }

  /** Sets the value of output series `idx` at step `i`; throws the duplicate error if already set. */
  set(idx: number, i: number, value: number): void {
    const s = this.series[idx] as StepSeries;
    if (s.present[i] === 1) throw execError(this._dupCode, this._dupMessage);
    s.present[i] = 1;
    s.values[i] = value;
  }

  /** Whether output series `idx` already has a value at step `i`. */
  isSet(idx: number, i: number): boolean {
    return (this.series[idx] as StepSeries).present[i] === 1;
  }

  /** The collected vector, without series that never received a value. */
  toVector(): VectorValue {
    return { type: 'vector', series: this.series.filter(hasAnyPresent) };
  }
}

/**
 * Fails when two series with any presence share a label set. Mirrors the whole-result check
 * Prometheus applies after range-vector functions and unary minus (not per step).
 *
 * When a query is evaluated in step blocks (engine.ts), `seen` carries the check across blocks:
 * it maps each output label set to the input series (`sources[k]`, parallel to `series`) that
 * produced it, so two different inputs landing on one label set fail even in different blocks.
 */
export function assertUniqueLabelsets(series: readonly StepSeries[], sources?: readonly Labels[], seen?: Map<string, string>): void {
  // Each output series is its source's labels, with or without the metric name, and sources are
  // distinct label sets: when they all share one name, the outputs are distinct too. The common
  // case (`rate(metric[5m])`) then needs no key per series.
  if (seen === undefined && sources !== undefined && sameMetricName(sources)) return;
  if (seen === undefined || sources === undefined) {
    const local = new Set<string>();
    for (const s of series) {
      if (!hasAnyPresent(s)) continue;
      const key = seriesKey(s.labels);
      if (local.has(key)) throw execError('promql-duplicate-labelset', DUPLICATE_LABELSET_MESSAGE);
      local.add(key);
    }
    return;
  }
  for (let k = 0; k < series.length; k++) {
    const s = series[k] as StepSeries;
    if (!hasAnyPresent(s)) continue;
    const key = seriesKey(s.labels);
    const src = seriesKey(sources[k] as Labels);
    const prev = seen.get(key);
    if (prev !== undefined && prev !== src) throw execError('promql-duplicate-labelset', DUPLICATE_LABELSET_MESSAGE);
    seen.set(key, src);
  }
}

/** Whether every label set has the same `__name__` value (or none has one). */
function sameMetricName(sets: readonly Labels[]): boolean {
  if (sets.length < 2) return true;
  const first = getLabel(sets[0] as Labels, METRIC_NAME);
  for (let k = 1; k < sets.length; k++) if (getLabel(sets[k] as Labels, METRIC_NAME) !== first) return false;
  return true;
}
