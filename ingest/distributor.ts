/**
 * The write path behind the HTTP edge, in the order of limits-and-tenancy.md §3:
 * sample_limit (whole request, 400) → per-series validation → sample time window → exemplars and
 * metadata → rate limit on the valid cost (whole request, 429, nothing written) → active-series
 * and target limits (new series refused) → one storage write with samples, exemplars and metadata.
 * Invalid parts are dropped and counted; the valid rest is written (STYLE 2.5: remote write is partial).
 */
import { systemClock, type Clock } from '../common/clock.js';
import { ErrorKind } from '../common/errors.js';
import { DEFAULT_LIMITS, type TenantLimits } from '../common/limits.js';
import type { Labels, MetricMetadata, RejectedSamples, SampleBatch, TenantId, WriteExtras } from '../common/types.js';
import type { DecodedExemplar } from '../proto/write-request-decoder.js';
import type { StorageClient } from '../storage/client/index.js';
import { ActiveSeriesTracker } from './active-series.js';
import { validateExemplars, validateMetadata } from './extras.js';
import { MAX_RETRY_AFTER_S, RateLimiter, RefusalCode, RequestRefusedError } from './limits.js';
import { KnownSeries, KnownSeriesCache, type TenantKnownSeries } from './series-cache.js';
import { seriesIdentityKey } from './series-key.js';
import { Rejections, filterSampleTimes, keepSeries, validateBatch, type SampleTimeWindow } from './validate.js';

/** What one push achieved. Storage failures are not outcomes: they reject the promise (AppError). */
export interface WriteOutcome {
  /** Samples stored (identical re-sends count as stored). */
  readonly samplesWritten: number;
  /** Rejected samples by stable error code, validation first, then limits, then storage's, each with one example. */
  readonly rejected: RejectedSamples[];
  /** Series that passed validation and limits and were sent to storage. */
  readonly seriesWritten: number;
  readonly exemplarsWritten: number;
  readonly metadataWritten: number;
  /** Dropped exemplars and metadata by code (they do not make the answer a 400). */
  readonly extrasRejected: RejectedSamples[];
}

/** A decoded request plus the parts that are not float samples. */
export interface PushRequest {
  readonly batch: SampleBatch;
  /** Native histogram samples in the request; unsupported, so each is reported as rejected. */
  readonly histogramCount: number;
  readonly exemplars?: readonly DecodedExemplar[];
  readonly metadata?: readonly MetricMetadata[];
  /**
   * From decoding with `seriesLookup(tenant)`: per series its raw-labels key and cache hit. With
   * them, hits skip validation and key building, and newly validated series are cached.
   */
  readonly rawLabels?: readonly (string | undefined)[];
  readonly known?: readonly (KnownSeries | undefined)[];
}

/** Dependencies of the distributor. */
export interface DistributorDeps {
  readonly storage: StorageClient;
  /** The tenant's limits, looked up per request (default DEFAULT_LIMITS for everyone). */
  readonly limits?: (tenant: TenantId) => TenantLimits;
  readonly clock?: Clock;
  /** Bound of the known-series cache per tenant (default DEFAULT_MAX_KNOWN_SERIES_PER_TENANT). */
  readonly maxKnownSeriesPerTenant?: number;
}

/** Code reported for native histogram samples, which storage cannot hold yet. */
export const NATIVE_HISTOGRAMS_UNSUPPORTED = 'native-histograms-unsupported';

const NO_EXEMPLARS: readonly DecodedExemplar[] = [];
const NO_METADATA: readonly MetricMetadata[] = [];

/** The accepted sample time window of a tenant at `nowMs`. */
export function sampleWindow(limits: TenantLimits, nowMs: number): SampleTimeWindow {
  return {
    minTsMs: limits.rejectOldSamples && limits.rejectOldSamplesMaxAgeMs > 0 ? nowMs - limits.rejectOldSamplesMaxAgeMs : -Infinity,
    maxTsMs: limits.creationGracePeriodMs > 0 ? nowMs + limits.creationGracePeriodMs : Infinity,
  };
}

/**
 * Validates, limits and writes requests. Holds the per-tenant rate buckets and active series,
 * so one Distributor serves a process (it is the only state ingest keeps).
 */
export class Distributor {
  private readonly _clock: Clock;
  private readonly _limits: (tenant: TenantId) => TenantLimits;
  /** Token buckets per tenant. */
  readonly rateLimiter: RateLimiter;
  /** Active series and targets per tenant. */
  readonly activeSeries: ActiveSeriesTracker;
  /** Validated series per tenant by raw label bytes. */
  readonly knownSeries: KnownSeriesCache;

  constructor(private readonly _deps: DistributorDeps) {
    this._clock = _deps.clock ?? systemClock;
    this._limits = _deps.limits ?? (() => DEFAULT_LIMITS);
    this.rateLimiter = new RateLimiter(this._clock);
    this.activeSeries = new ActiveSeriesTracker(this._clock);
    this.knownSeries = new KnownSeriesCache(_deps.maxKnownSeriesPerTenant);
  }

  /** The lookup to decode a request of `tenant` with (pass its rawLabels/known to push). */
  seriesLookup(tenant: TenantId): TenantKnownSeries {
    return this.knownSeries.forTenant(tenant, this._limits(tenant));
  }

  /**
   * Validates, limits, writes and summarises; takes ownership of `req.batch`'s arrays (compacted
   * in place). Throws RequestRefusedError for whole-request refusals (nothing written) and the
   * storage AppError when the write fails.
   */
  async push(tenant: TenantId, req: PushRequest, signal?: AbortSignal): Promise<WriteOutcome> {
    const limits = this._limits(tenant);
    const exemplarsIn = req.exemplars ?? NO_EXEMPLARS;
    const metadataIn = req.metadata ?? NO_METADATA;
    const received = req.batch.tsMs.length + exemplarsIn.length + req.histogramCount;
    if (limits.sampleLimit > 0 && received > limits.sampleLimit) {
      throw new RequestRefusedError(
        ErrorKind.TenantLimit,
        RefusalCode.SampleLimit,
        `tenant ${JSON.stringify(tenant)}: request has ${received} samples, exemplars and histograms, limit ${limits.sampleLimit} (limits.sample_limit); nothing was written [err-${RefusalCode.SampleLimit}]`,
        received,
        0,
      );
    }
    const now = this._clock.nowMs();
    const window = sampleWindow(limits, now);
    const rejections = new Rejections();
    const extrasRejections = new Rejections();
    // Exemplars refer to the request's series by index: validate them before the batch is compacted.
    const exemplars = validateExemplars(exemplarsIn, req.batch.series, limits, window, extrasRejections);
    const metadata = validateMetadata(metadataIn, limits, extrasRejections);
    const rawIn = req.rawLabels;
    const cache = rawIn !== undefined ? this.knownSeries.forTenant(tenant, limits) : undefined;
    let knownIn = cache !== undefined && rawIn !== undefined && rawIn.length === req.batch.series.length ? req.known : undefined;
    if (knownIn !== undefined && cache !== undefined) {
      // Hits found under other label limits (a reload between decoding and now) are not trusted.
      for (const hit of knownIn) {
        if (hit !== undefined && hit.epoch !== cache.epoch) {
          knownIn = undefined;
          break;
        }
      }
    }
    const validated = validateBatch(req.batch, rejections, limits, knownIn);
    let batch = validated.batch;
    // One KnownSeries per validated series: the cache hit, or a new entry (cached when its raw
    // label bytes are known). It carries the key, active-series record and storage ref onwards.
    let entries: KnownSeries[] | undefined;
    if (knownIn !== undefined && rawIn !== undefined && cache !== undefined) {
      const { inputIndex } = validated;
      entries = new Array<KnownSeries>(batch.series.length);
      for (let k = 0; k < batch.series.length; k++) {
        const i = inputIndex[k] as number;
        const hit = knownIn[i];
        if (hit !== undefined) {
          entries[k] = hit;
          continue;
        }
        const labels = batch.series[k] as Labels;
        const key = seriesIdentityKey(labels);
        const raw = rawIn[i];
        // A sender's canonical label bytes are the key itself: keep one string for both.
        entries[k] = raw !== undefined ? cache.add(raw, labels, raw === key ? raw : key) : new KnownSeries('', labels, key, cache.epoch);
      }
    }
    const timed = filterSampleTimes(batch, window, rejections);
    if (timed !== batch) entries = undefined; // series dropped: indices moved (rare)
    batch = timed;
    if (req.histogramCount > 0) {
      rejections.add(
        NATIVE_HISTOGRAMS_UNSUPPORTED,
        req.histogramCount,
        () => `native histogram samples are not supported yet and were dropped [err-${NATIVE_HISTOGRAMS_UNSUPPORTED}]`,
      );
    }
    const cost = batch.tsMs.length + exemplars.length + metadata.length;
    const decision = this.rateLimiter.take(tenant, cost, limits.ingestionRate, limits.ingestionBurstSize);
    if (!decision.ok) {
      const retryAfterSeconds = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
      throw new RequestRefusedError(
        ErrorKind.RateLimited,
        RefusalCode.RateLimited,
        `tenant ${JSON.stringify(tenant)}: ingestion rate limit (${limits.ingestionRate}/s, burst ${limits.ingestionBurstSize}) (limits.ingestion_rate, limits.ingestion_burst_size) exceeded while adding ${batch.tsMs.length} samples, ${exemplars.length} exemplars and ${metadata.length} metadata; nothing was written [err-${RefusalCode.RateLimited}]`,
        cost,
        retryAfterSeconds,
      );
    }
    if (batch.series.length > 0) {
      const { sampleStart } = batch;
      const sampleCount = (i: number): number => (sampleStart[i + 1] as number) - (sampleStart[i] as number);
      if (entries !== undefined) {
        const known = entries;
        const keysIn = known.map((e) => e.key);
        const records = known.map((e) => e.active);
        const admitted = this.activeSeries.admit(tenant, batch.series, sampleCount, limits, rejections, undefined, keysIn, records);
        for (let k = 0; k < known.length; k++) if (admitted.keep[k] === 1) (known[k] as KnownSeries).active = records[k] ?? null;
        if (admitted.refused > 0) {
          batch = keepSeries(batch, admitted.keep);
          entries = known.filter((_, k) => admitted.keep[k] === 1);
        }
      } else {
        // Without the cache (rare): the storage client finds refs by key in its own map.
        const admitted = this.activeSeries.admit(tenant, batch.series, sampleCount, limits, rejections);
        if (admitted.refused > 0) batch = keepSeries(batch, admitted.keep);
      }
    }
    let samplesWritten = 0;
    let exemplarsWritten = 0;
    let metadataWritten = 0;
    const hasExtras = exemplars.length > 0 || metadata.length > 0;
    if (batch.series.length > 0 || hasExtras) {
      const extras: WriteExtras | undefined = hasExtras
        ? {
            exemplars,
            metadata,
            maxExemplars: limits.maxExemplarsPerTenant,
            maxMetadata: limits.maxMetadataPerTenant,
            maxMetadataPerMetric: limits.maxMetadataPerMetric,
          }
        : undefined;
      const result = await this._deps.storage.write(tenant, batch, signal, extras, entries);
      samplesWritten = result.samplesWritten;
      exemplarsWritten = result.exemplarsWritten ?? 0;
      metadataWritten = result.metadataWritten ?? 0;
      for (const r of result.rejected) {
        // Storage reports metadata over its bounds alongside sample rejections; keep them apart.
        if (r.code.startsWith('max-metadata')) extrasRejections.add(r.code, r.count, () => r.example);
        else rejections.add(r.code, r.count, () => r.example);
      }
    }
    return {
      samplesWritten,
      rejected: rejections.list(),
      seriesWritten: batch.series.length,
      exemplarsWritten,
      metadataWritten,
      extrasRejected: extrasRejections.list(),
    };
  }

  /** Periodic housekeeping: forgets idle series, targets and full token buckets. */
  sweep(): void {
    this.activeSeries.sweepAll((t) => this._limits(t).activeSeriesIdleTimeoutMs);
    const tracked = new Set(this.activeSeries.tenants());
    this.knownSeries.retain((t) => tracked.has(t));
    this.rateLimiter.sweep((t) => {
      const l = this._limits(t);
      return { ratePerSec: l.ingestionRate, burst: l.ingestionBurstSize };
    });
  }
}
