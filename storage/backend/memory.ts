/**
 * In-memory Backend for unit, route and PromQL data-driven tests. Simple over fast: matching is a
 * scan over every series of the tenant. Appends are "durable" as soon as they return.
 */
import { AppError, ErrorKind, badData, clip } from '../../common/errors.js';
import { compareLabels, compareStrings, formatLabels, getLabel, seriesKey } from '../../common/labels.js';
import { compileMatcher, type CompiledMatcher } from '../../common/matchers.js';
import type {
  Exemplar,
  Labels,
  Matcher,
  MetadataQuery,
  MetricMetadata,
  SampleBatch,
  StorageStats,
  TenantId,
  TimeMs,
  WriteExtras,
  WriteResult,
} from '../../common/types.js';
import { encodeRawChunk } from '../chunk/raw.js';
import { ChunkEncoding, MetadataCode, compareMetadata, limitMetadata, matchesAnySet, type Backend, type ExtrasResult, type LookupOptions, type SelectedSeries } from './backend.js';

/** Samples of one series; `tsMs`/`values` are grown geometrically, the first `n` elements are live. */
class MemSeries {
  tsMs = new Float64Array(16);
  values = new Float64Array(16);
  /** Uint32 view over `values`, kept in step with it, for bit-exact comparisons. */
  words = new Uint32Array(this.values.buffer);
  n = 0;
  constructor(readonly labels: Labels) {}

  push(t: number, src: Float64Array, srcIdx: number): void {
    if (this.n === this.tsMs.length) {
      const ts = new Float64Array(this.n * 2);
      ts.set(this.tsMs);
      const vs = new Float64Array(this.n * 2);
      // Copy through u32 words so NaN payloads survive.
      new Uint32Array(vs.buffer).set(this.words);
      this.tsMs = ts;
      this.values = vs;
      this.words = new Uint32Array(vs.buffer);
    }
    this.tsMs[this.n] = t;
    const sw = new Uint32Array(src.buffer, src.byteOffset + srcIdx * 8, 2);
    this.words[2 * this.n] = sw[0] as number;
    this.words[2 * this.n + 1] = sw[1] as number;
    this.n++;
  }

  /** Index of the first sample with t ≥ tMs. */
  lowerBound(tMs: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.tsMs[mid] as number) < tMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether the series has at least one sample in [startMs, endMs]. */
  overlaps(startMs: number, endMs: number): boolean {
    const i = this.lowerBound(startMs);
    return i < this.n && (this.tsMs[i] as number) <= endMs;
  }
}

/** Per-code reject counter for one append call. */
interface RejectTally {
  count: number;
  example: string;
}

const CODE_OUT_OF_ORDER = 'sample-out-of-order';
const CODE_DUPLICATE = 'sample-duplicate-timestamp';

/** An in-memory Backend with Prometheus TSDB sample rules (no out-of-order window). */
export class MemoryBackend implements Backend {
  private readonly _tenants = new Map<TenantId, Map<string, MemSeries>>();
  private readonly _extras = new MemoryExtras();
  private _closed = false;

  /** See Backend.writeExtras. */
  async writeExtras(tenant: TenantId, extras: WriteExtras): Promise<ExtrasResult> {
    this._checkOpen();
    return this._extras.write(tenant, extras);
  }

  /** See Backend.metadata. */
  async metadata(tenant: TenantId, query: MetadataQuery): Promise<MetricMetadata[]> {
    this._checkOpen();
    return this._extras.metadata(tenant, query);
  }

  /** See Backend.exemplars. */
  async exemplars(tenant: TenantId, matcherSets: readonly (readonly Matcher[])[], startMs: TimeMs, endMs: TimeMs): Promise<Exemplar[]> {
    this._checkOpen();
    return this._extras.exemplars(tenant, matcherSets, startMs, endMs);
  }

  /** Nothing to persist: memory is this backend's only form. */
  async flush(): Promise<void> {
    this._checkOpen();
  }

  /** Series, exemplar and metadata counts; no chunks or bytes on disk in memory. */
  async storageStats(): Promise<StorageStats> {
    let series = 0;
    for (const t of this._tenants.values()) series += t.size;
    const e = this._extras.counts();
    return { series, chunks: 0, bytesOnDisk: 0, walBytes: 0, tenants: this._tenants.size, exemplars: e.exemplars, metadata: e.metadata };
  }

  /** Appends a batch; see Backend.append for the sample rules. Resolves immediately. */
  async append(tenant: TenantId, batch: SampleBatch): Promise<WriteResult> {
    this._checkOpen();
    let tenantSeries = this._tenants.get(tenant);
    if (tenantSeries === undefined) {
      tenantSeries = new Map();
      this._tenants.set(tenant, tenantSeries);
    }
    const inWords = new Uint32Array(batch.values.buffer, batch.values.byteOffset, batch.values.length * 2);
    const rejects = new Map<string, RejectTally>();
    let written = 0;
    for (let s = 0; s < batch.series.length; s++) {
      const labels = batch.series[s] as Labels;
      const start = batch.sampleStart[s] as number;
      const end = batch.sampleStart[s + 1] as number;
      if (end <= start) continue;
      const key = seriesKey(labels);
      let ser = tenantSeries.get(key);
      if (ser === undefined) {
        ser = new MemSeries(labels);
        tenantSeries.set(key, ser);
      }
      for (let i = start; i < end; i++) {
        const t = batch.tsMs[i] as number;
        const last = ser.n === 0 ? -Infinity : (ser.tsMs[ser.n - 1] as number);
        if (t > last) {
          ser.push(t, batch.values, i);
          written++;
        } else if (t === last) {
          const j = ser.n - 1;
          if (ser.words[2 * j] === inWords[2 * i] && ser.words[2 * j + 1] === inWords[2 * i + 1]) {
            written++; // identical re-send: a no-op, so retries are safe
          } else {
            tally(rejects, CODE_DUPLICATE, () => `new value for timestamp ${t} of series ${clip(formatLabels(labels))} [err-${CODE_DUPLICATE}]`);
          }
        } else {
          tally(
            rejects,
            CODE_OUT_OF_ORDER,
            () => `sample timestamp ${t} is older than the newest sample ${last} of series ${clip(formatLabels(labels))} [err-${CODE_OUT_OF_ORDER}]`,
          );
        }
      }
      // A series created by this call that got no sample is not kept.
      if (ser.n === 0) tenantSeries.delete(key);
    }
    const rejected = [...rejects].map(([code, r]) => ({ code, count: r.count, example: r.example }));
    rejected.sort((a, b) => compareStrings(a.code, b.code));
    return { samplesWritten: written, rejected };
  }

  /** Matching series with one RAW chunk each, trimmed to [startMs, endMs], sorted by labels. */
  async select(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs): Promise<SelectedSeries[]> {
    this._checkOpen();
    const compiled = matchers.map(compileMatcher);
    if (compiled.every((m) => m.matchesEmpty)) {
      throw badData('selector-matches-empty', 'vector selector must contain at least one non-empty matcher [err-selector-matches-empty]');
    }
    const out: SelectedSeries[] = [];
    for (const ser of this._matching(tenant, compiled, startMs, endMs)) {
      const from = ser.lowerBound(startMs);
      const to = ser.lowerBound(endMs + 1);
      // endMs + 1 is the first excluded time for integer ms; guard non-integers anyway.
      let hi = to;
      while (hi > from && (ser.tsMs[hi - 1] as number) > endMs) hi--;
      out.push({
        labels: ser.labels,
        chunks: [
          {
            minTimeMs: ser.tsMs[from] as number,
            maxTimeMs: ser.tsMs[hi - 1] as number,
            encoding: ChunkEncoding.RAW,
            data: encodeRawChunk(ser.tsMs, ser.values, from, hi),
          },
        ],
      });
    }
    return out;
  }

  /** Sorted label names of matching series with samples in the range. */
  async labelNames(tenant: TenantId, matchers: readonly Matcher[], opts: LookupOptions): Promise<string[]> {
    this._checkOpen();
    const names = new Set<string>();
    for (const ser of this._matching(tenant, matchers.map(compileMatcher), opts.startMs, opts.endMs)) {
      for (let i = 0; i < ser.labels.length; i += 2) names.add(ser.labels[i] as string);
    }
    return limited([...names].sort(compareStrings), opts.limit);
  }

  /** Sorted, non-empty values of label `name` among matching series with samples in the range. */
  async labelValues(tenant: TenantId, name: string, matchers: readonly Matcher[], opts: LookupOptions): Promise<string[]> {
    this._checkOpen();
    const values = new Set<string>();
    for (const ser of this._matching(tenant, matchers.map(compileMatcher), opts.startMs, opts.endMs)) {
      const v = getLabel(ser.labels, name);
      if (v !== '') values.add(v);
    }
    return limited([...values].sort(compareStrings), opts.limit);
  }

  /** Sorted label sets of matching series with samples in the range. */
  async series(tenant: TenantId, matchers: readonly Matcher[], opts: LookupOptions): Promise<Labels[]> {
    this._checkOpen();
    const out: Labels[] = [];
    for (const ser of this._matching(tenant, matchers.map(compileMatcher), opts.startMs, opts.endMs)) out.push(ser.labels);
    return limited(out, opts.limit);
  }

  /** Marks the backend closed; later calls reject with `unavailable`. */
  async close(): Promise<void> {
    this._closed = true;
  }

  /** Series of `tenant` matching every matcher with a sample in [startMs, endMs], sorted by labels. */
  private _matching(tenant: TenantId, matchers: readonly CompiledMatcher[], startMs: number, endMs: number): MemSeries[] {
    const all = this._tenants.get(tenant);
    if (all === undefined) return [];
    const out: MemSeries[] = [];
    for (const ser of all.values()) {
      if (!ser.overlaps(startMs, endMs)) continue;
      let ok = true;
      for (const m of matchers) {
        if (!m.matches(getLabel(ser.labels, m.matcher.name))) {
          ok = false;
          break;
        }
      }
      if (ok) out.push(ser);
    }
    return out.sort((a, b) => compareLabels(a.labels, b.labels));
  }

  private _checkOpen(): void {
    if (this._closed) throw new AppError(ErrorKind.Unavailable, 'storage-closed', 'storage backend is closed');
  }
}

function tally(rejects: Map<string, RejectTally>, code: string, example: () => string): void {
  const r = rejects.get(code);
  if (r === undefined) rejects.set(code, { count: 1, example: example() });
  else r.count++;
}

/** The first `limit` elements (all when limit is 0). */
function limited<T>(items: T[], limit: number): T[] {
  return limit > 0 && items.length > limit ? items.slice(0, limit) : items;
}

/** Metadata identity within a metric: type, help and unit joined by a separator labels cannot hold. */
function metadataKey(m: MetricMetadata): string {
  return `${m.type}\xff${m.help}\xff${m.unit}`;
}

interface TenantExtras {
  /** Ring buffer of exemplars in arrival order; `head` is the oldest, `size` live entries. */
  ring: (Exemplar | undefined)[];
  head: number;
  size: number;
  /** `seriesKey\xfftsMs` of live exemplars, for de-duplication. */
  keys: Set<string>;
  /** metric → metadataKey → entry. */
  metadata: Map<string, Map<string, MetricMetadata>>;
  metadataCount: number;
}

function exemplarKey(e: Exemplar): string {
  return `${seriesKey(e.seriesLabels)}\xff${e.tsMs}`;
}

/**
 * Exemplars (a bounded ring buffer per tenant, oldest dropped first, as Prometheus's circular
 * exemplar storage) and metadata (bounded sets per tenant and metric) held in memory.
 */
export class MemoryExtras {
  private readonly _tenants = new Map<TenantId, TenantExtras>();

  private _tenant(tenant: TenantId): TenantExtras {
    let t = this._tenants.get(tenant);
    if (t === undefined) {
      t = { ring: [], head: 0, size: 0, keys: new Set(), metadata: new Map(), metadataCount: 0 };
      this._tenants.set(tenant, t);
    }
    return t;
  }

  /** Keeps exemplars and metadata; see Backend.writeExtras. */
  write(tenant: TenantId, extras: WriteExtras): ExtrasResult {
    const t = this._tenant(tenant);
    const rejected = new Map<string, { count: number; example: string }>();
    let exemplarsWritten = 0;
    if (extras.maxExemplars !== t.ring.length) this._resize(t, extras.maxExemplars);
    const cap = t.ring.length;
    for (const e of extras.exemplars) {
      if (cap === 0) break;
      const key = exemplarKey(e);
      exemplarsWritten++;
      if (t.keys.has(key)) continue; // a re-send: no-op, as for samples
      if (t.size === cap) {
        const old = t.ring[t.head] as Exemplar;
        t.keys.delete(exemplarKey(old));
        t.ring[t.head] = e;
        t.head = (t.head + 1) % cap;
      } else {
        t.ring[(t.head + t.size) % cap] = e;
        t.size++;
      }
      t.keys.add(key);
    }
    let metadataWritten = 0;
    for (const m of extras.metadata) {
      let perMetric = t.metadata.get(m.metric);
      const key = metadataKey(m);
      if (perMetric?.has(key) === true) {
        metadataWritten++;
        continue;
      }
      if (extras.maxMetadata > 0 && t.metadataCount >= extras.maxMetadata) {
        tallyReject(rejected, MetadataCode.MaxPerTenant, () => `metadata of ${clip(m.metric)} dropped: tenant has ${t.metadataCount} metadata entries, limit ${extras.maxMetadata} (limit max_global_metadata_per_user) [err-${MetadataCode.MaxPerTenant}]`);
        continue;
      }
      if (extras.maxMetadataPerMetric > 0 && (perMetric?.size ?? 0) >= extras.maxMetadataPerMetric) {
        tallyReject(rejected, MetadataCode.MaxPerMetric, () => `metadata of ${clip(m.metric)} dropped: metric has ${perMetric?.size ?? 0} metadata entries, limit ${extras.maxMetadataPerMetric} (limit max_global_metadata_per_metric) [err-${MetadataCode.MaxPerMetric}]`);
        continue;
      }
      if (perMetric === undefined) {
        perMetric = new Map();
        t.metadata.set(m.metric, perMetric);
      }
      perMetric.set(key, { metric: m.metric, type: m.type, help: m.help, unit: m.unit });
      t.metadataCount++;
      metadataWritten++;
    }
    return { exemplarsWritten, metadataWritten, rejected: [...rejected].map(([code, r]) => ({ code, count: r.count, example: r.example })) };
  }

  /** Re-homes the ring into `cap` slots keeping the newest entries. */
  private _resize(t: TenantExtras, cap: number): void {
    const live: Exemplar[] = [];
    for (let i = 0; i < t.size; i++) live.push(t.ring[(t.head + i) % t.ring.length] as Exemplar);
    const keep = cap === 0 ? [] : live.slice(Math.max(0, live.length - cap));
    t.ring = new Array<Exemplar | undefined>(cap);
    for (let i = 0; i < keep.length; i++) t.ring[i] = keep[i];
    t.head = 0;
    t.size = keep.length;
    t.keys = new Set(keep.map(exemplarKey));
  }

  /** See Backend.metadata. */
  metadata(tenant: TenantId, q: MetadataQuery): MetricMetadata[] {
    const t = this._tenants.get(tenant);
    if (t === undefined) return [];
    const all: MetricMetadata[] = [];
    for (const per of t.metadata.values()) for (const m of per.values()) all.push(m);
    return limitMetadata(all.sort(compareMetadata), q);
  }

  /** See Backend.exemplars. */
  exemplars(tenant: TenantId, matcherSets: readonly (readonly Matcher[])[], startMs: TimeMs, endMs: TimeMs): Exemplar[] {
    const t = this._tenants.get(tenant);
    if (t === undefined || t.size === 0) return [];
    const sets = matcherSets.map((set) => set.map(compileMatcher));
    const out: Exemplar[] = [];
    for (let i = 0; i < t.size; i++) {
      const e = t.ring[(t.head + i) % t.ring.length] as Exemplar;
      if (e.tsMs < startMs || e.tsMs > endMs) continue;
      if (matchesAnySet(e.seriesLabels, sets)) out.push(e);
    }
    return out.sort((a, b) => compareLabels(a.seriesLabels, b.seriesLabels) || a.tsMs - b.tsMs);
  }

  /** Live exemplars and metadata entries over all tenants. */
  counts(): { exemplars: number; metadata: number } {
    let exemplars = 0;
    let metadata = 0;
    for (const t of this._tenants.values()) {
      exemplars += t.size;
      metadata += t.metadataCount;
    }
    return { exemplars, metadata };
  }
}

function tallyReject(rejects: Map<string, { count: number; example: string }>, code: string, example: () => string): void {
  const r = rejects.get(code);
  if (r === undefined) rejects.set(code, { count: 1, example: example() });
  else r.count++;
}
