/**
 * A StorageClient that calls a Backend in the same process: the gRPC client's contract without the
 * transport. For route and engine tests over MemoryBackend; production wiring uses the gRPC client.
 */
import { AppError, ErrorKind, toAppError } from '../../common/errors.js';
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
import type { Backend } from '../backend/backend.js';
import { decodeSelectedSeries } from './decode.js';
import type { ClientLookupOptions, StorageClient } from './storage-client.js';

/** Tenant used by ready(): a cheap lookup that touches no real tenant's data. */
const READY_TENANT = '__ready__';

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AppError(ErrorKind.Canceled, 'storage-canceled', 'storage: request canceled');
}

/** Runs `fn`, turning anything it throws into an AppError. */
async function call<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    checkSignal(signal);
    return await fn();
  } catch (err) {
    throw toAppError(err);
  }
}

/**
 * Returns a StorageClient over `backend`. The caller keeps owning the backend: `close()` does not
 * close it. Rejections are always AppErrors; an aborted signal rejects with kind `canceled`.
 */
export function createLocalStorageClient(backend: Backend): StorageClient {
  return {
    write(tenant: TenantId, batch: SampleBatch, signal?: AbortSignal, extras?: WriteExtras): Promise<WriteResult> {
      return call(signal, async () => {
        const result = batch.series.length > 0 ? await backend.append(tenant, batch) : { samplesWritten: 0, rejected: [] };
        if (extras === undefined || (extras.exemplars.length === 0 && extras.metadata.length === 0)) return result;
        const more = await backend.writeExtras(tenant, extras);
        return {
          samplesWritten: result.samplesWritten,
          rejected: [...result.rejected, ...more.rejected],
          exemplarsWritten: more.exemplarsWritten,
          metadataWritten: more.metadataWritten,
        };
      });
    },
    metadata(tenant: TenantId, query: MetadataQuery, signal?: AbortSignal): Promise<MetricMetadata[]> {
      return call(signal, () => backend.metadata(tenant, query));
    },
    exemplars(tenant: TenantId, matcherSets: readonly (readonly Matcher[])[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal): Promise<Exemplar[]> {
      return call(signal, () => backend.exemplars(tenant, matcherSets, startMs, endMs));
    },
    stats(signal?: AbortSignal): Promise<StorageStats> {
      return call(signal, () => backend.storageStats());
    },
    flush(signal?: AbortSignal): Promise<void> {
      return call(signal, () => backend.flush());
    },
    select(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal, hints?: SelectHints): Promise<SeriesSamples[]> {
      return call(signal, async () => decodeSelectedSeries(await backend.select(tenant, matchers, startMs, endMs, hints), startMs, endMs, hints?.buffers));
    },
    labelNames(tenant: TenantId, matchers: readonly Matcher[], opts: ClientLookupOptions): Promise<string[]> {
      return call(opts.signal, () => backend.labelNames(tenant, matchers, opts));
    },
    labelValues(tenant: TenantId, name: string, matchers: readonly Matcher[], opts: ClientLookupOptions): Promise<string[]> {
      return call(opts.signal, () => backend.labelValues(tenant, name, matchers, opts));
    },
    series(tenant: TenantId, matchers: readonly Matcher[], opts: ClientLookupOptions): Promise<Labels[]> {
      return call(opts.signal, () => backend.series(tenant, matchers, opts));
    },
    async ready(): Promise<boolean> {
      try {
        await backend.labelNames(READY_TENANT, [], { startMs: 0, endMs: 0, limit: 1 });
        return true;
      } catch {
        return false;
      }
    },
    close(): void {
      // The backend belongs to the caller.
    },
  };
}
