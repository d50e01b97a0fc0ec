import type {
  Exemplar,
  Labels,
  Matcher,
  MetadataQuery,
  MetricMetadata,
  SampleBatch,
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
 * What ingest and query need from storage. Every method rejects only with an AppError
 * (transport failures become `unavailable`, deadlines `timeout`).
 */
export interface StorageClient {
  /**
   * Appends a batch (and, in the same call, exemplars and metadata with the tenant's bounds);
   * resolves once accepted samples are durable. Per-sample rejections are in the result.
   * `seriesKeys`, when given, holds seriesKey(batch.series[i]) for every series (a caller that
   * already built them saves the client doing it again).
   */
  write(tenant: TenantId, batch: SampleBatch, signal?: AbortSignal, extras?: WriteExtras, seriesKeys?: readonly string[]): Promise<WriteResult>;
  /**
   * Samples of every series matching all matchers within [startMs, endMs] (inclusive), decoded,
   * trimmed to the range, sorted by label set. Series with no sample in the range are omitted.
   */
  select(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal): Promise<SeriesSamples[]>;
  labelNames(tenant: TenantId, matchers: readonly Matcher[], opts: ClientLookupOptions): Promise<string[]>;
  labelValues(tenant: TenantId, name: string, matchers: readonly Matcher[], opts: ClientLookupOptions): Promise<string[]>;
  series(tenant: TenantId, matchers: readonly Matcher[], opts: ClientLookupOptions): Promise<Labels[]>;
  /** Metadata sorted by metric (see Backend.metadata). */
  metadata(tenant: TenantId, query: MetadataQuery, signal?: AbortSignal): Promise<MetricMetadata[]>;
  /** Exemplars of series matching any matcher set within [startMs, endMs], sorted by series then time. */
  exemplars(tenant: TenantId, matcherSets: readonly (readonly Matcher[])[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal): Promise<Exemplar[]>;
  /** Storage-wide figures for /metrics. */
  stats(signal?: AbortSignal): Promise<StorageStats>;
  /** Whether storage answers (for /-/ready). */
  ready(): Promise<boolean>;
  close(): void;
}
