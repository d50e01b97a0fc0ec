/**
 * Binary operators over step values: scalar/scalar, vector/scalar and vector/vector with
 * on/ignoring, group_left/group_right, bool, and the set operators. Label matching is done once
 * per query; the per-step loops only touch typed arrays. Semantics follow Prometheus 2.42
 * (`VectorBinop`, `VectorscalarBinop`, `VectorAnd/Or/Unless`, `resultMetric`).
 */
import { METRIC_NAME, dropLabels, getLabel, keepLabels, seriesKey } from '../../common/labels.js';
import type { Labels } from '../../common/types.js';
import type { BinaryOp, VectorMatching } from './ast.js';
import {
  SeriesCollector,
  dropMetricName,
  execError,
  labelsString,
  type ScalarValue,
  type StepSeries,
  type VectorValue,
} from './step-values.js';

/** Whether `op` is a comparison (filter unless `bool`). */
export function isComparison(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

/** Whether `op` is a set operator. */
export function isSetOperator(op: BinaryOp): boolean {
  return op === 'and' || op === 'or' || op === 'unless';
}

/** Go `math.Pow`, which differs from `Math.pow` for bases ±1 with NaN/±Inf exponents. */
export function goPow(x: number, y: number): number {
  if (x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

/** Arithmetic result of `l op r` (JS `%` already matches Go `math.Mod`: sign of the dividend). */
export function arith(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '%':
      return l % r;
    case '^':
      return goPow(l, r);
    case 'atan2':
      return Math.atan2(l, r);
    default:
      return NaN;
  }
}

/** Truth of comparison `l op r` (IEEE: anything involving NaN is false except `!=`). */
export function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    default:
      return false;
  }
}

/** scalar op scalar, per step. Comparisons between scalars always carry `bool` (the parser enforces it). */
export function scalarScalar(op: BinaryOp, lhs: ScalarValue, rhs: ScalarValue): ScalarValue {
  const n = lhs.values.length;
  const out = new Float64Array(n);
  const cmp = isComparison(op);
  for (let i = 0; i < n; i++) {
    const l = lhs.values[i] as number;
    const r = rhs.values[i] as number;
    out[i] = cmp ? (compare(op, l, r) ? 1 : 0) : arith(op, l, r);
  }
  return { type: 'scalar', values: out };
}

/**
 * Whether the operator drops the metric name from its result: arithmetic does, except `atan2`
 * (Prometheus 2.42 keeps the name there); comparisons only with `bool`.
 */
export function shouldDropMetricName(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '%' || op === '^';
}

/**
 * vector op scalar (or scalar op vector when `scalarOnLeft`). Arithmetic but atan2, and `bool`, drop
 * the metric name; a comparison filter keeps the element with the vector side's value.
 */
export function vectorScalar(op: BinaryOp, vec: VectorValue, scalar: ScalarValue, scalarOnLeft: boolean, returnBool: boolean, n: number): VectorValue {
  const cmp = isComparison(op);
  const dropName = shouldDropMetricName(op) || returnBool;
  const out = new SeriesCollector(n);
  for (const s of vec.series) {
    const idx = out.indexOf(dropName ? dropMetricName(s.labels) : s.labels);
    for (let i = 0; i < n; i++) {
      if (s.present[i] !== 1) continue;
      const v = s.values[i] as number;
      const c = scalar.values[i] as number;
      const l = scalarOnLeft ? c : v;
      const r = scalarOnLeft ? v : c;
      if (cmp) {
        const keep = compare(op, l, r);
        if (returnBool) out.set(idx, i, keep ? 1 : 0);
        else if (keep) out.set(idx, i, v);
      } else {
        out.set(idx, i, arith(op, l, r));
      }
    }
  }
  return out.toVector();
}

/** Signature of a label set for matching: the `on` labels, or everything but the `ignoring` labels and the name. */
function signature(labels: Labels, matching: VectorMatching, names: ReadonlySet<string>): string {
  if (matching.on) return seriesKey(keepLabels(labels, names));
  return seriesKey(dropLabels(labels, names));
}

/** Labels a match group is named by in error messages (Prometheus `MatchLabels`). */
function matchLabels(labels: Labels, matching: VectorMatching, names: ReadonlySet<string>): Labels {
  return matching.on ? keepLabels(labels, names) : dropLabels(labels, names);
}

function matchNameSet(matching: VectorMatching): Set<string> {
  const names = new Set(matching.labels);
  if (!matching.on) names.add(METRIC_NAME);
  return names;
}

/** Assigns each series a group id by signature; returns ids and the number of groups. */
function groupBySignature(series: readonly StepSeries[], sigIds: Map<string, number>, matching: VectorMatching, names: ReadonlySet<string>, create: boolean): Int32Array {
  const ids = new Int32Array(series.length);
  for (let k = 0; k < series.length; k++) {
    const sig = signature((series[k] as StepSeries).labels, matching, names);
    let id = sigIds.get(sig);
    if (id === undefined) {
      if (create) {
        id = sigIds.size;
        sigIds.set(sig, id);
      } else {
        id = -1;
      }
    }
    ids[k] = id;
  }
  return ids;
}

/** Prometheus `resultMetric`: labels of an arithmetic/comparison vector-vector result element. */
function resultLabels(many: Labels, one: Labels, op: BinaryOp, matching: VectorMatching, returnBool: boolean): Labels {
  let out: Labels = many;
  if (shouldDropMetricName(op) || returnBool) out = dropMetricName(out);
  if (matching.card === 'one-to-one') {
    const names = new Set(matching.labels);
    out = matching.on ? keepLabels(out, names) : dropLabels(out, names);
  }
  if (matching.include.length > 0) {
    const rec = new Map<string, string>();
    for (let i = 0; i < out.length; i += 2) rec.set(out[i] as string, out[i + 1] as string);
    for (const name of matching.include) {
      const v = getLabel(one, name);
      if (v !== '') rec.set(name, v);
      else rec.delete(name);
    }
    const keys = [...rec.keys()].sort();
    const flat: string[] = [];
    for (const k of keys) flat.push(k, rec.get(k) as string);
    out = flat;
  }
  return out;
}

/**
 * vector op vector for arithmetic and comparisons: one-to-one, or many-to-one / one-to-many with
 * group_left / group_right. Errors (duplicate "one" side, ambiguous one-to-one match, colliding
 * group results) are raised only at steps where the offending elements are all present.
 */
export function vectorVector(op: BinaryOp, lhsIn: VectorValue, rhsIn: VectorValue, matching: VectorMatching, returnBool: boolean, n: number): VectorValue {
  const oneToMany = matching.card === 'one-to-many';
  // The "one" side is always called rhs below; group_right swaps the operands (and swaps values back).
  const many = oneToMany ? rhsIn.series : lhsIn.series;
  const one = oneToMany ? lhsIn.series : rhsIn.series;
  const names = matchNameSet(matching);
  const sigIds = new Map<string, number>();
  const oneGroup = groupBySignature(one, sigIds, matching, names, true);
  const manyGroup = groupBySignature(many, sigIds, matching, names, false);
  const nGroups = sigIds.size;
  const cmp = isComparison(op);
  const out = new SeriesCollector(n);

  // Output series per (many, one) pair, created lazily; for one-to-one the labels depend only on `many`.
  const pairOut = new Map<number, number>();
  const outIndex = (m: number, o: number): number => {
    const key = matching.include.length > 0 || matching.card !== 'one-to-one' ? m * one.length + o : m;
    let idx = pairOut.get(key);
    if (idx === undefined) {
      idx = out.indexOf(resultLabels((many[m] as StepSeries).labels, (one[o] as StepSeries).labels, op, matching, returnBool));
      pairOut.set(key, idx);
    }
    return idx;
  };

  const oneAt = new Int32Array(nGroups);
  const matchedAt = new Int32Array(nGroups);
  // Group that last wrote each output series at the current step (for the right error message).
  const writerGroup: number[] = [];
  for (let i = 0; i < n; i++) {
    let anyMany = false;
    for (let m = 0; m < many.length && !anyMany; m++) anyMany = (many[m] as StepSeries).present[i] === 1;
    if (!anyMany) continue;
    oneAt.fill(-1);
    let anyOne = false;
    for (let o = 0; o < one.length; o++) {
      const s = one[o] as StepSeries;
      if (s.present[i] !== 1) continue;
      anyOne = true;
      const g = oneGroup[o] as number;
      const prev = oneAt[g] as number;
      if (prev >= 0) {
        const side = oneToMany ? 'left' : 'right';
        const prevLabels = (one[prev] as StepSeries).labels;
        throw execError(
          'promql-many-to-many',
          `found duplicate series for the match group ${labelsString(matchLabels(s.labels, matching, names))} on the ${side} hand-side of the operation: ` +
            `[${labelsString(prevLabels)}, ${labelsString(s.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      oneAt[g] = o;
    }
    if (!anyOne) continue;
    matchedAt.fill(-1);
    for (let m = 0; m < many.length; m++) {
      const ms = many[m] as StepSeries;
      if (ms.present[i] !== 1) continue;
      const g = manyGroup[m] as number;
      if (g < 0) continue;
      const o = oneAt[g] as number;
      if (o < 0) continue;
      const mv = ms.values[i] as number;
      const ov = (one[o] as StepSeries).values[i] as number;
      const l = oneToMany ? ov : mv;
      const r = oneToMany ? mv : ov;
      let value: number;
      if (cmp) {
        const keep = compare(op, l, r);
        if (returnBool) value = keep ? 1 : 0;
        else if (keep) value = l;
        else continue;
      } else {
        value = arith(op, l, r);
      }
      if (matching.card === 'one-to-one') {
        if (matchedAt[g] === i) {
          throw execError('promql-many-to-one', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        }
        matchedAt[g] = i;
      }
      const idx = outIndex(m, o);
      if (out.isSet(idx, i)) {
        if (matching.card !== 'one-to-one' && writerGroup[idx] === g) {
          throw execError('promql-many-to-one', 'multiple matches for labels: grouping labels must ensure unique matches');
        }
      }
      out.set(idx, i, value);
      writerGroup[idx] = g;
    }
  }
  return out.toVector();
}

/**
 * `and`, `or`, `unless` (always many-to-many): elements pass through with their labels unchanged.
 * Matching is decided per step on the signatures present at that step.
 */
export function setOperation(op: 'and' | 'or' | 'unless', lhs: VectorValue, rhs: VectorValue, matching: VectorMatching, n: number): VectorValue {
  const names = matchNameSet(matching);
  const sigIds = new Map<string, number>();
  const lGroup = groupBySignature(lhs.series, sigIds, matching, names, true);
  const rGroup = groupBySignature(rhs.series, sigIds, matching, names, true);
  const seenAt = new Int32Array(sigIds.size);
  const out = new SeriesCollector(n);
  const lOut = lhs.series.map((s) => out.indexOf(s.labels));
  const rOut = op === 'or' ? rhs.series.map((s) => out.indexOf(s.labels)) : [];
  for (let i = 0; i < n; i++) {
    seenAt.fill(-1);
    if (op === 'or') {
      for (let k = 0; k < lhs.series.length; k++) {
        const s = lhs.series[k] as StepSeries;
        if (s.present[i] !== 1) continue;
        seenAt[lGroup[k] as number] = i;
        out.set(lOut[k] as number, i, s.values[i] as number);
      }
      for (let k = 0; k < rhs.series.length; k++) {
        const s = rhs.series[k] as StepSeries;
        if (s.present[i] !== 1 || seenAt[rGroup[k] as number] === i) continue;
        out.set(rOut[k] as number, i, s.values[i] as number);
      }
      continue;
    }
    for (let k = 0; k < rhs.series.length; k++) {
      if ((rhs.series[k] as StepSeries).present[i] === 1) seenAt[rGroup[k] as number] = i;
    }
    const wantMatch = op === 'and';
    for (let k = 0; k < lhs.series.length; k++) {
      const s = lhs.series[k] as StepSeries;
      if (s.present[i] !== 1) continue;
      if ((seenAt[lGroup[k] as number] === i) === wantMatch) out.set(lOut[k] as number, i, s.values[i] as number);
    }
  }
  return out.toVector();
}
