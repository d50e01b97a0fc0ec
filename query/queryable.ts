import { AppError, ErrorKind } from '../common/errors.js';
import { compareLabels, getLabel } from '../common/labels.js';
import { compileMatcher, type CompiledMatcher } from '../common/matchers.js';
import { MatchType, type Labels, type Matcher, type SelectHints, type SeriesSamples, type TenantId, type TimeMs } from '../common/types.js';
import type { StorageClient } from '../storage/client/index.js';

/**
 * All the PromQL engine ever sees of storage: one tenant's (or several federated tenants') series.
 * `select` returns the samples of every series matching all matchers within [startMs, endMs]
 * inclusive, sorted by label set; values bit-exact (staleness markers included).
 */
export interface Queryable {
  select(matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal, hints?: SelectHints): Promise<SeriesSamples[]>;
}

/** A Queryable over the storage client, bound to one tenant. */
export function queryableForTenant(client: StorageClient, tenant: TenantId): Queryable {
  return {
    select: (matchers, startMs, endMs, signal, hints) => client.select(tenant, matchers, startMs, endMs, signal, hints),
  };
}

/** Label added to results of federated (`a|b`) reads, as Cortex tenant federation does. */
export const TENANT_ID_LABEL = '__tenant_id__';
/** An original `__tenant_id__` label of a series is kept under this name (Cortex: `original_` prefix). */
export const ORIGINAL_TENANT_ID_LABEL = `original_${TENANT_ID_LABEL}`;

/** Selects every series: what remains of a selector whose only non-empty matchers were on `__tenant_id__`. */
const MATCH_ALL: Matcher = { type: MatchType.RE, name: '__name__', value: '.+' };

/** A matcher set split for federation: which tenants it selects, and the matchers storage sees. */
export interface TenantSelection {
  /** The tenants (of those asked) whose id satisfies every `__tenant_id__` matcher. */
  readonly tenants: TenantId[];
  /** The other matchers; never all-matching-empty (MATCH_ALL is added then). */
  readonly matchers: Matcher[];
}

/**
 * Splits a matcher set for a federated read: matchers on `__tenant_id__` pick tenants, the rest
 * go to storage. Keeps storage's rule that a selector needs one non-empty matcher by adding
 * `__name__=~".+"` when only tenant matchers were non-empty.
 */
export function selectTenants(tenants: readonly TenantId[], matchers: readonly Matcher[]): TenantSelection {
  const tenantMatchers: CompiledMatcher[] = [];
  const rest: Matcher[] = [];
  for (const m of matchers) {
    if (m.name === TENANT_ID_LABEL) tenantMatchers.push(compileMatcher(m));
    else rest.push(m);
  }
  const picked = tenantMatchers.length === 0 ? [...tenants] : tenants.filter((t) => tenantMatchers.every((m) => m.matches(t)));
  if (rest.length === 0 || rest.map(compileMatcher).every((m) => m.matchesEmpty)) rest.push(MATCH_ALL);
  return { tenants: picked, matchers: rest };
}

/**
 * `labels` plus `__tenant_id__="<tenant>"`, sorted. An existing `__tenant_id__` label is kept as
 * `original___tenant_id__` so no information is lost (Cortex behaviour).
 */
export function withTenantLabel(labels: Labels, tenant: TenantId): Labels {
  const pairs: [string, string][] = [];
  for (let i = 0; i < labels.length; i += 2) {
    const name = labels[i] as string;
    pairs.push([name === TENANT_ID_LABEL ? ORIGINAL_TENANT_ID_LABEL : name, labels[i + 1] as string]);
  }
  pairs.push([TENANT_ID_LABEL, tenant]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: string[] = [];
  for (const [n, v] of pairs) out.push(n, v);
  return out;
}

/**
 * A Queryable over several tenants (X-Scope-OrgID `a|b`): each tenant is selected separately,
 * every result series gets `__tenant_id__`, and the union is sorted by label set. With a single
 * tenant it is exactly queryableForTenant (no label added), as in Cortex.
 */
export function federatedQueryable(client: StorageClient, tenants: readonly TenantId[]): Queryable {
  if (tenants.length === 1) return queryableForTenant(client, tenants[0] as TenantId);
  return {
    async select(matchers, startMs, endMs, signal, hints) {
      const sel = selectTenants(tenants, matchers);
      const parts = await Promise.all(sel.tenants.map((t) => client.select(t, sel.matchers, startMs, endMs, signal, hints)));
      const out: SeriesSamples[] = [];
      parts.forEach((list, i) => {
        const tenant = sel.tenants[i] as TenantId;
        for (const s of list) out.push({ labels: withTenantLabel(s.labels, tenant), tsMs: s.tsMs, values: s.values });
      });
      return out.sort((a, b) => compareLabels(a.labels, b.labels));
    },
  };
}

/** Per-query budgets enforced by LimitedQueryable; 0 = unlimited. */
export interface QueryBudget {
  /** Series loaded from storage (limits.max_fetched_series_per_query). */
  readonly maxSeries: number;
  /** Samples loaded from storage (limits.max_fetched_samples_per_query). */
  readonly maxSamples: number;
}

/**
 * Wraps a Queryable, counting the series and samples one query loads and failing the query with
 * 422 `execution` (`query-too-many-series` / `query-too-many-samples`) once a budget is exceeded.
 * One instance per query; `seriesLoaded` / `samplesLoaded` feed the slow-query log and metrics.
 */
export class LimitedQueryable implements Queryable {
  seriesLoaded = 0;
  samplesLoaded = 0;

  constructor(
    private readonly _inner: Queryable,
    private readonly _budget: QueryBudget,
    private readonly _tenantText: string,
  ) {}

  async select(matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal, hints?: SelectHints): Promise<SeriesSamples[]> {
    const result = await this._inner.select(matchers, startMs, endMs, signal, hints);
    this.seriesLoaded += result.length;
    for (const s of result) this.samplesLoaded += s.tsMs.length;
    const { maxSeries, maxSamples } = this._budget;
    if (maxSeries > 0 && this.seriesLoaded > maxSeries) {
      throw new AppError(
        ErrorKind.Execution,
        'query-too-many-series',
        `the query loaded ${this.seriesLoaded} series, limit ${maxSeries} for tenant ${this._tenantText} (limits.max_fetched_series_per_query) [err-query-too-many-series]`,
      );
    }
    if (maxSamples > 0 && this.samplesLoaded > maxSamples) {
      throw new AppError(
        ErrorKind.Execution,
        'query-too-many-samples',
        `the query loaded ${this.samplesLoaded} samples, limit ${maxSamples} for tenant ${this._tenantText} (limits.max_fetched_samples_per_query) [err-query-too-many-samples]`,
      );
    }
    return result;
  }
}

/** Whether a series' labels carry the given tenant (for tests and filters). */
export function tenantOf(labels: Labels): string {
  return getLabel(labels, TENANT_ID_LABEL);
}
