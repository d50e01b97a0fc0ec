/**
 * Deterministic remote-write workload: which series exist, which samples each request carries, and
 * their values. Pure (no I/O, no clock): the same options always give the same batches, so a run
 * against our service, Prometheus and VictoriaMetrics sends byte-identical data.
 *
 * Shape. Series `i` gets a metric name, `job`, `instance` and `shard` label derived from `i`, so
 * `--series N` yields exactly N distinct label sets; the shard label grows to reach N. Counters
 * increase every step; gauges wander around a per-series level.
 *
 * Options. `histograms` turns every group of 16 series into the 4 plain families plus one classic
 * histogram (`<prefix>http_request_duration_seconds_bucket` with 12 `le` buckets, cumulative, ending
 * in `+Inf`), so dashboards can run `histogram_quantile`. `churnSteps` makes series come and go: each
 * series gets a `pod` label naming its generation, and it is replaced by a fresh series every
 * `churnSteps` steps (staggered, so about `series / churnSteps` series churn at every step); the
 * number of active series stays `series`.
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
  /** Add a classic histogram family (12 buckets) to every group of 16 series; default false. */
  readonly histograms?: boolean;
  /** Replace each series by a new one (new `pod` label) every this many steps; 0 or absent = no churn. */
  readonly churnSteps?: number;
}

/** Metric families of the workload, in the order series cycle through them. */
export const METRIC_FAMILIES = [
  { name: 'http_requests_total', kind: 'counter' },
  { name: 'http_response_bytes_total', kind: 'counter' },
  { name: 'process_resident_memory_bytes', kind: 'gauge' },
  { name: 'cpu_utilisation_ratio', kind: 'gauge' },
] as const;

/** Name (without prefix) of the histogram family added by `histograms`. */
export const HISTOGRAM_FAMILY = 'http_request_duration_seconds_bucket';

/** Upper bounds of the histogram buckets, as `le` label values (Prometheus formatting). */
export const HISTOGRAM_BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'] as const;

/** Series per group when histograms are on: the 4 plain families, then one series per bucket. */
const GROUP_WITH_HISTOGRAM = METRIC_FAMILIES.length + HISTOGRAM_BUCKETS.length;

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

/**
 * Where series `i` sits: its family slot (0–3 a METRIC_FAMILIES entry, 4+ a histogram bucket) and
 * the ordinal `r` of its (job, instance, shard) combination.
 */
function slotOf(i: number, histograms: boolean): { slot: number; r: number } {
  const group = histograms ? GROUP_WITH_HISTOGRAM : METRIC_FAMILIES.length;
  return { slot: i % group, r: Math.floor(i / group) };
}

/**
 * Label set of series `i` (sorted by name, as remote write requires). With `histograms`, the
 * mapping of `i` to families changes (see the module comment); `pod` (churn generation) is added
 * when `generation` is given.
 */
export function seriesLabels(i: number, metricPrefix: string, histograms = false, generation?: number): Labels {
  const { slot, r } = slotOf(i, histograms);
  const job = r % JOBS;
  const instance = Math.floor(r / JOBS) % INSTANCES_PER_JOB;
  const shard = Math.floor(r / (JOBS * INSTANCES_PER_JOB));
  // Names in byte order: "__name__" < "instance" < "job" < "le" < "pod" < "shard".
  const out: string[] = [];
  if (slot < METRIC_FAMILIES.length) {
    const family = METRIC_FAMILIES[slot] as (typeof METRIC_FAMILIES)[number];
    out.push('__name__', metricPrefix + family.name, 'instance', `host-${String(instance).padStart(2, '0')}:9100`, 'job', `job-${job}`);
  } else {
    const le = HISTOGRAM_BUCKETS[slot - METRIC_FAMILIES.length] as string;
    out.push('__name__', metricPrefix + HISTOGRAM_FAMILY, 'instance', `host-${String(instance).padStart(2, '0')}:9100`, 'job', `job-${job}`, 'le', le);
  }
  if (generation !== undefined) out.push('pod', `pod-${i}-${generation}`);
  out.push('shard', String(shard));
  return out;
}

/** Cumulative share of observations at or below bucket `b` (a log-normal-ish latency spread shifted by `phase`). */
function bucketShare(b: number, phase: number): number {
  if (b >= HISTOGRAM_BUCKETS.length - 1) return 1;
  const bound = Number(HISTOGRAM_BUCKETS[b]);
  // Median latency between ~50 ms and ~400 ms depending on the series group.
  const median = 0.05 * Math.exp(phase / 3);
  const z = Math.log(bound / median) / 1.2;
  return 1 / (1 + Math.exp(-1.7 * z));
}

/** Checks options, throwing a bad-data AppError (`bad-load-option`) that names the first bad one. */
function checkOptions(o: WorkloadOptions): void {
  const positive: [string, number][] = [
    ['series', o.series],
    ['samplesPerRequest', o.samplesPerRequest],
    ['samplesPerSeries', o.samplesPerSeries],
    ['intervalMs', o.intervalMs],
  ];
  if (o.churnSteps !== undefined && o.churnSteps !== 0) positive.push(['churnSteps', o.churnSteps]);
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
  private readonly _histograms: boolean;
  private readonly _churnSteps: number;
  /** Churn only: generation whose labels `_genLabels[i]` hold (-1 = none yet); reused across batches. */
  private readonly _gen: Float64Array;
  private readonly _genLabels: Labels[];

  constructor(readonly options: WorkloadOptions) {
    checkOptions(options);
    this.seriesPerRequest = Math.min(options.series, Math.max(1, Math.floor(options.samplesPerRequest / options.samplesPerSeries)));
    this.requestsPerRound = Math.ceil(options.series / this.seriesPerRequest);
    this._histograms = options.histograms === true;
    this._churnSteps = options.churnSteps ?? 0;
    const rand = mulberry32(options.seed);
    const n = options.series;
    const labels: Labels[] = new Array<Labels>(n);
    this._base = new Float64Array(n);
    this._scale = new Float64Array(n);
    this._phase = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = seriesLabels(i, options.metricPrefix, this._histograms, this._churnSteps > 0 ? 0 : undefined);
      this._base[i] = Math.floor(rand() * 1e6);
      this._scale[i] = 1 + Math.floor(rand() * 100);
      this._phase[i] = rand() * 2 * Math.PI;
    }
    this.labels = labels;
    this._gen = new Float64Array(this._churnSteps > 0 ? n : 0).fill(-1);
    this._genLabels = new Array<Labels>(this._churnSteps > 0 ? n : 0);
  }

  /** Churn generation of series `i` at `step` (0 without churn); staggered so series churn evenly. */
  generationOf(i: number, step: number): number {
    if (this._churnSteps === 0) return 0;
    const stagger = Math.floor((i * this._churnSteps) / this.options.series);
    return Math.floor((step + stagger) / this._churnSteps);
  }

  /**
   * Labels of series `i` at `step`: `labels[i]`, or with churn the label set of its generation. The
   * same array is returned for the same (i, generation) while it is current, so encoders can cache it.
   */
  labelsAt(i: number, step: number): Labels {
    if (this._churnSteps === 0) return this.labels[i] as Labels;
    const gen = this.generationOf(i, step);
    if (gen === 0) return this.labels[i] as Labels;
    if (this._gen[i] !== gen) {
      this._gen[i] = gen;
      this._genLabels[i] = seriesLabels(i, this.options.metricPrefix, this._histograms, gen);
    }
    return this._genLabels[i] as Labels;
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

  /** Value of series `i` at `step`: counters (and histogram buckets) never decrease; gauges stay finite. */
  value(i: number, step: number): number {
    const seed = this.options.seed;
    const { slot } = slotOf(i, this._histograms);
    if (slot >= METRIC_FAMILIES.length) {
      // Bucket b counts a share of the group's observations; all buckets of a group derive from the
      // group's first series so they stay cumulative (non-decreasing in le) at every step.
      const first = i - slot;
      const scale = this._scale[first] as number;
      const total = (this._base[first] as number) + step * scale * 10 + Math.floor(noise01(seed, first, step) * scale);
      return Math.floor(total * bucketShare(slot - METRIC_FAMILIES.length, this._phase[first] as number));
    }
    const base = this._base[i] as number;
    const scale = this._scale[i] as number;
    const family = METRIC_FAMILIES[slot] as (typeof METRIC_FAMILIES)[number];
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
    // With churn a series may change generation inside the request: it is then split into two
    // entries (old and new label set), so there may be more entries than series.
    const series: Labels[] = [];
    const starts: number[] = [];
    const tsMs = new Float64Array(total);
    const values = new Float64Array(total);
    let o = 0;
    for (let s = 0; s < info.seriesCount; s++) {
      const i = info.firstSeries + s;
      let current: Labels | undefined;
      for (let j = 0; j < k; j++) {
        const step = info.firstStep + j;
        const labels = this.labelsAt(i, step);
        if (labels !== current) {
          current = labels;
          series.push(labels);
          starts.push(o);
        }
        tsMs[o] = this.options.startMs + step * this.options.intervalMs;
        values[o] = this.value(i, step);
        o++;
      }
    }
    starts.push(o);
    return { series, sampleStart: Uint32Array.from(starts), tsMs, values };
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
