/**
 * Core data model shared by every process. Pure types and tiny constructors; no I/O.
 *
 * Conventions: timestamps are integer milliseconds since the Unix epoch held in a `number`
 * (exact below 2^53); values are float64 and are moved between typed arrays only by byte copies
 * so that NaN payloads (the staleness marker in particular) survive bit-exact.
 */

/** A tenant id, already validated (see ingest/tenant.ts). */
export type TenantId = string;

/** Integer milliseconds since the Unix epoch. */
export type TimeMs = number;

/**
 * A label set as a flat array `[name0, value0, name1, value1, …]`, sorted by name, names unique,
 * no empty values. One array per series, never one object per label: cheap to build, hash and compare.
 */
export type Labels = readonly string[];

/**
 * A batch of samples for many series, stored column-wise.
 * Samples of series `i` are at indexes `[sampleStart[i], sampleStart[i + 1])` of `tsMs` and `values`.
 * `sampleStart.length === series.length + 1`. Within one series, samples are in the order received.
 */
export interface SampleBatch {
  readonly series: Labels[];
  readonly sampleStart: Uint32Array;
  readonly tsMs: Float64Array;
  /** Bit-exact float64 values; check staleness with `isStaleNaNAt` on the raw words, never with isNaN. */
  readonly values: Float64Array;
}

/**
 * What a select's caller will use of the data, so storage may send less (as Prometheus's
 * storage.SelectHints). Storage may always ignore a hint and send everything.
 */
export interface SelectHints {
  /**
   * Only each series' newest sample in [startMs, endMs] is used: an instant vector selector
   * evaluated at a single time. Storage may return just that sample per series.
   */
  readonly newestOnly?: boolean;
  /**
   * Where the client decodes the samples (a query's lease on pooled buffers, see
   * storage/client/sample-buffers.ts); not sent to storage. Absent: fresh arrays.
   */
  readonly buffers?: SampleBufferLease;
}

/** Hands out buffers for decoded samples that stay valid until the lease's owner releases it. */
export interface SampleBufferLease {
  /** Timestamp and value arrays of at least `samples` elements each. */
  take(samples: number): { readonly ts: Float64Array; readonly values: Float64Array };
  /**
   * Marks a decoder that may still write into taken buffers asynchronously (a Select stream);
   * the buffers are not reused before every such decoder called the returned `done`.
   */
  hold(): () => void;
}

/** Samples of one series over a time range, ascending by time, timestamps unique. */
export interface SeriesSamples {
  readonly labels: Labels;
  readonly tsMs: Float64Array;
  /** Bit-exact values, staleness markers included (the query engine interprets them). */
  readonly values: Float64Array;
}

/** Label matcher kinds, numbered as in Prometheus's remote-read `LabelMatcher.Type`. */
export const MatchType = { EQ: 0, NEQ: 1, RE: 2, NRE: 3 } as const;
export type MatchType = (typeof MatchType)[keyof typeof MatchType];

/** One label matcher: `name op "value"`. Regexes are fully anchored when compiled. */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
}

/** How many samples a write stored and, per stable error code, how many it rejected. */
export interface WriteResult {
  /** Samples stored (including identical re-sends, which are accepted as no-ops). */
  samplesWritten: number;
  rejected: RejectedSamples[];
  /** Exemplars kept (absent = none were sent). */
  exemplarsWritten?: number;
  /** Metadata entries kept or refreshed (absent = none were sent). */
  metadataWritten?: number;
}

/** One exemplar (rare next to samples, so one object each is fine). */
export interface Exemplar {
  /** Sorted labels of the series it belongs to. */
  readonly seriesLabels: Labels;
  /** The exemplar's own labels (e.g. `trace_id`), flat pairs. */
  readonly labels: Labels;
  readonly value: number;
  readonly tsMs: TimeMs;
}

/** Metric metadata as the Prometheus API shows it; `type` in API spelling (`counter`, `gauge`, …). */
export interface MetricMetadata {
  readonly metric: string;
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

/** Exemplars and metadata travelling with a write, and the tenant's bounds on keeping them. */
export interface WriteExtras {
  readonly exemplars: readonly Exemplar[];
  readonly metadata: readonly MetricMetadata[];
  /** Most exemplars kept for the tenant, oldest dropped first; 0 = keep none. */
  readonly maxExemplars: number;
  /** Most metadata entries kept for the tenant; 0 = unlimited. */
  readonly maxMetadata: number;
  /** Most metadata entries kept per metric; 0 = unlimited. */
  readonly maxMetadataPerMetric: number;
}

/** Options of a metadata lookup. */
export interface MetadataQuery {
  /** Only this metric; '' = all. */
  readonly metric: string;
  /** Metrics returned; 0 = unlimited. */
  readonly limit: number;
  /** Entries per metric; 0 = unlimited. */
  readonly limitPerMetric: number;
}

/** Storage-wide figures for /metrics. */
export interface StorageStats {
  readonly series: number;
  readonly chunks: number;
  readonly bytesOnDisk: number;
  readonly walBytes: number;
  readonly tenants: number;
  readonly exemplars: number;
  readonly metadata: number;
}

/** Samples rejected for one reason within a write, with one example message for the user. */
export interface RejectedSamples {
  /** Stable error code from common/errors.ts, e.g. `sample-out-of-order`. */
  code: string;
  count: number;
  /** A human-readable example naming the series, already cut to a sane length. */
  example: string;
}

/** Staleness marker: float64 bits 0x7ff0000000000002 (Prometheus `value.StaleNaN`). */
export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;

/**
 * Whether element `i` of a Float64Array (viewed as little-endian u32 words) is the staleness marker.
 * `words` must be a Uint32Array over the same buffer and byteOffset as the Float64Array.
 */
export function isStaleNaNAt(words: Uint32Array, i: number): boolean {
  return words[2 * i + 1] === STALE_NAN_HI && words[2 * i] === STALE_NAN_LO;
}

/** A Uint32Array view over the same memory as `values`, for bit-level checks. */
export function wordsOf(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** Writes the staleness marker into element `i` of `values` without going through a JS number. */
export function setStaleNaNAt(values: Float64Array, i: number): void {
  const words = wordsOf(values);
  words[2 * i] = STALE_NAN_LO;
  words[2 * i + 1] = STALE_NAN_HI;
}
