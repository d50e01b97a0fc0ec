import type { Matcher, SeriesSamples, TenantId, TimeMs } from '../common/types.js';
import type { StorageClient } from '../storage/client/index.js';

/**
 * All the PromQL engine ever sees of storage: one tenant's (or, later, several tenants') series.
 * `select` returns the samples of every series matching all matchers within [startMs, endMs]
 * inclusive, sorted by label set; values bit-exact (staleness markers included).
 */
export interface Queryable {
  select(matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal): Promise<SeriesSamples[]>;
}

/** A Queryable over the storage client, bound to one tenant. */
export function queryableForTenant(client: StorageClient, tenant: TenantId): Queryable {
  return {
    select: (matchers, startMs, endMs, signal) => client.select(tenant, matchers, startMs, endMs, signal),
  };
}
