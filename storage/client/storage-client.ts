import type {
  Exemplar,
  Labels,
  Matcher,
  MetadataQuery,
  MetricMetadata,
  SampleBatch,
  SelectHints,
  SeriesSamples,
  StorageStats,
  TenantId,
  TimeMs,
  WriteExtras,
  WriteResult,
} from '../../common/types.js';

/** Options of the metadata lookups. */
export interface ClientLookupOptions {
  readonly startMs: TimeMs;
  readonly endMs: TimeMs;
  /** 0 = unlimited. */
  readonly limit: number;
  readonly signal?: AbortSignal;
}

/**
 * A caller-held record of one series for writes: the storage ref last learned for it (`ref` 0 =
 * none; valid only for storage instance `refInstance`). The client reads and updates it instead
 * of looking the series up in its own ref map, so a caller that already found the series
 * (ingest's known-series cache) pays no second lookup.
 */
export interface SeriesRefSlot {
  /** Key of the series in the client's own ref map; read only for slots the client built (seriesKey). */
  readonly key: string;
  ref: number;
  refInstance: string;
}

/**
 * What ingest and query need from storage. Every method rejects only with an AppError
 * (transport failures become `unavailable`, deadlines `timeout`).
 */
export interface StorageClient {
  /**
   * Appends a batch (and, in the same call, exemplars and metadata with the tenant's bounds);
   * resolves once accepted samples are durable. Per-sample rejections are in the result.
   * `slots`, when given, holds one SeriesRefSlot per series of the batch; the client then keeps
   * that series' ref in the slot.
   */
  write(tenant: TenantId, batch: SampleBatch, signal?: AbortSignal, extras?: WriteExtras, slots?: readonly SeriesRefSlot[]): Promise<WriteResult>;
  /**
   * Samples of every series matching all matchers within [startMs, endMs] (inclusive), decoded,
   * trimmed to the range, sorted by label set. Series with no sample in the range are omitted.
   */
  select(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal, hints?: SelectHints): Promise<SeriesSamples[]>;
  labelNames(tenant: TenantId, matchers: readonly Matcher[], opts: ClientLookupOptions): Promise<string[]>;
  labelValues(tenant: TenantId, name: string, matchers: readonly Matcher[], opts: ClientLookupOptions): Promise<string[]>;
  series(tenant: TenantId, matchers: readonly Matcher[], opts: ClientLookupOptions): Promise<Labels[]>;
  /** Metadata sorted by metric (see Backend.metadata). */
  metadata(tenant: TenantId, query: MetadataQuery, signal?: AbortSignal): Promise<MetricMetadata[]>;
  /** Exemplars of series matching any matcher set within [startMs, endMs], sorted by series then time. */
  exemplars(tenant: TenantId, matcherSets: readonly (readonly Matcher[])[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal): Promise<Exemplar[]>;
  /** Storage-wide figures for /metrics. */
  stats(signal?: AbortSignal): Promise<StorageStats>;
  /** Asks storage to persist everything written so far in its long-term form (see Backend.flush). */
  flush(signal?: AbortSignal): Promise<void>;
  /** Whether storage answers (for /-/ready). */
  ready(): Promise<boolean>;
  close(): void;
}
