/**
 * Per-tenant cache of series refs handed out by storage (WriteResponse.series_refs): label key →
 * ref, valid only for the storage instance that issued it. Known series are then written by ref,
 * so their label strings are neither sent nor parsed and hashed again by storage.
 *
 * Correctness rests on storage, not on this cache: a ref is sent with its instance, storage
 * resolves it only within that instance and answers every ref it does not know as unknown
 * (nothing of that series written), and the writer resends those series with labels.
 */
import { seriesKey } from '../../common/labels.js';
import type { Labels, SampleBatch, TenantId } from '../../common/types.js';

/** Default bound of cached refs per tenant. */
export const DEFAULT_MAX_REFS_PER_TENANT = 1_000_000;

class TenantRefs {
  instance = '';
  readonly refs = new Map<string, number>();
}

/** Refs of one batch being written: per series its key and the ref sent (0 = labels sent). */
export interface PlannedRefs {
  readonly keys: string[];
  readonly refs: number[];
  readonly instance: string;
}

/** Bounded label-key → ref maps per tenant. */
export class SeriesRefCache {
  private readonly _tenants = new Map<TenantId, TenantRefs>();
  constructor(private readonly _maxPerTenant: number = DEFAULT_MAX_REFS_PER_TENANT) {}

  /**
   * Looks up every series of `batch`: the ref to send for each (0 = unknown, send labels).
   * `keys` (seriesKey of each series) is used when given and complete, else built here.
   */
  plan(tenant: TenantId, batch: SampleBatch, keys?: readonly string[]): PlannedRefs {
    const t = this._tenants.get(tenant);
    const n = batch.series.length;
    const given = keys !== undefined && keys.length === n ? keys : null;
    const out = new Array<string>(n);
    const refs = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const key = given?.[i] ?? seriesKey(batch.series[i] as Labels);
      out[i] = key;
      refs[i] = t?.refs.get(key) ?? 0;
    }
    return { keys: out, refs, instance: t?.instance ?? '' };
  }

  /**
   * Learns the refs storage returned for `keys` (0 = none) from `instance`; a new instance
   * forgets every ref of the tenant first. `unknown` lists series whose ref storage did not know;
   * `sent` the refs the request carried (entries equal to the answer are already cached).
   */
  learn(tenant: TenantId, keys: readonly string[], instance: string, refs: readonly number[], unknown: readonly number[], sent?: readonly number[]): void {
    let t = this._tenants.get(tenant);
    if (t === undefined) {
      t = new TenantRefs();
      this._tenants.set(tenant, t);
    }
    if (t.instance !== instance) {
      t.refs.clear();
      t.instance = instance;
      sent = undefined;
    }
    for (const i of unknown) t.refs.delete(keys[i] as string);
    if (instance === '') return;
    for (let i = 0; i < keys.length && i < refs.length; i++) {
      const ref = refs[i] as number;
      // Unchanged refs (the common case: the series was sent by this very ref) need no update.
      if (ref === 0 || (sent !== undefined && sent[i] === ref)) continue;
      // Bounded: past the cap start over (refs are only an optimisation; misses resend labels).
      if (t.refs.size >= this._maxPerTenant && !t.refs.has(keys[i] as string)) t.refs.clear();
      t.refs.set(keys[i] as string, ref);
    }
  }

  /** Refs cached for a tenant (tests, metrics). */
  size(tenant: TenantId): number {
    return this._tenants.get(tenant)?.refs.size ?? 0;
  }
}
