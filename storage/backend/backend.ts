import type { Labels, Matcher, SampleBatch, TenantId, TimeMs, WriteResult } from '../../common/types.js';

/** Chunk encodings, numbered as `Chunk.Encoding` in proto/storage/v1/storage.proto. */
export const ChunkEncoding = { RAW: 1, XOR: 2 } as const;
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
   * have samples in [startMs, endMs], sorted by label set, with their chunks overlapping that range.
   */
  select(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs): Promise<SelectedSeries[]>;
  /** Sorted label names of matching series (all series when `matchers` is empty). */
  labelNames(tenant: TenantId, matchers: readonly Matcher[], opts: LookupOptions): Promise<string[]>;
  /** Sorted values of label `name` among matching series (all series when `matchers` is empty). */
  labelValues(tenant: TenantId, name: string, matchers: readonly Matcher[], opts: LookupOptions): Promise<string[]>;
  /** Label sets of matching series, sorted. */
  series(tenant: TenantId, matchers: readonly Matcher[], opts: LookupOptions): Promise<Labels[]>;
  /** Flushes and closes; further calls fail with `unavailable`. */
  close(): Promise<void>;
}
