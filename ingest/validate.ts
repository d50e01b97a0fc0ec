/**
 * Per-series validation of a decoded remote-write request (limits-and-tenancy.md §3 step 2).
 * Invalid series are dropped and counted by stable error code with one example message; valid
 * series are normalised (empty-valued labels dropped, labels sorted) and kept. Samples are never
 * looked at one by one: a dropped series' range is squeezed out with one memmove per kept series.
 */
import { clip } from '../common/errors.js';
import { METRIC_NAME, formatLabels, isValidLabelName, isValidMetricName, sortLabels } from '../common/labels.js';
import type { Labels, RejectedSamples, SampleBatch } from '../common/types.js';
import { wordsOf } from '../common/types.js';

/** Optional per-tenant label limits; 0 = unlimited. Lengths are UTF-8 bytes, as in Cortex/Mimir. */
export interface ValidationLimits {
  /** Labels per series, `__name__` included (limits.max_label_names_per_series). */
  readonly maxLabelNamesPerSeries: number;
  /** Bytes per label name (limits.max_label_name_length). */
  readonly maxLabelNameLength: number;
  /** Bytes per label value, metric name included (limits.max_label_value_length). */
  readonly maxLabelValueLength: number;
}

/** No label limits. */
export const NO_VALIDATION_LIMITS: ValidationLimits = { maxLabelNamesPerSeries: 0, maxLabelNameLength: 0, maxLabelValueLength: 0 };

/** Stable error codes produced here (never renamed; used as metric `reason` values too). */
export const ValidationCode = {
  MissingMetricName: 'missing-metric-name',
  InvalidMetricName: 'invalid-metric-name',
  MaxLabelNames: 'max-label-names',
  InvalidLabelName: 'invalid-label-name',
  LabelNameTooLong: 'label-name-too-long',
  LabelValueTooLong: 'label-value-too-long',
  DuplicateLabelNames: 'duplicate-label-names',
  SampleTooOld: 'sample-too-old',
  SampleTooFarInFuture: 'sample-too-far-in-future',
} as const;

/**
 * Counts rejected samples per error code, keeping the first example message of each code.
 * Examples are built lazily (only for the first hit of a code), so counting costs no formatting.
 */
export class Rejections {
  private readonly _byCode = new Map<string, RejectedSamples>();

  /** Adds `count` samples under `code`; `example` is called only if the code is new. */
  add(code: string, count: number, example: () => string): void {
    const cur = this._byCode.get(code);
    if (cur !== undefined) cur.count += count;
    else this._byCode.set(code, { code, count, example: example() });
  }

  /** Merges already-counted rejections (e.g. storage's WriteResult.rejected). */
  addAll(list: readonly RejectedSamples[]): void {
    for (const r of list) this.add(r.code, r.count, () => r.example);
  }

  /** Total rejected samples over all codes. */
  total(): number {
    let n = 0;
    for (const r of this._byCode.values()) n += r.count;
    return n;
  }

  /** Rejections in first-seen order (copies; the caller may keep them). */
  list(): RejectedSamples[] {
    return Array.from(this._byCode.values(), (r) => ({ ...r }));
  }
}

/** The outcome of validating a batch. */
export interface ValidatedBatch {
  /** The valid series, normalised, with their samples. Shares memory with the input batch. */
  readonly batch: SampleBatch;
  /** Series dropped as invalid (series without samples are dropped silently and not counted). */
  readonly seriesRejected: number;
  /** Per kept series, its index in the input batch. */
  readonly inputIndex: Uint32Array;
}

function seriesText(labels: Labels): string {
  return clip(formatLabels(labels));
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Checks one normalised (sorted, no empty values) label set; returns the failing code and message
 * builder, or null when valid. `knownNames` caches label names already found valid in this request.
 */
export function checkSeries(labels: Labels, limits: ValidationLimits, knownNames: Set<string>): [string, () => string] | null {
  let metricName: string | undefined;
  for (let j = 0; j < labels.length; j += 2) {
    if (labels[j] === METRIC_NAME) {
      metricName = labels[j + 1] as string;
      break;
    }
  }
  if (metricName === undefined) {
    return [ValidationCode.MissingMetricName, () => `received a series without metric name: ${seriesText(labels)} [err-missing-metric-name]`];
  }
  if (!isValidMetricName(metricName)) {
    const name = metricName;
    return [ValidationCode.InvalidMetricName, () => `received a series with invalid metric name ${JSON.stringify(clip(name))} [err-invalid-metric-name]`];
  }
  const nLabels = labels.length / 2;
  if (limits.maxLabelNamesPerSeries > 0 && nLabels > limits.maxLabelNamesPerSeries) {
    return [
      ValidationCode.MaxLabelNames,
      () => `series has ${nLabels} labels, limit ${limits.maxLabelNamesPerSeries} (limits.max_label_names_per_series): ${seriesText(labels)} [err-max-label-names]`,
    ];
  }
  for (let j = 0; j < labels.length; j += 2) {
    const name = labels[j] as string;
    if (!knownNames.has(name)) {
      if (!isValidLabelName(name)) {
        return [
          ValidationCode.InvalidLabelName,
          () => `received a series with invalid label name ${JSON.stringify(clip(name))}: ${seriesText(labels)} [err-invalid-label-name]`,
        ];
      }
      // A UTF-16 unit is at most 3 UTF-8 bytes, so short names skip the byte count.
      if (limits.maxLabelNameLength > 0 && name.length * 3 > limits.maxLabelNameLength && utf8Length(name) > limits.maxLabelNameLength) {
        return [
          ValidationCode.LabelNameTooLong,
          () => `label name is ${utf8Length(name)} bytes, limit ${limits.maxLabelNameLength} (limits.max_label_name_length): ${JSON.stringify(clip(name))} [err-label-name-too-long]`,
        ];
      }
      knownNames.add(name);
    }
    if (limits.maxLabelValueLength > 0) {
      const value = labels[j + 1] as string;
      if (value.length * 3 > limits.maxLabelValueLength && utf8Length(value) > limits.maxLabelValueLength) {
        return [
          ValidationCode.LabelValueTooLong,
          () =>
            `value of label ${JSON.stringify(clip(name))} is ${utf8Length(value)} bytes, limit ${limits.maxLabelValueLength} (limits.max_label_value_length): ${JSON.stringify(clip(value))} [err-label-value-too-long]`,
        ];
      }
    }
  }
  for (let j = 2; j < labels.length; j += 2) {
    if (labels[j - 2] === labels[j]) {
      const name = labels[j] as string;
      return [
        ValidationCode.DuplicateLabelNames,
        () => `received a series with duplicate label name ${JSON.stringify(clip(name))}: ${seriesText(labels)} [err-duplicate-label-names]`,
      ];
    }
  }
  return null;
}

/** Drops pairs with an empty value (an empty value means "label absent"); returns the input when none. */
export function dropEmptyValues(labels: Labels): Labels {
  let empty = 0;
  for (let j = 1; j < labels.length; j += 2) if (labels[j] === '') empty++;
  if (empty === 0) return labels;
  const out: string[] = [];
  for (let j = 0; j < labels.length; j += 2) {
    if (labels[j + 1] !== '') out.push(labels[j] as string, labels[j + 1] as string);
  }
  return out;
}

/**
 * Validates every series of `input` and returns the valid ones. Series with an entry in `known`
 * are taken as they are (already normalised and validated under the same `limits`). Per series, after dropping
 * empty-valued labels and sorting: metric name present, metric name valid, label count, label names
 * valid, name and value lengths, names unique. The first failing check decides the code; all the
 * series' samples are counted into `rejections` under it.
 *
 * Takes ownership of `input`'s sample arrays: they are compacted in place, and the returned batch
 * views the same memory. Value bits are moved as u32 words, so NaN payloads survive.
 */
export function validateBatch(
  input: SampleBatch,
  rejections: Rejections,
  limits: ValidationLimits = NO_VALIDATION_LIMITS,
  known?: readonly ({ readonly labels: Labels } | undefined)[],
): ValidatedBatch {
  const { series, sampleStart, tsMs, values } = input;
  const words = wordsOf(values);
  const kept: Labels[] = [];
  const starts = new Uint32Array(series.length + 1);
  const inputIndex = new Uint32Array(series.length);
  const knownNames = new Set<string>();
  let w = 0;
  let seriesRejected = 0;
  for (let i = 0; i < series.length; i++) {
    const s = sampleStart[i] as number;
    const e = sampleStart[i + 1] as number;
    if (e === s) continue; // nothing to store (e.g. exemplar- or histogram-only series)
    let labels: Labels;
    if (known?.[i] !== undefined) {
      // Already normalised and validated under these limits (ingest/series-cache.ts).
      labels = series[i] as Labels;
    } else {
      labels = sortLabels(dropEmptyValues(series[i] as Labels));
      const failure = checkSeries(labels, limits, knownNames);
      if (failure !== null) {
        rejections.add(failure[0], e - s, failure[1]);
        seriesRejected++;
        continue;
      }
    }
    inputIndex[kept.length] = i;
    if (w !== s) {
      tsMs.copyWithin(w, s, e);
      words.copyWithin(2 * w, 2 * s, 2 * e);
    }
    starts[kept.length] = w;
    kept.push(labels);
    w += e - s;
  }
  starts[kept.length] = w;
  return {
    batch: {
      series: kept,
      sampleStart: starts.subarray(0, kept.length + 1),
      tsMs: tsMs.subarray(0, w),
      values: values.subarray(0, w),
    },
    seriesRejected,
    inputIndex: inputIndex.subarray(0, kept.length),
  };
}

/** The accepted time window of samples: [minTsMs, maxTsMs], with the limit keys for messages. */
export interface SampleTimeWindow {
  /** Oldest accepted timestamp, ms (-Infinity = no check). */
  readonly minTsMs: number;
  /** Newest accepted timestamp, ms (Infinity = no check). */
  readonly maxTsMs: number;
}

/**
 * Drops samples outside `window` (limits-and-tenancy.md §2: reject_old_samples_max_age and
 * creation_grace_period), sample by sample, counting them as `sample-too-old` /
 * `sample-too-far-in-future`. Compacts in place (value bits moved as u32 words); series left
 * without samples are removed. Returns `batch` itself when nothing is dropped.
 */
export function filterSampleTimes(batch: SampleBatch, window: SampleTimeWindow, rejections: Rejections): SampleBatch {
  const { series, sampleStart, tsMs, values } = batch;
  const n = tsMs.length;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const t = tsMs[i] as number;
    if (t < window.minTsMs || t > window.maxTsMs) bad++;
  }
  if (bad === 0) return batch;
  const words = wordsOf(values);
  const kept: Labels[] = [];
  const starts = new Uint32Array(series.length + 1);
  let w = 0;
  for (let s = 0; s < series.length; s++) {
    const from = sampleStart[s] as number;
    const to = sampleStart[s + 1] as number;
    const begin = w;
    for (let i = from; i < to; i++) {
      const t = tsMs[i] as number;
      if (t < window.minTsMs) {
        const labels = series[s] as Labels;
        rejections.add(ValidationCode.SampleTooOld, 1, () => `sample timestamp ${t} is older than the oldest accepted ${window.minTsMs} (limits.reject_old_samples_max_age) for series ${seriesText(labels)} [err-${ValidationCode.SampleTooOld}]`);
      } else if (t > window.maxTsMs) {
        const labels = series[s] as Labels;
        rejections.add(ValidationCode.SampleTooFarInFuture, 1, () => `sample timestamp ${t} is newer than the newest accepted ${window.maxTsMs} (limits.creation_grace_period) for series ${seriesText(labels)} [err-${ValidationCode.SampleTooFarInFuture}]`);
      } else {
        if (w !== i) {
          tsMs[w] = t;
          words[2 * w] = words[2 * i] as number;
          words[2 * w + 1] = words[2 * i + 1] as number;
        }
        w++;
      }
    }
    if (w > begin) {
      starts[kept.length] = begin;
      kept.push(series[s] as Labels);
    }
  }
  starts[kept.length] = w;
  return { series: kept, sampleStart: starts.subarray(0, kept.length + 1), tsMs: tsMs.subarray(0, w), values: values.subarray(0, w) };
}

/**
 * Keeps only the series whose `keep[i]` is 1 (series limits), compacting in place as above.
 * Returns `batch` itself when all are kept.
 */
export function keepSeries(batch: SampleBatch, keep: Uint8Array): SampleBatch {
  if (keep.every((k) => k === 1)) return batch;
  const { series, sampleStart, tsMs, values } = batch;
  const words = wordsOf(values);
  const kept: Labels[] = [];
  const starts = new Uint32Array(series.length + 1);
  let w = 0;
  for (let s = 0; s < series.length; s++) {
    if (keep[s] !== 1) continue;
    const from = sampleStart[s] as number;
    const to = sampleStart[s + 1] as number;
    if (w !== from) {
      tsMs.copyWithin(w, from, to);
      words.copyWithin(2 * w, 2 * from, 2 * to);
    }
    starts[kept.length] = w;
    kept.push(series[s] as Labels);
    w += to - from;
  }
  starts[kept.length] = w;
  return { series: kept, sampleStart: starts.subarray(0, kept.length + 1), tsMs: tsMs.subarray(0, w), values: values.subarray(0, w) };
}
