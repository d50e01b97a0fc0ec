/**
 * Validation of the exemplars and metric metadata of a remote-write request. Invalid ones are
 * dropped and counted by code; unlike sample problems they do not turn the answer into a 400,
 * as Prometheus's own receiver only logs exemplar errors (a sender's batch of good samples must
 * not be dropped because of a trace id).
 */
import { clip } from '../common/errors.js';
import { formatLabels, sortLabels } from '../common/labels.js';
import type { TenantLimits } from '../common/limits.js';
import type { Exemplar, Labels, MetricMetadata } from '../common/types.js';
import type { DecodedExemplar } from '../proto/write-request-decoder.js';
import { Rejections, checkSeries, dropEmptyValues, type SampleTimeWindow } from './validate.js';

/** Stable codes of dropped exemplars and metadata (discard-metric reasons). */
export const ExtrasCode = {
  ExemplarsDisabled: 'exemplars-disabled',
  ExemplarSeriesInvalid: 'exemplar-series-invalid',
  ExemplarLabelsTooLong: 'exemplar-labels-too-long',
  ExemplarTooOld: 'exemplar-too-old',
  ExemplarTooFarInFuture: 'exemplar-too-far-in-future',
  MetadataMissingName: 'metadata-missing-metric-name',
  MetadataNameTooLong: 'metadata-metric-name-too-long',
  MetadataUnitTooLong: 'metadata-unit-too-long',
} as const;

/** Prometheus's limit on an exemplar's label set: names + values, in UTF-8 characters. */
export const EXEMPLAR_MAX_LABEL_SET_CHARS = 128;

function charCount(labels: Labels): number {
  let n = 0;
  for (const s of labels) for (const _ of s) n++;
  return n;
}

/**
 * Valid exemplars with their series labels normalised (sorted, empty values dropped). An exemplar
 * is dropped when exemplars are disabled for the tenant, its series is invalid, its own labels
 * exceed 128 characters, or its timestamp is outside `window`.
 */
export function validateExemplars(
  decoded: readonly DecodedExemplar[],
  series: readonly Labels[],
  limits: TenantLimits,
  window: SampleTimeWindow,
  rejections: Rejections,
): Exemplar[] {
  const out: Exemplar[] = [];
  if (decoded.length === 0) return out;
  if (limits.maxExemplarsPerTenant <= 0) {
    rejections.add(ExtrasCode.ExemplarsDisabled, decoded.length, () => `exemplars are disabled for this tenant (limits.max_global_exemplars_per_user = 0) [err-${ExtrasCode.ExemplarsDisabled}]`);
    return out;
  }
  const normalised = new Map<number, Labels | null>();
  const known = new Set<string>();
  for (const e of decoded) {
    let labels = normalised.get(e.seriesIndex);
    if (labels === undefined) {
      const l = sortLabels(dropEmptyValues(series[e.seriesIndex] ?? []));
      labels = checkSeries(l, limits, known) === null ? l : null;
      normalised.set(e.seriesIndex, labels);
    }
    if (labels === null) {
      rejections.add(ExtrasCode.ExemplarSeriesInvalid, 1, () => `exemplar dropped: its series is invalid [err-${ExtrasCode.ExemplarSeriesInvalid}]`);
      continue;
    }
    const own = e.labels;
    if (charCount(own) > EXEMPLAR_MAX_LABEL_SET_CHARS) {
      rejections.add(
        ExtrasCode.ExemplarLabelsTooLong,
        1,
        () => `exemplar labels have ${charCount(own)} characters, limit ${EXEMPLAR_MAX_LABEL_SET_CHARS}: ${clip(formatLabels(own))} [err-${ExtrasCode.ExemplarLabelsTooLong}]`,
      );
      continue;
    }
    if (e.tsMs < window.minTsMs) {
      rejections.add(ExtrasCode.ExemplarTooOld, 1, () => `exemplar timestamp ${e.tsMs} is too old (limits.reject_old_samples_max_age) [err-${ExtrasCode.ExemplarTooOld}]`);
      continue;
    }
    if (e.tsMs > window.maxTsMs) {
      rejections.add(ExtrasCode.ExemplarTooFarInFuture, 1, () => `exemplar timestamp ${e.tsMs} is too far in the future (limits.creation_grace_period) [err-${ExtrasCode.ExemplarTooFarInFuture}]`);
      continue;
    }
    out.push({ seriesLabels: labels, labels: sortLabels(dropEmptyValues(own)), value: e.value, tsMs: e.tsMs });
  }
  return out;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Cuts `s` to at most `maxBytes` UTF-8 bytes without splitting a character. */
function truncateUtf8(s: string, maxBytes: number): string {
  if (utf8Length(s) <= maxBytes) return s;
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    const n = utf8Length(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    out += ch;
  }
  return out;
}

/**
 * Valid metadata: entries without a metric name, or whose name or unit exceed
 * `max_metadata_length` bytes, are dropped; a longer HELP is truncated, as Mimir does.
 */
export function validateMetadata(metadata: readonly MetricMetadata[], limits: TenantLimits, rejections: Rejections): MetricMetadata[] {
  const out: MetricMetadata[] = [];
  const max = limits.maxMetadataLength;
  for (const m of metadata) {
    if (m.metric === '') {
      rejections.add(ExtrasCode.MetadataMissingName, 1, () => `metadata without metric name dropped [err-${ExtrasCode.MetadataMissingName}]`);
      continue;
    }
    if (max > 0 && utf8Length(m.metric) > max) {
      rejections.add(
        ExtrasCode.MetadataNameTooLong,
        1,
        () => `metadata metric name is ${utf8Length(m.metric)} bytes, limit ${max} (limits.max_metadata_length): ${JSON.stringify(clip(m.metric))} [err-${ExtrasCode.MetadataNameTooLong}]`,
      );
      continue;
    }
    if (max > 0 && utf8Length(m.unit) > max) {
      rejections.add(ExtrasCode.MetadataUnitTooLong, 1, () => `metadata unit of ${JSON.stringify(clip(m.metric))} is ${utf8Length(m.unit)} bytes, limit ${max} (limits.max_metadata_length) [err-${ExtrasCode.MetadataUnitTooLong}]`);
      continue;
    }
    out.push(max > 0 && utf8Length(m.help) > max ? { ...m, help: truncateUtf8(m.help, max) } : m);
  }
  return out;
}
