/**
 * Lookups over one tenant or several federated ones (X-Scope-OrgID `a|b`, Cortex tenant
 * federation): series, label names, label values, metadata and exemplars. With one tenant every
 * function is a plain storage call; with several, each tenant is asked separately (matchers on
 * `__tenant_id__` choose the tenants), series gain `__tenant_id__`, and results are merged sorted.
 */
import { DEFAULT_LIMITS, type TenantLimits } from '../../common/limits.js';
import { compareLabels, compareStrings, seriesKey } from '../../common/labels.js';
import type { Exemplar, Labels, Matcher, MetadataQuery, MetricMetadata, TenantId, TimeMs } from '../../common/types.js';
import type { StorageClient } from '../../storage/client/index.js';
import { TENANT_ID_LABEL, selectTenants, withTenantLabel } from '../queryable.js';

/** Options of a lookup (as StorageClient's). */
type LookupOptions = Parameters<StorageClient['series']>[2];

/**
 * The limits that apply to a federated request: per field the strictest non-zero value over the
 * tenants (0 only when every tenant is unlimited); booleans from the first tenant. One tenant:
 * its own limits.
 */
export function combinedLimits(tenants: readonly TenantId[], forTenant: (t: TenantId) => TenantLimits): TenantLimits {
  if (tenants.length === 1) return forTenant(tenants[0] as TenantId);
  const all = tenants.map(forTenant);
  const out: Record<string, number | boolean> = { ...(all[0] ?? DEFAULT_LIMITS) };
  for (const key of Object.keys(out)) {
    if (typeof out[key] !== 'number') continue;
    let best = 0;
    for (const l of all) {
      const v = (l as unknown as Record<string, number>)[key] as number;
      if (v > 0 && (best === 0 || v < best)) best = v;
    }
    out[key] = best;
  }
  return out as unknown as TenantLimits;
}

/** Union of label sets, deduplicated, sorted. */
function unionLabels(lists: readonly Labels[][]): Labels[] {
  if (lists.length === 1) return lists[0] as Labels[];
  const seen = new Map<string, Labels>();
  for (const list of lists) for (const l of list) seen.set(seriesKey(l), l);
  return [...seen.values()].sort(compareLabels);
}

/** Union of strings, deduplicated, sorted. */
function unionStrings(lists: readonly string[][]): string[] {
  if (lists.length === 1) return lists[0] as string[];
  return [...new Set(lists.flat())].sort(compareStrings);
}

/** Series matching any of `sets` (each set ANDed), over the tenants. */
export async function federatedSeries(storage: StorageClient, tenants: readonly TenantId[], sets: readonly Matcher[][], opts: LookupOptions): Promise<Labels[]> {
  if (tenants.length === 1) return unionLabels(await Promise.all(sets.map((set) => storage.series(tenants[0] as TenantId, set, opts))));
  const lists: Labels[][] = [];
  await Promise.all(
    sets.map(async (set) => {
      const sel = selectTenants(tenants, set);
      await Promise.all(
        sel.tenants.map(async (t) => {
          const list = await storage.series(t, sel.matchers, opts);
          lists.push(list.map((l) => withTenantLabel(l, t)));
        }),
      );
    }),
  );
  return lists.length === 0 ? [] : unionLabels(lists.length === 1 ? [...lists, []] : lists);
}

/** Label names of series matching any set (all series when `sets` is empty). */
export async function federatedLabelNames(storage: StorageClient, tenants: readonly TenantId[], sets: readonly Matcher[][], opts: LookupOptions): Promise<string[]> {
  const effective = sets.length === 0 ? [[]] : sets;
  if (tenants.length === 1) return unionStrings(await Promise.all(effective.map((set) => storage.labelNames(tenants[0] as TenantId, set, opts))));
  const lists: string[][] = [];
  await Promise.all(
    effective.map(async (set) => {
      const sel = set.length === 0 ? { tenants: [...tenants], matchers: [] as Matcher[] } : selectTenants(tenants, set);
      await Promise.all(
        sel.tenants.map(async (t) => {
          const names = await storage.labelNames(t, sel.matchers, opts);
          if (names.length > 0) lists.push([...names, TENANT_ID_LABEL]);
        }),
      );
    }),
  );
  return lists.length === 0 ? [] : unionStrings([...lists, []]);
}

/** Values of label `name` among series matching any set (all series when `sets` is empty). */
export async function federatedLabelValues(
  storage: StorageClient,
  tenants: readonly TenantId[],
  name: string,
  sets: readonly Matcher[][],
  opts: LookupOptions,
): Promise<string[]> {
  const effective = sets.length === 0 ? [[]] : sets;
  if (tenants.length === 1) return unionStrings(await Promise.all(effective.map((set) => storage.labelValues(tenants[0] as TenantId, name, set, opts))));
  const lists: string[][] = [];
  await Promise.all(
    effective.map(async (set) => {
      const sel = set.length === 0 ? { tenants: [...tenants], matchers: [] as Matcher[] } : selectTenants(tenants, set);
      await Promise.all(
        sel.tenants.map(async (t) => {
          if (name === TENANT_ID_LABEL) {
            // A tenant is a value when it has any matching series.
            const names = await storage.labelNames(t, sel.matchers, { ...opts, limit: 1 });
            if (names.length > 0) lists.push([t]);
          } else {
            lists.push(await storage.labelValues(t, name, sel.matchers, opts));
          }
        }),
      );
    }),
  );
  return lists.length === 0 ? [] : unionStrings([...lists, []]);
}

/** Metadata of the tenants, deduplicated, sorted by metric, limits re-applied after the merge. */
export async function federatedMetadata(storage: StorageClient, tenants: readonly TenantId[], q: MetadataQuery, signal?: AbortSignal): Promise<MetricMetadata[]> {
  if (tenants.length === 1) return storage.metadata(tenants[0] as TenantId, q, signal);
  const lists = await Promise.all(tenants.map((t) => storage.metadata(t, { ...q, limit: 0 }, signal)));
  const seen = new Map<string, MetricMetadata>();
  for (const list of lists) for (const m of list) seen.set(`${m.metric}\xff${m.type}\xff${m.help}\xff${m.unit}`, m);
  const all = [...seen.values()].sort(
    (a, b) => compareStrings(a.metric, b.metric) || compareStrings(a.type, b.type) || compareStrings(a.help, b.help) || compareStrings(a.unit, b.unit),
  );
  const out: MetricMetadata[] = [];
  let metrics = 0;
  let perMetric = 0;
  let current: string | null = null;
  for (const m of all) {
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

/** Exemplars of series matching any set, over the tenants, sorted by series labels then time. */
export async function federatedExemplars(
  storage: StorageClient,
  tenants: readonly TenantId[],
  sets: readonly Matcher[][],
  startMs: TimeMs,
  endMs: TimeMs,
  signal?: AbortSignal,
): Promise<Exemplar[]> {
  if (sets.length === 0) return [];
  if (tenants.length === 1) return storage.exemplars(tenants[0] as TenantId, sets, startMs, endMs, signal);
  const out: Exemplar[] = [];
  await Promise.all(
    tenants.map(async (t) => {
      const tenantSets: Matcher[][] = [];
      for (const set of sets) {
        const sel = selectTenants([t], set);
        if (sel.tenants.length > 0) tenantSets.push(sel.matchers);
      }
      if (tenantSets.length === 0) return;
      for (const e of await storage.exemplars(t, tenantSets, startMs, endMs, signal)) out.push({ ...e, seriesLabels: withTenantLabel(e.seriesLabels, t) });
    }),
  );
  return out.sort((a, b) => compareLabels(a.seriesLabels, b.seriesLabels) || a.tsMs - b.tsMs);
}
