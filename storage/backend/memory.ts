/**
 * In-memory Backend for unit, route and PromQL data-driven tests. Simple over fast: matching is a
 * scan over every series of the tenant. Appends are "durable" as soon as they return.
 */
import { AppError, ErrorKind, badData, clip } from '../../common/errors.js';
import { compareLabels, compareStrings, formatLabels, getLabel, seriesKey } from '../../common/labels.js';
import { compileMatcher, type CompiledMatcher } from '../../common/matchers.js';
import type { Labels, Matcher, SampleBatch, TenantId, TimeMs, WriteResult } from '../../common/types.js';
import { encodeRawChunk } from '../chunk/raw.js';
import { ChunkEncoding, type Backend, type LookupOptions, type SelectedSeries } from './backend.js';

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
  private _closed = false;

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
