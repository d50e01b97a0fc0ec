/**
 * The write path behind the HTTP edge: validate → storage.write → one WriteOutcome that combines
 * validation rejections with storage's per-sample rejections (STYLE 2.5: remote write is partial).
 */
import type { RejectedSamples, SampleBatch, TenantId } from '../common/types.js';
import type { StorageClient } from '../storage/client/index.js';
import { NO_VALIDATION_LIMITS, Rejections, validateBatch, type ValidationLimits } from './validate.js';

/** What one push achieved. Storage failures are not outcomes: they reject the promise (AppError). */
export interface WriteOutcome {
  /** Samples stored (identical re-sends count as stored). */
  readonly samplesWritten: number;
  /** Rejected samples by stable error code, validation first, then storage's, each with one example. */
  readonly rejected: RejectedSamples[];
  /** Series that passed validation and were sent to storage. */
  readonly seriesWritten: number;
}

/** A decoded request plus the counts of parts we do not store. */
export interface PushRequest {
  readonly batch: SampleBatch;
  /** Native histogram samples in the request; unsupported, so each is reported as rejected. */
  readonly histogramCount: number;
}

/** Dependencies of the distributor. */
export interface DistributorDeps {
  readonly storage: StorageClient;
  /** Label limits for a tenant, looked up per request (defaults to no limits). */
  readonly limitsFor?: (tenant: TenantId) => ValidationLimits;
}

/** Code reported for native histogram samples, which storage cannot hold yet. */
export const NATIVE_HISTOGRAMS_UNSUPPORTED = 'native-histograms-unsupported';

/**
 * Validates and writes one request for one tenant. Invalid series are dropped and counted, the rest
 * go to storage in a single write call (skipped when nothing valid remains). Rejects only with the
 * AppError of a failed storage write, in which case nothing can be assumed stored.
 */
export class Distributor {
  constructor(private readonly _deps: DistributorDeps) {}

  /** Validates, writes and summarises; takes ownership of `req.batch`'s arrays (compacted in place). */
  async push(tenant: TenantId, req: PushRequest, signal?: AbortSignal): Promise<WriteOutcome> {
    const rejections = new Rejections();
    const limits = this._deps.limitsFor?.(tenant) ?? NO_VALIDATION_LIMITS;
    const { batch } = validateBatch(req.batch, rejections, limits);
    if (req.histogramCount > 0) {
      rejections.add(
        NATIVE_HISTOGRAMS_UNSUPPORTED,
        req.histogramCount,
        () => `native histogram samples are not supported yet and were dropped [err-${NATIVE_HISTOGRAMS_UNSUPPORTED}]`,
      );
    }
    let samplesWritten = 0;
    if (batch.series.length > 0) {
      const result = await this._deps.storage.write(tenant, batch, signal);
      samplesWritten = result.samplesWritten;
      rejections.addAll(result.rejected);
    }
    return { samplesWritten, rejected: rejections.list(), seriesWritten: batch.series.length };
  }
}
