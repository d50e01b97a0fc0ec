/**
 * Aggregation operators over step values. Series are assigned to groups once; each step then
 * aggregates the present members of every group with per-group typed-array accumulators.
 * Arithmetic mirrors Prometheus 2.42 `aggregation()` (plain summation, incremental mean for avg,
 * Welford for stddev/stdvar, NaN handling of min/max, heap order of topk/bottomk).
 */
import { METRIC_NAME, dropLabels, isValidLabelName, keepLabels, seriesKey } from '../../common/labels.js';
import type { Labels } from '../../common/types.js';
import type { AggregateOp } from './ast.js';
import {
  SeriesCollector,
  execError,
  newStepSeries,
  type ScalarValue,
  type StepSeries,
  type VectorValue,
} from './step-values.js';

/** Aggregations this module implements. */
export const SUPPORTED_AGGREGATIONS: ReadonlySet<AggregateOp> = new Set<AggregateOp>([
  'sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values',
]);

/** Labels of the output group of `labels` under `by (…)` / `without (…)`. */
export function groupingLabels(labels: Labels, grouping: ReadonlySet<string>, without: boolean): Labels {
  return without ? dropLabels(labels, grouping) : keepLabels(labels, grouping);
}

interface Grouping {
  /** Group index of each input series. */
  readonly groupOf: Int32Array;
  /** Output labels of each group. */
  readonly labels: Labels[];
}

function assignGroups(series: readonly StepSeries[], grouping: readonly string[], without: boolean): Grouping {
  const names = new Set(grouping);
  if (without) names.add(METRIC_NAME);
  const byKey = new Map<string, number>();
  const labels: Labels[] = [];
  const groupOf = new Int32Array(series.length);
  for (let k = 0; k < series.length; k++) {
    const gl = groupingLabels((series[k] as StepSeries).labels, names, without);
    const key = seriesKey(gl);
    let g = byKey.get(key);
    if (g === undefined) {
      g = labels.length;
      byKey.set(key, g);
      labels.push(gl);
    }
    groupOf[k] = g;
  }
  return { groupOf, labels };
}

/**
 * Evaluates an aggregation. `param` is the scalar parameter of topk/bottomk/quantile, or the label
 * name of count_values; null otherwise.
 */
export function aggregate(
  op: AggregateOp,
  input: VectorValue,
  grouping: readonly string[],
  without: boolean,
  param: ScalarValue | string | null,
  n: number,
): VectorValue {
  switch (op) {
    case 'topk':
    case 'bottomk':
      return topBottomK(op === 'topk', input, grouping, without, param as ScalarValue, n);
    case 'quantile':
      return quantileAgg(input, grouping, without, param as ScalarValue, n);
    case 'count_values':
      if (!isValidLabelName(param as string)) throw execError('promql-bad-parameter', `invalid label name ${JSON.stringify(param)}`);
      return countValues(input, grouping, without, param as string, n);
    default:
      return simpleAgg(op, input, grouping, without, n);
  }
}

/**
 * `sum`'s fold on its own: the commonest aggregation gets a loop without the per-element
 * operator switch. The first member of a group at a step sets the value (so a lone −0 stays −0).
 */
function sumInto(series: readonly StepSeries[], groupOf: Int32Array, n: number, value: Float64Array, count: Float64Array): void {
  for (let k = 0; k < series.length; k++) {
    const s = series[k] as StepSeries;
    const base = (groupOf[k] as number) * n;
    const present = s.present;
    const vals = s.values;
    for (let i = 0; i < n; i++) {
      if (present[i] !== 1) continue;
      const x = base + i;
      const c = count[x] as number;
      value[x] = c === 0 ? (vals[i] as number) : (value[x] as number) + (vals[i] as number);
      count[x] = c + 1;
    }
  }
}

/** `count` and `group` need only the number of members per group and step. */
function countInto(series: readonly StepSeries[], groupOf: Int32Array, n: number, count: Float64Array): void {
  for (let k = 0; k < series.length; k++) {
    const s = series[k] as StepSeries;
    const base = (groupOf[k] as number) * n;
    const present = s.present;
    for (let i = 0; i < n; i++) if (present[i] === 1) count[base + i] = (count[base + i] as number) + 1;
  }
}

function simpleAgg(op: AggregateOp, input: VectorValue, grouping: readonly string[], without: boolean, n: number): VectorValue {
  const { groupOf, labels } = assignGroups(input.series, grouping, without);
  const nGroups = labels.length;
  // Accumulators are group-major slabs (index g * n + i) walked series by series, so each input
  // series is read sequentially. For a given group and step, members are still folded in input
  // order, so the floating-point result is the same as a step-by-step walk.
  const value = new Float64Array(nGroups * n);
  const count = new Float64Array(nGroups * n);
  const needMean = op === 'avg' || op === 'stddev' || op === 'stdvar';
  const mean = needMean ? new Float64Array(nGroups * n) : value;
  if (op === 'sum') sumInto(input.series, groupOf, n, value, count);
  else if (op === 'count' || op === 'group') countInto(input.series, groupOf, n, count);
  else for (let k = 0; k < input.series.length; k++) {
    const s = input.series[k] as StepSeries;
    const base = (groupOf[k] as number) * n;
    const present = s.present;
    const vals = s.values;
    for (let i = 0; i < n; i++) {
      if (present[i] !== 1) continue;
      const v = vals[i] as number;
      const x = base + i;
      const c = (count[x] as number) + 1;
      count[x] = c;
      if (c === 1) {
        // First member of the group at this step initialises every accumulator.
        value[x] = op === 'stddev' || op === 'stdvar' ? 0 : v;
        if (needMean) mean[x] = v;
        continue;
      }
      switch (op) {
        case 'avg': {
          const m = mean[x] as number;
          if (m === Infinity || m === -Infinity) {
            // Inf mean stays as is for same-sign Inf or finite inputs (avoids Inf - Inf = NaN).
            if ((v === Infinity || v === -Infinity) && m > 0 === v > 0) break;
            if (Number.isFinite(v)) break;
          }
          mean[x] = m + v / c - m / c;
          break;
        }
        case 'min': {
          const cur = value[x] as number;
          if (cur > v || Number.isNaN(cur)) value[x] = v;
          break;
        }
        case 'max': {
          const cur = value[x] as number;
          if (cur < v || Number.isNaN(cur)) value[x] = v;
          break;
        }
        case 'stddev':
        case 'stdvar': {
          const delta = v - (mean[x] as number);
          mean[x] = (mean[x] as number) + delta / c;
          value[x] = (value[x] as number) + delta * (v - (mean[x] as number));
          break;
        }
        default:
          break;
      }
    }
  }
  const out: StepSeries[] = [];
  for (let g = 0; g < nGroups; g++) {
    const o = newStepSeries(labels[g] as Labels, n);
    const base = g * n;
    for (let i = 0; i < n; i++) {
      const c = count[base + i] as number;
      if (c === 0) continue;
      let v: number;
      switch (op) {
        case 'avg':
          v = mean[base + i] as number;
          break;
        case 'count':
          v = c;
          break;
        case 'group':
          v = 1;
          break;
        case 'stdvar':
          v = (value[base + i] as number) / c;
          break;
        case 'stddev':
          v = Math.sqrt((value[base + i] as number) / c);
          break;
        default:
          v = value[base + i] as number;
      }
      o.present[i] = 1;
      o.values[i] = v;
    }
    out.push(o);
  }
  return { type: 'vector', series: out };
}

/** Largest int64 as a float; k beyond it cannot be converted (Prometheus `convertibleToInt64`). */
const MAX_INT64 = 9223372036854775807;

/**
 * The members topk/bottomk keep, chosen exactly as Prometheus 2.42 does: a Go `container/heap` whose
 * root is the weakest kept element (NaN counts as weakest for both), fed in input order, the root
 * replaced when a stronger element arrives. Equal values are therefore kept or dropped as
 * Prometheus would for the same input order. Returns series indexes (heap order).
 */
function selectK(top: boolean, k: number, members: readonly number[], series: readonly StepSeries[], i: number): number[] {
  const heap: number[] = [];
  const val = (h: number): number => (series[heap[h] as number] as StepSeries).values[i] as number;
  // Go's vectorByValueHeap / vectorByReverseValueHeap Less: NaN first, then ascending / descending.
  const less = (a: number, b: number): boolean => {
    const x = val(a);
    if (Number.isNaN(x)) return true;
    return top ? x < val(b) : x > val(b);
  };
  const swap = (a: number, b: number): void => {
    const t = heap[a] as number;
    heap[a] = heap[b] as number;
    heap[b] = t;
  };
  const up = (j0: number): void => {
    let j = j0;
    for (;;) {
      const p = j === 0 ? 0 : Math.trunc((j - 1) / 2);
      if (p === j || !less(j, p)) break;
      swap(p, j);
      j = p;
    }
  };
  const down = (i0: number): boolean => {
    const len = heap.length;
    let x = i0;
    for (;;) {
      const j1 = 2 * x + 1;
      if (j1 >= len) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < len && less(j2, j1)) j = j2;
      if (!less(j, x)) break;
      swap(x, j);
      x = j;
    }
    return x > i0;
  };
  for (const m of members) {
    if (heap.length < k) {
      heap.push(m);
      up(heap.length - 1);
      continue;
    }
    const v = (series[m] as StepSeries).values[i] as number;
    const root = val(0);
    const stronger = top ? root < v : root > v;
    if (stronger || (Number.isNaN(root) && !Number.isNaN(v))) {
      heap[0] = m;
      if (k > 1 && !down(0)) up(0);
    }
  }
  return heap;
}

function topBottomK(top: boolean, input: VectorValue, grouping: readonly string[], without: boolean, param: ScalarValue, n: number): VectorValue {
  const { groupOf, labels } = assignGroups(input.series, grouping, without);
  const members: number[][] = labels.map(() => []);
  const out = input.series.map((s) => newStepSeries(s.labels, n));
  for (let i = 0; i < n; i++) {
    const f = param.values[i] as number;
    if (!(f >= -MAX_INT64 - 1 && f <= MAX_INT64)) throw execError('promql-bad-parameter', `Scalar value ${formatGoFloat(f)} overflows int64`);
    const k = Math.trunc(f);
    if (k < 1) continue;
    for (const m of members) m.length = 0;
    for (let s = 0; s < input.series.length; s++) {
      if ((input.series[s] as StepSeries).present[i] === 1) (members[groupOf[s] as number] as number[]).push(s);
    }
    for (const m of members) {
      if (m.length === 0) continue;
      const heap = selectK(top, k, m, input.series, i);
      for (const sIdx of heap) {
        const o = out[sIdx] as StepSeries;
        o.present[i] = 1;
        o.values[i] = (input.series[sIdx] as StepSeries).values[i] as number;
      }
    }
  }
  return { type: 'vector', series: out };
}

/** Prometheus `quantile()`: linear interpolation between the closest ranks; NaN inputs sort first. */
export function quantileOf(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const len = values.length;
  const rank = q * (len - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(len - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return (values[lower] as number) * (1 - weight) + (values[upper] as number) * weight;
}

function quantileAgg(input: VectorValue, grouping: readonly string[], without: boolean, param: ScalarValue, n: number): VectorValue {
  const { groupOf, labels } = assignGroups(input.series, grouping, without);
  const out = labels.map((l) => newStepSeries(l, n));
  const members: number[][] = labels.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const m of members) m.length = 0;
    for (let s = 0; s < input.series.length; s++) {
      const ss = input.series[s] as StepSeries;
      if (ss.present[i] === 1) (members[groupOf[s] as number] as number[]).push(ss.values[i] as number);
    }
    for (let g = 0; g < members.length; g++) {
      const m = members[g] as number[];
      if (m.length === 0) continue;
      const o = out[g] as StepSeries;
      o.present[i] = 1;
      o.values[i] = quantileOf(param.values[i] as number, m);
    }
  }
  return { type: 'vector', series: out };
}

function countValues(input: VectorValue, grouping: readonly string[], without: boolean, label: string, n: number): VectorValue {
  const { groupOf, labels } = assignGroups(input.series, grouping, without);
  const out = new SeriesCollector(n);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < input.series.length; s++) {
      const ss = input.series[s] as StepSeries;
      if (ss.present[i] !== 1) continue;
      const gl = withLabel(labels[groupOf[s] as number] as Labels, label, formatGoFloat(ss.values[i] as number));
      const idx = out.indexOf(gl);
      const o = out.series[idx] as StepSeries;
      if (o.present[i] === 1) o.values[i] = (o.values[i] as number) + 1;
      else out.set(idx, i, 1);
    }
  }
  return out.toVector();
}

/** Returns `labels` with `name` set to `value` (sorted position kept). */
export function withLabel(labels: Labels, name: string, value: string): Labels {
  const out: string[] = [];
  let done = false;
  for (let i = 0; i < labels.length; i += 2) {
    const ln = labels[i] as string;
    if (!done && ln >= name) {
      done = true;
      if (value !== '') out.push(name, value);
      if (ln === name) continue;
    }
    out.push(ln, labels[i + 1] as string);
  }
  if (!done && value !== '') out.push(name, value);
  return out;
}

/** Go `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never exponent form. */
export function formatGoFloat(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e === -1) return s;
  const neg = s.startsWith('-');
  const mant = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mant.indexOf('.');
  const digits = dot === -1 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const intLen = (dot === -1 ? mant.length : dot) + exp;
  let body: string;
  if (intLen <= 0) body = `0.${'0'.repeat(-intLen)}${digits}`;
  else if (intLen >= digits.length) body = digits + '0'.repeat(intLen - digits.length);
  else body = `${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  return (neg ? '-' : '') + body;
}
