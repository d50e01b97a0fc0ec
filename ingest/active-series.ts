/**
 * Active series and targets per tenant, held in ingest memory, for the series limits
 * (limits-and-tenancy.md §2–3, step 5): `max_global_series_per_user`, `max_global_series_per_metric`
 * and `target_limit` (a target = a distinct (job, instance) pair, §6). Like an ingester, only *new*
 * series are refused past a limit; known ones keep working. A series or target not written for
 * `active_series_idle_timeout` is forgotten by a periodic sweep, which bounds memory: a tenant never
 * holds more than its series limit plus what arrived within one idle window.
 */
import type { Clock } from '../common/clock.js';
import { clip } from '../common/errors.js';
import { METRIC_NAME, formatLabels, getLabel } from '../common/labels.js';
import type { TenantLimits } from '../common/limits.js';
import type { Labels, TenantId } from '../common/types.js';
import { metricOfIdentityKey, seriesIdentityKey } from './series-key.js';
import type { Rejections } from './validate.js';

/** Stable codes of series refused by these limits (also discard-metric reasons). */
export const SeriesLimitCode = {
  MaxSeriesPerTenant: 'max-series-per-tenant',
  MaxSeriesPerMetric: 'max-series-per-metric',
  MaxTargets: 'max-targets',
} as const;

const SEP = '\xff';

/** `job\xffinstance` of a series, or null when it has neither label. */
function targetKeyOf(ls: Labels): string | null {
  const job = getLabel(ls, 'job');
  const instance = getLabel(ls, 'instance');
  return job === '' && instance === '' ? null : `${job}${SEP}${instance}`;
}

/**
 * One active series. Callers may keep the record (ingest's known-series cache does) and hand it
 * back to admit(), which then marks the series written without a map lookup; `alive` turns false
 * when a sweep forgets the series, so a kept record is never trusted after that.
 */
export class ActiveRecord {
  alive = true;
  constructor(public lastMs: number) {}
}

class TenantActive {
  /** seriesIdentityKey → its record. */
  readonly series = new Map<string, ActiveRecord>();
  /** metric name → active series of it. */
  readonly perMetric = new Map<string, number>();
  /** `job\xffinstance` → last write time, ms. */
  readonly targets = new Map<string, number>();
  lastSweepMs: number;
  constructor(nowMs: number) {
    this.lastSweepMs = nowMs;
  }
}

/** What admit() decided for a batch. */
export interface AdmitResult {
  /** Per input series: true = may be written. */
  readonly keep: Uint8Array;
  /** Series refused. */
  readonly refused: number;
}

/** Active series and targets of every tenant. */
export class ActiveSeriesTracker {
  private readonly _tenants = new Map<TenantId, TenantActive>();
  constructor(private readonly _clock: Clock) {}

  /**
   * Marks the series of one request as written now and decides which may be written: a known
   * series always; a new one only within the target, per-tenant and per-metric limits. Refused
   * series' samples are counted into `rejections` (`sampleCounts[i]` samples for series i).
   * `labels` must be normalised (sorted, no empty values). When `keysOut` is given, it receives
   * each series' seriesIdentityKey (index i for input series i) so later steps need not rebuild
   * them. `keysIn[i]`, when set, is taken as that key of series i instead of building it.
   * `records`, when given, is read and written per series: a live record on input marks that
   * series written without a lookup; on output it holds the record of every admitted series.
   */
  admit(
    tenant: TenantId,
    labels: readonly Labels[],
    sampleCounts: (i: number) => number,
    limits: TenantLimits,
    rejections: Rejections,
    keysOut?: string[],
    keysIn?: readonly (string | undefined)[],
    records?: (ActiveRecord | null)[],
  ): AdmitResult {
    const now = this._clock.nowMs();
    let t = this._tenants.get(tenant);
    if (t === undefined) {
      t = new TenantActive(now);
      this._tenants.set(tenant, t);
    }
    this._maybeSweep(t, now, limits.activeSeriesIdleTimeoutMs);
    const keep = new Uint8Array(labels.length);
    let refused = 0;
    for (let i = 0; i < labels.length; i++) {
      const ls = labels[i] as Labels;
      const kept = records?.[i];
      if (kept !== undefined && kept !== null && kept.alive && keysOut === undefined && limits.targetLimit <= 0) {
        kept.lastMs = now;
        keep[i] = 1;
        continue;
      }
      const key = keysIn?.[i] ?? seriesIdentityKey(ls);
      if (keysOut !== undefined) keysOut[i] = key;
      // Targets are tracked only under a target limit: skip building their keys otherwise.
      const targetKey = limits.targetLimit > 0 ? targetKeyOf(ls) : null;
      const known = t.series.get(key);
      if (known !== undefined) {
        known.lastMs = now;
        if (records !== undefined) records[i] = known;
        if (targetKey !== null) t.targets.set(targetKey, now);
        keep[i] = 1;
        continue;
      }
      const failure = this._checkNew(t, ls, targetKey, limits, tenant);
      if (failure !== null) {
        rejections.add(failure[0], sampleCounts(i), failure[1]);
        refused++;
        continue;
      }
      const record = new ActiveRecord(now);
      t.series.set(key, record);
      if (records !== undefined) records[i] = record;
      const metric = getLabel(ls, METRIC_NAME);
      t.perMetric.set(metric, (t.perMetric.get(metric) ?? 0) + 1);
      if (targetKey !== null) t.targets.set(targetKey, now);
      keep[i] = 1;
    }
    return { keep, refused };
  }

  private _checkNew(t: TenantActive, ls: Labels, targetKey: string | null, limits: TenantLimits, tenant: TenantId): [string, () => string] | null {
    if (limits.targetLimit > 0 && targetKey !== null && !t.targets.has(targetKey) && t.targets.size >= limits.targetLimit) {
      const n = t.targets.size;
      return [
        SeriesLimitCode.MaxTargets,
        () =>
          `tenant ${JSON.stringify(clip(tenant))} has ${n} active targets (job, instance), limit ${limits.targetLimit} (limits.target_limit); series of new target ${JSON.stringify(clip(targetKey.replace(SEP, '/')))} refused: ${clip(formatLabels(ls))} [err-${SeriesLimitCode.MaxTargets}]`,
      ];
    }
    if (limits.maxSeriesPerTenant > 0 && t.series.size >= limits.maxSeriesPerTenant) {
      const n = t.series.size;
      return [
        SeriesLimitCode.MaxSeriesPerTenant,
        () =>
          `tenant ${JSON.stringify(clip(tenant))} has ${n} active series, limit ${limits.maxSeriesPerTenant} (limits.max_global_series_per_user); new series refused: ${clip(formatLabels(ls))} [err-${SeriesLimitCode.MaxSeriesPerTenant}]`,
      ];
    }
    if (limits.maxSeriesPerMetric > 0) {
      const metric = getLabel(ls, METRIC_NAME);
      const n = t.perMetric.get(metric) ?? 0;
      if (n >= limits.maxSeriesPerMetric) {
        return [
          SeriesLimitCode.MaxSeriesPerMetric,
          () =>
            `tenant ${JSON.stringify(clip(tenant))} has ${n} active series of metric ${JSON.stringify(clip(metric))}, limit ${limits.maxSeriesPerMetric} (limits.max_global_series_per_metric); new series refused: ${clip(formatLabels(ls))} [err-${SeriesLimitCode.MaxSeriesPerMetric}]`,
        ];
      }
    }
    return null;
  }

  /** Sweeps a tenant at most every quarter idle window (bounded work per request on average). */
  private _maybeSweep(t: TenantActive, now: number, idleMs: number): void {
    if (idleMs <= 0 || now - t.lastSweepMs < idleMs / 4) return;
    t.lastSweepMs = now;
    const cutoff = now - idleMs;
    for (const [key, record] of t.series) {
      if (record.lastMs >= cutoff) continue;
      record.alive = false;
      t.series.delete(key);
      const metric = metricOfIdentityKey(key);
      const n = (t.perMetric.get(metric) ?? 1) - 1;
      if (n <= 0) t.perMetric.delete(metric);
      else t.perMetric.set(metric, n);
    }
    for (const [key, last] of t.targets) if (last < cutoff) t.targets.delete(key);
  }

  /** Forces a sweep of every tenant with its idle timeout (tests; periodic housekeeping). */
  sweepAll(idleMsOf: (tenant: TenantId) => number): void {
    const now = this._clock.nowMs();
    for (const [tenant, t] of this._tenants) {
      t.lastSweepMs = -Infinity;
      this._maybeSweep(t, now, idleMsOf(tenant));
      if (t.series.size === 0 && t.targets.size === 0) this._tenants.delete(tenant);
    }
  }

  /** Active series of a tenant (0 when unknown). */
  activeSeries(tenant: TenantId): number {
    return this._tenants.get(tenant)?.series.size ?? 0;
  }

  /** Active targets of a tenant (tracked only while a target limit is set). */
  activeTargets(tenant: TenantId): number {
    return this._tenants.get(tenant)?.targets.size ?? 0;
  }

  /** Tenants tracked. */
  tenants(): TenantId[] {
    return [...this._tenants.keys()];
  }
}
