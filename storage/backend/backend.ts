import { compareStrings, getLabel } from '../../common/labels.js';
import type { CompiledMatcher } from '../../common/matchers.js';
import type {
  Exemplar,
  Labels,
  Matcher,
  MetadataQuery,
  MetricMetadata,
  RejectedSamples,
  SampleBatch,
  SelectHints,
  StorageStats,
  TenantId,
  TimeMs,
  WriteExtras,
  WriteResult,
} from '../../common/types.js';

/** Chunk encodings, numbered as `Chunk.Encoding` in proto/storage/v1/storage.proto. */
export const ChunkEncoding = { RAW: 1, XOR: 2, COMPACT: 3, XOR_RESUME: 4 } as const;
export type ChunkEncoding = (typeof ChunkEncoding)[keyof typeof ChunkEncoding];

/** One encoded chunk of a series. `data` is owned by the caller once returned (copy if reused). */
export interface EncodedChunk {
  readonly minTimeMs: TimeMs;
  readonly maxTimeMs: TimeMs;
  readonly encoding: ChunkEncoding;
  readonly data: Uint8Array;
}

/** A selected series: its labels and its chunks in time order, possibly extending past the range. */
export interface SelectedSeries {
  readonly labels: Labels;
  readonly chunks: EncodedChunk[];
}

/** Time range and optional limit for the metadata lookups (series, label names, label values). */
export interface LookupOptions {
  readonly startMs: TimeMs;
  readonly endMs: TimeMs;
  /** 0 = unlimited. */
  readonly limit: number;
}

/**
 * What a storage backend implements. The storage gRPC service (storage/server) is a thin shell
 * over it; a backend knows nothing of gRPC. Tenants are fully isolated.
 */
export interface Backend {
  /**
   * Appends a batch. Resolves only once every accepted sample is durable (survives kill -9).
   * Samples are judged as Prometheus's TSDB does: same timestamp and identical value bits is a
   * no-op counted as written; same timestamp with another value is rejected
   * (`sample-duplicate-timestamp`); older than the series' newest sample is rejected
   * (`sample-out-of-order`). Rejections are reported in the result, never thrown.
   */
  append(tenant: TenantId, batch: SampleBatch): Promise<WriteResult>;
  /**
   * Series matching all matchers (at least one matcher must not match the empty string) that may
   * have samples in [startMs, endMs], sorted by label set, with their chunks overlapping that range
   * (with `hints.newestOnly`, possibly just a chunk holding each series' newest sample in the range).
   */
  select(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, hints?: SelectHints): Promise<SelectedSeries[]>;
  /** Sorted label names of matching series (all series when `matchers` is empty). */
  labelNames(tenant: TenantId, matchers: readonly Matcher[], opts: LookupOptions): Promise<string[]>;
  /** Sorted values of label `name` among matching series (all series when `matchers` is empty). */
  labelValues(tenant: TenantId, name: string, matchers: readonly Matcher[], opts: LookupOptions): Promise<string[]>;
  /** Label sets of matching series, sorted. */
  series(tenant: TenantId, matchers: readonly Matcher[], opts: LookupOptions): Promise<Labels[]>;
  /**
   * Keeps exemplars and metadata within the tenant's bounds in `extras`. Exemplars are unique per
   * (series, timestamp): a repeat is a no-op counted as written; beyond `maxExemplars` the oldest
   * go first. Metadata entries are unique per (metric, type, help, unit); new ones beyond the
   * bounds are rejected (`max-metadata-per-tenant`, `max-metadata-per-metric`), known ones kept.
   */
  writeExtras(tenant: TenantId, extras: WriteExtras): Promise<ExtrasResult>;
  /** Metadata sorted by metric, then type, help, unit; `limit` counts metrics. */
  metadata(tenant: TenantId, query: MetadataQuery): Promise<MetricMetadata[]>;
  /** Exemplars of series matching any matcher set, in [startMs, endMs], sorted by series labels then time. */
  exemplars(tenant: TenantId, matcherSets: readonly (readonly Matcher[])[], startMs: TimeMs, endMs: TimeMs): Promise<Exemplar[]>;
  /** Storage-wide figures for /metrics. */
  storageStats(): Promise<StorageStats>;
  /**
   * Persists everything written so far in the backend's long-term form (SQLite: a checkpoint of
   * every tenant) and resolves when that is done. Writes go on meanwhile; acknowledged data is
   * durable before and after, so this only moves work forward (admin flush, benchmarks).
   */
  flush(): Promise<void>;
  /** Flushes and closes; further calls fail with `unavailable`. */
  close(): Promise<void>;
}

/**
 * A batch whose series may be given by ref instead of labels: `refs[i]` nonzero stands for the
 * labels of a series this backend instance handed out (then `batch.series[i]` is ignored, may be
 * empty); 0 = use `batch.series[i]`. `refsInstance` names the instance that issued the refs.
 */
export interface RefBatch {
  readonly batch: SampleBatch;
  readonly refs: ArrayLike<number> | null;
  readonly refsInstance: string;
}

/** WriteResult of appendRefs plus the refs of the batch's series. */
export interface RefWriteResult extends WriteResult {
  /** One per series: its ref (0 = none: nothing accepted, or the ref was unknown). */
  readonly refs: Uint32Array;
  /** The instance the refs belong to. */
  readonly refsInstance: string;
  /** Indices of series whose ref was unknown: nothing of them was written or counted. */
  readonly unknownRefSeries: number[];
}

/**
 * Optional Backend extension: appends with series refs, so writers can skip sending (and storage
 * skip parsing and hashing) the labels of known series. Same semantics as Backend.append.
 */
export interface RefBackend {
  appendRefs(tenant: TenantId, req: RefBatch): Promise<RefWriteResult>;
}

/** Whether `b` implements RefBackend. */
export function hasRefs(b: Backend): b is Backend & RefBackend {
  return typeof (b as Partial<RefBackend>).appendRefs === 'function';
}

/**
 * Optional Backend extension: `select` in slices of at most `sliceSeries` series, in the same
 * order, read one slice at a time. The service sends each slice as soon as it is read, so the
 * caller decodes one while storage reads the next (they run on different threads or machines).
 * An unknown tenant yields nothing. Reading continues only as the caller iterates.
 */
export interface SlicedSelectBackend {
  selectSlices(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, hints: SelectHints | undefined, sliceSeries: number): Iterable<SelectedSeries[]>;
}

/** Whether `b` implements SlicedSelectBackend. */
export function hasSlicedSelect(b: Backend): b is Backend & SlicedSelectBackend {
  return typeof (b as Partial<SlicedSelectBackend>).selectSlices === 'function';
}

/** What writeExtras kept and rejected. */
export interface ExtrasResult {
  readonly exemplarsWritten: number;
  readonly metadataWritten: number;
  readonly rejected: RejectedSamples[];
}

/** Codes of rejected metadata (stable; also discard-metric reasons). */
export const MetadataCode = {
  MaxPerTenant: 'max-metadata-per-tenant',
  MaxPerMetric: 'max-metadata-per-metric',
} as const;

/** Sorts metadata by metric, then type, help, unit. */
export function compareMetadata(a: MetricMetadata, b: MetricMetadata): number {
  return compareStrings(a.metric, b.metric) || compareStrings(a.type, b.type) || compareStrings(a.help, b.help) || compareStrings(a.unit, b.unit);
}

/** Applies `limit` (metrics) and `limitPerMetric` to metadata sorted by metric, filtering by `metric`. */
export function limitMetadata(sorted: readonly MetricMetadata[], q: MetadataQuery): MetricMetadata[] {
  const out: MetricMetadata[] = [];
  let metrics = 0;
  let perMetric = 0;
  let current: string | null = null;
  for (const m of sorted) {
    if (q.metric !== '' && m.metric !== q.metric) continue;
    if (m.metric !== current) {
      if (q.limit > 0 && metrics >= q.limit) break;
      current = m.metric;
      metrics++;
      perMetric = 0;
    }
    if (q.limitPerMetric > 0 && perMetric >= q.limitPerMetric) continue;
    perMetric++;
    out.push(m);
  }
  return out;
}

/** Whether `labels` match every matcher of at least one set. */
export function matchesAnySet(labels: Labels, sets: readonly (readonly CompiledMatcher[])[]): boolean {
  for (const set of sets) {
    let ok = true;
    for (const m of set) {
      if (!m.matches(getLabel(labels, m.matcher.name))) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

