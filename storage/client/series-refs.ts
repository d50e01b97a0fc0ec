/**
 * Series refs handed out by storage (WriteResponse.series_refs), valid only for the storage
 * instance that issued them. Known series are then written by ref, so their label strings are
 * neither sent nor parsed and hashed again by storage.
 *
 * A ref lives in a SeriesRefSlot. Callers that keep their own per-series record (ingest's
 * known-series cache) pass it as the slot, so a write costs no lookup here; for other callers the
 * slots are built from a bounded per-tenant map keyed by seriesKey.
 *
 * Correctness rests on storage, not on this cache: a ref is sent with its instance, storage
 * resolves it only within that instance and answers every ref it does not know as unknown
 * (nothing of that series written), and the writer resends those series with labels.
 */
import { seriesKey } from '../../common/labels.js';
import type { Labels, SampleBatch, TenantId } from '../../common/types.js';
import type { SeriesRefSlot } from './storage-client.js';

/** Default bound of map-held refs per tenant. */
export const DEFAULT_MAX_REFS_PER_TENANT = 1_000_000;

class TenantRefs {
  /** Instance of the newest answer: slots of other instances hold stale refs. */
  instance = '';
  readonly refs = new Map<string, number>();
}

/** Refs of one batch being written: per series its slot and the ref sent (0 = labels sent). */
export interface PlannedRefs {
  readonly slots: readonly SeriesRefSlot[];
  /** True: the slots are the caller's; false: built from the map here (learn writes the map back). */
  readonly callerSlots: boolean;
  readonly refs: number[];
  readonly instance: string;
}

/** Ref bookkeeping of every tenant. */
export class SeriesRefCache {
  private readonly _tenants = new Map<TenantId, TenantRefs>();
  constructor(private readonly _maxPerTenant: number = DEFAULT_MAX_REFS_PER_TENANT) {}

  private _tenant(tenant: TenantId): TenantRefs {
    let t = this._tenants.get(tenant);
    if (t === undefined) {
      t = new TenantRefs();
      this._tenants.set(tenant, t);
    }
    return t;
  }

  /**
   * The ref to send for every series of `batch` (0 = unknown, send labels). `slots`, when given
   * with one entry per series, are used as they are; otherwise slots are built from the map.
   */
  plan(tenant: TenantId, batch: SampleBatch, slots?: readonly SeriesRefSlot[]): PlannedRefs {
    const t = this._tenant(tenant);
    const n = batch.series.length;
    const refs = new Array<number>(n);
    if (slots !== undefined && slots.length === n) {
      for (let i = 0; i < n; i++) {
        const s = slots[i] as SeriesRefSlot;
        refs[i] = t.instance !== '' && s.refInstance === t.instance ? s.ref : 0;
      }
      return { slots, callerSlots: true, refs, instance: t.instance };
    }
    const built = new Array<SeriesRefSlot>(n);
    for (let i = 0; i < n; i++) {
      const key = seriesKey(batch.series[i] as Labels);
      const ref = t.refs.get(key) ?? 0;
      built[i] = { key, ref, refInstance: t.instance };
      refs[i] = ref;
    }
    return { slots: built, callerSlots: false, refs, instance: t.instance };
  }

  /**
   * Learns the refs storage returned for the planned series (0 = none) from `instance`; a new
   * instance forgets every map-held ref of the tenant first. `unknown` lists series whose ref
   * storage did not know.
   */
  learn(tenant: TenantId, planned: PlannedRefs, instance: string, refs: readonly number[], unknown: readonly number[]): void {
    const t = this._tenant(tenant);
    if (t.instance !== instance) {
      t.refs.clear();
      t.instance = instance;
    }
    const { slots, callerSlots } = planned;
    for (const i of unknown) {
      const s = slots[i];
      if (s === undefined) continue;
      s.ref = 0;
      if (!callerSlots) t.refs.delete(s.key);
    }
    if (instance === '') return;
    const n = Math.min(slots.length, refs.length);
    for (let i = 0; i < n; i++) {
      const ref = refs[i] as number;
      const s = slots[i] as SeriesRefSlot;
      // Unchanged refs (the common case: the series was sent by this very ref) need no update.
      if (ref === 0 || (s.ref === ref && s.refInstance === instance)) continue;
      s.ref = ref;
      s.refInstance = instance;
      if (callerSlots) continue;
      // Bounded: past the cap start over (refs are only an optimisation; misses resend labels).
      if (t.refs.size >= this._maxPerTenant && !t.refs.has(s.key)) t.refs.clear();
      t.refs.set(s.key, ref);
    }
  }

  /** Refs held in the map for a tenant (tests, metrics). */
  size(tenant: TenantId): number {
    return this._tenants.get(tenant)?.refs.size ?? 0;
  }
}
