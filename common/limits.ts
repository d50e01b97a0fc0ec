/**
 * Per-tenant limits (limits-and-tenancy.md §2, STYLE 2.6): one typed TenantLimits with defaults,
 * per-tenant overrides in Mimir's runtime-config shape (`overrides: {<tenant>: {<snake_case key>: v}}`),
 * and Overrides.forTenant(), which returns a frozen, merged, cached TenantLimits. Limits are looked
 * up per request, never captured at startup; a reload swaps the whole Overrides object.
 *
 * YAML keys follow Mimir where Mimir has the limit (`max_label_names_per_series`,
 * `max_global_series_per_user`, …); Prometheus's scrape-limit spellings from the issue
 * (`label_limit`, `label_name_length_limit`, `label_value_length_limit`) are accepted as aliases.
 */
import { parse as parseYaml } from 'yaml';
import { formatDurationMs, parseDurationMs } from './duration.js';
import type { TenantId } from './types.js';

/** Every per-tenant limit. Counts are plain numbers, durations ms; 0 = unlimited unless said otherwise. */
export interface TenantLimits {
  /** Samples + exemplars + metadata per second accepted for the tenant (token bucket refill rate). 0 = unlimited. */
  readonly ingestionRate: number;
  /** Token bucket size: the most samples one burst (or one request) may use. */
  readonly ingestionBurstSize: number;
  /** Samples + exemplars + histograms in one write request; over it the whole request is 400. */
  readonly sampleLimit: number;
  /** Labels per series, `__name__` included. */
  readonly maxLabelNamesPerSeries: number;
  /** Bytes (UTF-8) per label name. */
  readonly maxLabelNameLength: number;
  /** Bytes (UTF-8) per label value, metric name included. */
  readonly maxLabelValueLength: number;
  /** Distinct (job, instance) pairs active within `activeSeriesIdleTimeoutMs`; series of new targets beyond it are 400. */
  readonly targetLimit: number;
  /** Active series per tenant (Mimir max_global_series_per_user). */
  readonly maxSeriesPerTenant: number;
  /** Active series per metric name (Mimir max_global_series_per_metric). */
  readonly maxSeriesPerMetric: number;
  /** A series or target not written for this long stops counting as active, ms. */
  readonly activeSeriesIdleTimeoutMs: number;
  /** Whether samples older than now − rejectOldSamplesMaxAgeMs are rejected. */
  readonly rejectOldSamples: boolean;
  /** Age beyond which samples are rejected when rejectOldSamples is on, ms. */
  readonly rejectOldSamplesMaxAgeMs: number;
  /** Samples newer than now + this are rejected, ms (Mimir creation_grace_period). 0 = no check. */
  readonly creationGracePeriodMs: number;
  /** Exemplars kept per tenant (oldest dropped first); 0 = exemplars disabled, as in Mimir. */
  readonly maxExemplarsPerTenant: number;
  /** Metadata entries (metric, type, help, unit) kept per tenant. */
  readonly maxMetadataPerTenant: number;
  /** Metadata entries kept per metric name. */
  readonly maxMetadataPerMetric: number;
  /** Bytes of a metadata metric name or unit (entry dropped) and of HELP (truncated, as Mimir). */
  readonly maxMetadataLength: number;
  /** Series one query may load from storage; over it 422 execution. */
  readonly maxFetchedSeriesPerQuery: number;
  /** Samples one query may load from storage; over it 422 execution (the engine's global --query.max-samples applies too). */
  readonly maxFetchedSamplesPerQuery: number;
  /** Longest end − start of a range query, ms; over it 400 bad_data. */
  readonly maxQueryLengthMs: number;
  /** Query timeout for the tenant, ms; 0 = the global --query.timeout. */
  readonly queryTimeoutMs: number;
}

/** Defaults (Mimir's where Mimir has the limit; see README "Limits"). */
export const DEFAULT_LIMITS: TenantLimits = Object.freeze({
  ingestionRate: 10_000,
  ingestionBurstSize: 200_000,
  sampleLimit: 100_000,
  maxLabelNamesPerSeries: 30,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
  targetLimit: 0,
  maxSeriesPerTenant: 150_000,
  maxSeriesPerMetric: 0,
  activeSeriesIdleTimeoutMs: 20 * 60_000,
  rejectOldSamples: false,
  rejectOldSamplesMaxAgeMs: 14 * 24 * 3600_000,
  creationGracePeriodMs: 10 * 60_000,
  maxExemplarsPerTenant: 100_000,
  maxMetadataPerTenant: 10_000,
  maxMetadataPerMetric: 10,
  maxMetadataLength: 1024,
  maxFetchedSeriesPerQuery: 200_000,
  maxFetchedSamplesPerQuery: 0,
  maxQueryLengthMs: 0,
  queryTimeoutMs: 0,
});

type LimitKind = 'count' | 'rate' | 'duration' | 'bool';

/** One limit: its field, YAML key (plus accepted aliases), kind and one-line meaning. */
export interface LimitSpec {
  readonly field: keyof TenantLimits;
  readonly key: string;
  readonly aliases: readonly string[];
  readonly kind: LimitKind;
  readonly help: string;
}

/** Every limit, in README order. The YAML key is what messages name (`(limit max_…)`). */
export const LIMIT_SPECS: readonly LimitSpec[] = [
  { field: 'ingestionRate', key: 'ingestion_rate', aliases: [], kind: 'rate', help: 'samples/s per tenant (token bucket); 429 over it' },
  { field: 'ingestionBurstSize', key: 'ingestion_burst_size', aliases: [], kind: 'count', help: 'token bucket size' },
  { field: 'sampleLimit', key: 'sample_limit', aliases: ['max_samples_per_request'], kind: 'count', help: 'samples+exemplars+histograms per request; whole request 400' },
  { field: 'maxLabelNamesPerSeries', key: 'max_label_names_per_series', aliases: ['label_limit'], kind: 'count', help: 'labels per series' },
  { field: 'maxLabelNameLength', key: 'max_label_name_length', aliases: ['label_name_length_limit'], kind: 'count', help: 'bytes per label name' },
  { field: 'maxLabelValueLength', key: 'max_label_value_length', aliases: ['label_value_length_limit'], kind: 'count', help: 'bytes per label value' },
  { field: 'targetLimit', key: 'target_limit', aliases: [], kind: 'count', help: 'active (job, instance) pairs' },
  { field: 'maxSeriesPerTenant', key: 'max_global_series_per_user', aliases: ['max_series_per_tenant'], kind: 'count', help: 'active series per tenant' },
  { field: 'maxSeriesPerMetric', key: 'max_global_series_per_metric', aliases: ['max_series_per_metric'], kind: 'count', help: 'active series per metric name' },
  { field: 'activeSeriesIdleTimeoutMs', key: 'active_series_idle_timeout', aliases: [], kind: 'duration', help: 'idle time after which a series/target stops being active' },
  { field: 'rejectOldSamples', key: 'reject_old_samples', aliases: [], kind: 'bool', help: 'reject samples older than reject_old_samples_max_age' },
  { field: 'rejectOldSamplesMaxAgeMs', key: 'reject_old_samples_max_age', aliases: [], kind: 'duration', help: 'oldest accepted sample age' },
  { field: 'creationGracePeriodMs', key: 'creation_grace_period', aliases: [], kind: 'duration', help: 'how far in the future samples may be' },
  { field: 'maxExemplarsPerTenant', key: 'max_global_exemplars_per_user', aliases: ['max_exemplars_per_tenant'], kind: 'count', help: 'exemplars kept per tenant; 0 disables exemplars' },
  { field: 'maxMetadataPerTenant', key: 'max_global_metadata_per_user', aliases: ['max_metadata_per_tenant'], kind: 'count', help: 'metadata entries per tenant' },
  { field: 'maxMetadataPerMetric', key: 'max_global_metadata_per_metric', aliases: ['max_metadata_per_metric'], kind: 'count', help: 'metadata entries per metric' },
  { field: 'maxMetadataLength', key: 'max_metadata_length', aliases: [], kind: 'count', help: 'bytes of metadata name/unit (dropped) and help (truncated)' },
  { field: 'maxFetchedSeriesPerQuery', key: 'max_fetched_series_per_query', aliases: [], kind: 'count', help: 'series one query may load' },
  { field: 'maxFetchedSamplesPerQuery', key: 'max_fetched_samples_per_query', aliases: [], kind: 'count', help: 'samples one query may load' },
  { field: 'maxQueryLengthMs', key: 'max_query_length', aliases: [], kind: 'duration', help: 'longest range query (end - start)' },
  { field: 'queryTimeoutMs', key: 'query_timeout', aliases: [], kind: 'duration', help: 'query timeout; 0 = global --query.timeout' },
];

const SPEC_BY_FIELD = new Map<string, LimitSpec>(LIMIT_SPECS.map((s) => [s.field, s]));
const SPEC_BY_KEY = new Map<string, LimitSpec>();
for (const s of LIMIT_SPECS) for (const k of [s.key, ...s.aliases]) SPEC_BY_KEY.set(k, s);

/** The YAML key of a limit field, for messages: `limitKey('maxLabelNamesPerSeries')` = `max_label_names_per_series`. */
export function limitKey(field: keyof TenantLimits): string {
  return SPEC_BY_FIELD.get(field)?.key ?? field;
}

/** Renders a limit value for messages and docs (durations as `10m`). */
export function formatLimit(field: keyof TenantLimits, value: number | boolean): string {
  const spec = SPEC_BY_FIELD.get(field);
  if (spec?.kind === 'duration' && typeof value === 'number') return formatDurationMs(value);
  return String(value);
}

/** A runtime-config or limits problem; the loader collects all of them. */
export class LimitsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid limits:\n  ${problems.join('\n  ')}`);
    this.name = 'LimitsError';
  }
}

function parseLimitValue(spec: LimitSpec, raw: unknown, where: string, problems: string[]): number | boolean | undefined {
  switch (spec.kind) {
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      problems.push(`${where}: expected true or false, got ${JSON.stringify(raw)}`);
      return undefined;
    case 'duration': {
      if (raw === 0 || raw === '0') return 0;
      const ms = typeof raw === 'string' ? parseDurationMs(raw.trim()) : null;
      if (ms === null) problems.push(`${where}: expected a duration like 10m or 14d, got ${JSON.stringify(raw)}`);
      return ms ?? undefined;
    }
    case 'count':
    case 'rate': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      const ok = spec.kind === 'rate' ? Number.isFinite(n) && n >= 0 : Number.isSafeInteger(n) && n >= 0;
      if (!ok) problems.push(`${where}: expected a non-negative ${spec.kind === 'rate' ? 'number' : 'integer'}, got ${JSON.stringify(raw)}`);
      return ok ? n : undefined;
    }
  }
}

/**
 * Parses one YAML limits block (`{max_label_names_per_series: 40, …}`) into a partial TenantLimits.
 * Unknown keys and bad values are pushed to `problems` (prefixed with `where`).
 */
export function parseLimitsBlock(block: unknown, where: string, problems: string[]): Partial<TenantLimits> {
  const out: Record<string, number | boolean> = {};
  if (block === null || block === undefined) return out;
  if (typeof block !== 'object' || Array.isArray(block)) {
    problems.push(`${where}: expected a mapping of limit names to values`);
    return out;
  }
  for (const [key, raw] of Object.entries(block as Record<string, unknown>)) {
    const spec = SPEC_BY_KEY.get(key);
    if (spec === undefined) {
      problems.push(`${where}.${key}: unknown limit (known: ${LIMIT_SPECS.map((s) => s.key).join(', ')})`);
      continue;
    }
    const v = parseLimitValue(spec, raw, `${where}.${key}`, problems);
    if (v !== undefined) out[spec.field] = v;
  }
  return out as Partial<TenantLimits>;
}

/** Checks cross-field rules of a merged TenantLimits (Mimir: burst ≥ rate). */
export function checkLimits(limits: TenantLimits, where: string, problems: string[]): void {
  if (limits.ingestionRate > 0 && limits.ingestionBurstSize < limits.ingestionRate) {
    problems.push(`${where}: ingestion_burst_size (${limits.ingestionBurstSize}) must be at least ingestion_rate (${limits.ingestionRate})`);
  }
}

/**
 * Defaults plus per-tenant overrides. Immutable: a reload builds a new Overrides and swaps it.
 * `forTenant` merges and freezes once per tenant and caches the result.
 */
export class Overrides {
  private readonly _cache = new Map<TenantId, TenantLimits>();

  constructor(
    readonly defaults: TenantLimits = DEFAULT_LIMITS,
    private readonly _overrides: Readonly<Record<TenantId, Partial<TenantLimits>>> = {},
  ) {}

  /** The effective limits of `tenant` (frozen; the same object on every call for this Overrides). */
  forTenant(tenant: TenantId): TenantLimits {
    const cached = this._cache.get(tenant);
    if (cached !== undefined) return cached;
    const over = Object.prototype.hasOwnProperty.call(this._overrides, tenant) ? this._overrides[tenant] : undefined;
    const merged = over === undefined ? this.defaults : Object.freeze({ ...this.defaults, ...over });
    this._cache.set(tenant, merged);
    return merged;
  }

  /** Tenants with an override, sorted. */
  tenants(): TenantId[] {
    return Object.keys(this._overrides).sort();
  }
}

/**
 * Parses a runtime-config file (Mimir's shape: `overrides: {<tenant>: {<limit>: value}}`) into an
 * Overrides over `defaults`. Throws LimitsError listing every problem.
 */
export function parseRuntimeConfig(text: string, defaults: TenantLimits = DEFAULT_LIMITS): Overrides {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new LimitsError([`not valid YAML: ${(err as Error).message}`]);
  }
  const overrides: Record<TenantId, Partial<TenantLimits>> = {};
  if (doc !== null && doc !== undefined) {
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new LimitsError(['expected a mapping with an `overrides` key']);
    for (const key of Object.keys(doc as object)) {
      if (key !== 'overrides') problems.push(`${key}: unknown key (only \`overrides\` is read)`);
    }
    const raw = (doc as Record<string, unknown>)['overrides'];
    if (raw !== null && raw !== undefined) {
      if (typeof raw !== 'object' || Array.isArray(raw)) problems.push('overrides: expected a mapping of tenant ids to limits');
      else {
        for (const [tenant, block] of Object.entries(raw as Record<string, unknown>)) {
          const part = parseLimitsBlock(block, `overrides.${tenant}`, problems);
          overrides[tenant] = Object.freeze(part);
          checkLimits({ ...defaults, ...part }, `overrides.${tenant}`, problems);
        }
      }
    }
  }
  if (problems.length > 0) throw new LimitsError(problems);
  return new Overrides(defaults, Object.freeze(overrides));
}
