/**
 * Per-tenant cache of series that already passed validation, keyed by the raw bytes of their
 * protobuf labels (see RawLabelsLookup in proto/write-request-decoder.ts). A hit hands the decoder
 * the normalised (sorted, empty values dropped) labels and the series' identity key, so a series a sender
 * repeats every scrape is not UTF-8 decoded, validated, sorted and joined again.
 *
 * It never changes behaviour: validation is a pure function of the label bytes and the tenant's
 * label limits, so a series enters only after passing validation, and a tenant's entries are
 * dropped whenever those limits change. State-dependent limits (active series, targets) are
 * still applied per request by the ActiveSeriesTracker.
 */
import type { Labels, TenantId } from '../common/types.js';
import { labelStringHash, type KnownLabels, type RawLabelsLookup } from '../proto/write-request-decoder.js';
import type { SeriesRefSlot } from '../storage/client/index.js';
import type { ActiveRecord } from './active-series.js';
import type { ValidationLimits } from './validate.js';

/**
 * Map keys are the low 30 bits of the hash: small integers (Smis) on 64-bit V8, so a lookup boxes
 * no number; the collision chain already handles the few extra collisions.
 */
const HASH_KEY_MASK = 0x3fffffff;

/** Default bound of cached series per tenant. */
export const DEFAULT_MAX_KNOWN_SERIES_PER_TENANT = 500_000;

/**
 * A validated series: normalised labels and their seriesIdentityKey, plus what later steps learned about
 * it, so a repeated series costs one lookup in all of ingest: its active-series record and its
 * storage ref (it is the SeriesRefSlot the storage client keeps the ref in).
 */
export class KnownSeries implements KnownLabels, SeriesRefSlot {
  /** Its ActiveSeriesTracker record once admitted (checked for `alive` before use). */
  active: ActiveRecord | null = null;
  ref = 0;
  refInstance = '';
  /** Next entry whose raw bytes hash the same (a collision chain; almost always null). */
  nextSameHash: KnownSeries | null = null;
  constructor(
    /** The raw label bytes as a latin1 string (see RawLabelsLookup); '' for entries not cached. */
    readonly raw: string,
    readonly labels: Labels,
    /** seriesIdentityKey(labels): the same string as `raw` when the sender wrote the labels canonically. */
    readonly key: string,
    /** Epoch of the tenant cache it was validated in (a hit from an older epoch is not trusted). */
    readonly epoch: number,
  ) {}
}

/** One tenant's cache, valid for the label limits it was filled under. */
export class TenantKnownSeries implements RawLabelsLookup<KnownSeries> {
  /**
   * labelRunHash of the raw bytes → entry (collisions chained). Keyed by number rather than by the
   * raw string: the hash comes from the decode thread, and a number key is far cheaper to look up
   * than a ~100-byte string (measured 2x per lookup at 20k series).
   */
  private readonly _byHash = new Map<number, KnownSeries>();
  private _size = 0;
  private _names = -1;
  private _nameLen = -1;
  private _valueLen = -1;
  /** Bumped whenever the label limits change. */
  epoch = 0;
  constructor(private readonly _max: number) {}

  /** Drops every entry when `limits` differ from those the entries were validated under. */
  checkLimits(limits: ValidationLimits): void {
    if (limits.maxLabelNamesPerSeries === this._names && limits.maxLabelNameLength === this._nameLen && limits.maxLabelValueLength === this._valueLen) return;
    this._byHash.clear();
    this._size = 0;
    this.epoch++;
    this._names = limits.maxLabelNamesPerSeries;
    this._nameLen = limits.maxLabelNameLength;
    this._valueLen = limits.maxLabelValueLength;
  }

  get(raw: string): KnownSeries | undefined {
    return this.getHashed(labelStringHash(raw), raw);
  }

  getHashed(hash: number, raw: string): KnownSeries | undefined {
    let e: KnownSeries | null = this._byHash.get(hash & HASH_KEY_MASK) ?? null;
    while (e !== null) {
      if (e.raw === raw) return e;
      e = e.nextSameHash;
    }
    return undefined;
  }

  /** Remembers a series that passed validation and returns its entry; past the bound, starts over (a miss only costs time). */
  add(raw: string, labels: Labels, key: string): KnownSeries {
    return this.addHashed(labelStringHash(raw), raw, labels, key);
  }

  /** add() with the hash of `raw` already known (tests use it to make collisions). */
  addHashed(hash: number, raw: string, labels: Labels, key: string): KnownSeries {
    if (this._size >= this._max) {
      this._byHash.clear();
      this._size = 0;
    }
    const entry = new KnownSeries(raw, labels, key, this.epoch);
    const k = hash & HASH_KEY_MASK;
    entry.nextSameHash = this._byHash.get(k) ?? null;
    this._byHash.set(k, entry);
    this._size++;
    return entry;
  }

  /** Entries cached. */
  get size(): number {
    return this._size;
  }
}

/** Known-series caches of every tenant. */
export class KnownSeriesCache {
  private readonly _tenants = new Map<TenantId, TenantKnownSeries>();
  constructor(private readonly _maxPerTenant: number = DEFAULT_MAX_KNOWN_SERIES_PER_TENANT) {}

  /** The tenant's cache, emptied first if its label limits changed. */
  forTenant(tenant: TenantId, limits: ValidationLimits): TenantKnownSeries {
    let t = this._tenants.get(tenant);
    if (t === undefined) {
      t = new TenantKnownSeries(this._maxPerTenant);
      this._tenants.set(tenant, t);
    }
    t.checkLimits(limits);
    return t;
  }

  /** Forgets tenants for which `keep` is false (housekeeping). */
  retain(keep: (tenant: TenantId) => boolean): void {
    for (const tenant of this._tenants.keys()) if (!keep(tenant)) this._tenants.delete(tenant);
  }

  /** Series cached for a tenant (tests). */
  size(tenant: TenantId): number {
    return this._tenants.get(tenant)?.size ?? 0;
  }
}
