/**
 * Deterministic remote-write workload: which series exist, which samples each request carries, and
 * their values. Pure (no I/O, no clock): the same options always give the same batches, so a run
 * against our service, Prometheus and VictoriaMetrics sends byte-identical data.
 *
 * Shape. Series `i` gets a metric name, `job`, `instance` and `shard` label derived from `i`, so
 * `--series N` yields exactly N distinct label sets; the shard label grows to reach N. Counters
 * increase every step; gauges wander around a per-series level.
 *
 * Requests. A "round" sends `samplesPerSeries` consecutive steps of every series, split into slices
 * of `seriesPerRequest` consecutive series; request `q` is slice `q % requestsPerRound` of round
 * `floor(q / requestsPerRound)`. All series share the timestamps `startMs + step * intervalMs`, as
 * if scraped together. The requests of one slice form a stream (`streamOf`) that is sent strictly in
 * order, so every series reaches the receiver in timestamp order even with concurrency.
 */
import { badData } from '../../common/errors.js';
import type { Labels, SampleBatch } from '../../common/types.js';

/** Workload parameters; all counts are positive integers. */
export interface WorkloadOptions {
  /** PRNG seed (any 32-bit integer). */
  readonly seed: number;
  /** Number of distinct series. */
  readonly series: number;
  /** Target samples per request; the last slice of a round may carry fewer. */
  readonly samplesPerRequest: number;
  /** Consecutive samples of each series within one request (1 = one sample per series, like a live sender). */
  readonly samplesPerSeries: number;
  /** Distance between a series' consecutive samples, ms. */
  readonly intervalMs: number;
  /** Timestamp of step 0, ms since the epoch. */
  readonly startMs: number;
  /** Prefix of every metric name; change it to write fresh series into a store that already has a run. */
  readonly metricPrefix: string;
}

/** Metric families of the workload, in the order series cycle through them. */
export const METRIC_FAMILIES = [
  { name: 'http_requests_total', kind: 'counter' },
  { name: 'http_response_bytes_total', kind: 'counter' },
  { name: 'process_resident_memory_bytes', kind: 'gauge' },
  { name: 'cpu_utilisation_ratio', kind: 'gauge' },
] as const;

/** Jobs and instances per job before the `shard` label takes over. */
const JOBS = 5;
const INSTANCES_PER_JOB = 20;

/**
 * mulberry32: a tiny, fast 32-bit PRNG. Returns a function yielding floats in [0, 1). Good enough
 * for synthetic data; not for anything security related.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Stateless hash of (seed, series, step) to a float in [0, 1). Per-sample noise comes from here
 * rather than from a PRNG stream so any request can be built on its own, in any order.
 */
export function noise01(seed: number, series: number, step: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(series + 1, 0xc2b2ae35) ^ Math.imul(step + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

/** Where request `q` sits in the plan. */
export interface RequestInfo {
  readonly round: number;
  /** Slice index within the round, `0 ≤ slice < requestsPerRound`. */
  readonly slice: number;
  /** First series index of the slice. */
  readonly firstSeries: number;
  readonly seriesCount: number;
  /** Step of the first sample of every series in the request. */
  readonly firstStep: number;
}

/** Label set of series `i` (sorted by name, as remote write requires). */
export function seriesLabels(i: number, metricPrefix: string): Labels {
  const family = METRIC_FAMILIES[i % METRIC_FAMILIES.length] as (typeof METRIC_FAMILIES)[number];
  const r = Math.floor(i / METRIC_FAMILIES.length);
  const job = r % JOBS;
  const instance = Math.floor(r / JOBS) % INSTANCES_PER_JOB;
  const shard = Math.floor(r / (JOBS * INSTANCES_PER_JOB));
  // Names in byte order: "__name__" < "instance" < "job" < "shard".
  return [
    '__name__', metricPrefix + family.name,
    'instance', `host-${String(instance).padStart(2, '0')}:9100`,
    'job', `job-${job}`,
    'shard', String(shard),
  ];
}

/** Checks options, throwing a bad-data AppError (`bad-load-option`) that names the first bad one. */
function checkOptions(o: WorkloadOptions): void {
  const positive: [string, number][] = [
    ['series', o.series],
    ['samplesPerRequest', o.samplesPerRequest],
    ['samplesPerSeries', o.samplesPerSeries],
    ['intervalMs', o.intervalMs],
  ];
  for (const [name, v] of positive) {
    if (!Number.isSafeInteger(v) || v <= 0) throw badData('bad-load-option', `workload ${name} must be a positive integer, got ${v} [err-bad-load-option]`);
  }
  if (!Number.isSafeInteger(o.startMs)) throw badData('bad-load-option', `workload startMs must be an integer, got ${o.startMs} [err-bad-load-option]`);
}

/** The request plan and sample generator for one set of WorkloadOptions. */
export class Workload {
  /** Series per request: `floor(samplesPerRequest / samplesPerSeries)`, at least 1, at most `series`. */
  readonly seriesPerRequest: number;
  /** Requests needed to send one round (every series once). */
  readonly requestsPerRound: number;
  /** Label set of every series, index = series number. */
  readonly labels: readonly Labels[];
  // Per-series parameters, drawn once from the seeded PRNG.
  private readonly _base: Float64Array;
  private readonly _scale: Float64Array;
  private readonly _phase: Float64Array;

  constructor(readonly options: WorkloadOptions) {
    checkOptions(options);
    this.seriesPerRequest = Math.min(options.series, Math.max(1, Math.floor(options.samplesPerRequest / options.samplesPerSeries)));
    this.requestsPerRound = Math.ceil(options.series / this.seriesPerRequest);
    const rand = mulberry32(options.seed);
    const n = options.series;
    const labels: Labels[] = new Array<Labels>(n);
    this._base = new Float64Array(n);
    this._scale = new Float64Array(n);
    this._phase = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = seriesLabels(i, options.metricPrefix);
      this._base[i] = Math.floor(rand() * 1e6);
      this._scale[i] = 1 + Math.floor(rand() * 100);
      this._phase[i] = rand() * 2 * Math.PI;
    }
    this.labels = labels;
  }

  /** Position of request `q` (0-based) in the plan. */
  requestInfo(q: number): RequestInfo {
    const round = Math.floor(q / this.requestsPerRound);
    const slice = q % this.requestsPerRound;
    const firstSeries = slice * this.seriesPerRequest;
    const seriesCount = Math.min(this.seriesPerRequest, this.options.series - firstSeries);
    return { round, slice, firstSeries, seriesCount, firstStep: round * this.options.samplesPerSeries };
  }

  /**
   * Ordering stream of request `q`: its slice. Requests of one stream must be sent one after another
   * (run.ts never has two of a stream in flight), which keeps each series in timestamp order.
   */
  streamOf(q: number): number {
    return q % this.requestsPerRound;
  }

  /** Number of steps (distinct timestamps) covered by the first `requests` requests. */
  stepsFor(requests: number): number {
    return Math.ceil(requests / this.requestsPerRound) * this.options.samplesPerSeries;
  }

  /** Value of series `i` at `step`: counters never decrease; gauges stay finite. */
  value(i: number, step: number): number {
    const seed = this.options.seed;
    const base = this._base[i] as number;
    const scale = this._scale[i] as number;
    const family = METRIC_FAMILIES[i % METRIC_FAMILIES.length] as (typeof METRIC_FAMILIES)[number];
    if (family.kind === 'counter') {
      // Each step adds between 1 and 2·scale − 1, so the counter strictly increases.
      return base + step * scale + Math.floor(noise01(seed, i, step) * scale);
    }
    const wave = Math.sin(this._phase[i] as number + (2 * Math.PI * step) / 240);
    if (family.name === 'cpu_utilisation_ratio') {
      return Math.min(1, Math.max(0, 0.5 + 0.3 * wave + 0.2 * (noise01(seed, i, step) - 0.5)));
    }
    return Math.round((base + 1e5) * (1 + 0.2 * wave + 0.05 * noise01(seed, i, step)));
  }

  /**
   * Builds request `q` as a SampleBatch: `seriesCount` series, each with `samplesPerSeries` samples at
   * consecutive steps. Arrays are freshly allocated and owned by the caller; label arrays are shared
   * with `labels` and must not be mutated.
   */
  batch(q: number): SampleBatch {
    const info = this.requestInfo(q);
    const k = this.options.samplesPerSeries;
    const total = info.seriesCount * k;
    const series: Labels[] = new Array<Labels>(info.seriesCount);
    const sampleStart = new Uint32Array(info.seriesCount + 1);
    const tsMs = new Float64Array(total);
    const values = new Float64Array(total);
    let o = 0;
    for (let s = 0; s < info.seriesCount; s++) {
      const i = info.firstSeries + s;
      series[s] = this.labels[i] as Labels;
      sampleStart[s] = o;
      for (let j = 0; j < k; j++) {
        const step = info.firstStep + j;
        tsMs[o] = this.options.startMs + step * this.options.intervalMs;
        values[o] = this.value(i, step);
        o++;
      }
    }
    sampleStart[info.seriesCount] = o;
    return { series, sampleStart, tsMs, values };
  }
}

/**
 * Default start time: aligned down to `intervalMs`, chosen so the last of `steps` timestamps is at
 * or just before `nowMs`. Receivers reject samples too far in the future (ours: grace period) and
 * too far behind their newest data, so data ending "now" is the safe default.
 */
export function defaultStartMs(nowMs: number, steps: number, intervalMs: number): number {
  const end = Math.floor(nowMs / intervalMs) * intervalMs;
  return end - (steps - 1) * intervalMs;
}
