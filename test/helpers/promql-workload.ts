/**
 * A deterministic data set for the PromQL differential test (test/e2e/promql-differential.e2e.test.ts):
 * counters with resets, gauges (negative values, NaN), classic histograms (incl. a non-monotonic one
 * and one without `+Inf`), series with short and long gaps, series ending in a staleness marker, and
 * label sets that differ only by metric name. Built straight into a columnar SampleBatch so the
 * staleness marker keeps its exact bits (a JS number NaN would not).
 */
import { labelsFromRecord } from '../../common/labels.js';
import { setStaleNaNAt, type SampleBatch } from '../../common/types.js';
import { mulberry32 } from '../../load/generator/workload.js';

/** Scrape interval of the generated data. */
export const WORKLOAD_STEP_MS = 15_000;
/** Number of scrape slots (50 minutes). */
export const WORKLOAD_SLOTS = 200;

/** A seeded PRNG, uniform in [0, 1) (the load generator's mulberry32). */
export const prng = mulberry32;

/** One generated sample; `stale` marks a staleness marker (value ignored). */
interface Point {
  t: number;
  v: number;
  stale?: boolean;
}

interface GenSeries {
  labels: Record<string, string>;
  points: Point[];
}

/** The generated data set: the batch to push and its time bounds. */
export interface PromqlWorkload {
  readonly batch: SampleBatch;
  /** Timestamp of slot 0 (ms, a multiple of 15 s). */
  readonly startMs: number;
  /** Timestamp of the last slot. */
  readonly endMs: number;
  readonly seriesCount: number;
  readonly sampleCount: number;
}

/** Two decimals, so values print the same in Go and JS and sums stay exact-ish. */
function r2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Builds the data set with slot 0 at `startMs` (rounded down to 15 s). Same seed, same data.
 * Samples of each series are in ascending time order.
 */
export function generatePromqlWorkload(startMs: number, seed = 42): PromqlWorkload {
  const rnd = prng(seed);
  const t0 = Math.floor(startMs / WORKLOAD_STEP_MS) * WORKLOAD_STEP_MS;
  const slotT = (i: number): number => t0 + i * WORKLOAD_STEP_MS;
  const out: GenSeries[] = [];

  // Counters with occasional resets; instance i3 scrapes with jitter (never crossing the next slot).
  for (const job of ['api', 'db']) {
    for (const instance of ['i1', 'i2', 'i3']) {
      const points: Point[] = [];
      let v = r2(rnd() * 100);
      for (let i = 0; i < WORKLOAD_SLOTS; i++) {
        if (rnd() < 0.03) v = r2(rnd() * 5);
        else v = r2(v + rnd() * (job === 'api' ? 20 : 3));
        const jitter = instance === 'i3' ? Math.floor(rnd() * 900) - 450 : 0;
        points.push({ t: slotT(i) + jitter, v });
      }
      out.push({ labels: { __name__: 'dt_counter_total', job, instance }, points });
    }
  }

  // Gauges: a random walk across zero; db/i3 has NaN values now and then.
  for (const job of ['api', 'db']) {
    for (const instance of ['i1', 'i2', 'i3']) {
      const points: Point[] = [];
      let v = r2(rnd() * 40 - 20);
      for (let i = 0; i < WORKLOAD_SLOTS; i++) {
        v = r2(v + rnd() * 10 - 5);
        const nan = job === 'db' && instance === 'i3' && rnd() < 0.08;
        points.push({ t: slotT(i), v: nan ? NaN : v });
      }
      out.push({ labels: { __name__: 'dt_gauge', job, instance }, points });
    }
  }

  // Classic histograms: cumulative buckets, _sum and _count, per job.
  const les = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];
  for (const job of ['api', 'db']) {
    const counts = new Array<number>(les.length).fill(0);
    let sum = 0;
    const bucketPoints = les.map((): Point[] => []);
    const sumPoints: Point[] = [];
    const countPoints: Point[] = [];
    for (let i = 0; i < WORKLOAD_SLOTS; i++) {
      const obs = Math.floor(rnd() * 20);
      for (let k = 0; k < obs; k++) {
        const x = rnd() ** (job === 'api' ? 3 : 1) * 3;
        sum += x;
        for (let b = 0; b < les.length; b++) if (Number(les[b]) >= x) counts[b] = (counts[b] as number) + 1;
      }
      les.forEach((_, b) => bucketPoints[b]!.push({ t: slotT(i), v: counts[b] as number }));
      sumPoints.push({ t: slotT(i), v: r2(sum) });
      countPoints.push({ t: slotT(i), v: counts[les.length - 1] as number });
    }
    les.forEach((le, b) => out.push({ labels: { __name__: 'dt_hist_bucket', job, le }, points: bucketPoints[b]! }));
    out.push({ labels: { __name__: 'dt_hist_sum', job }, points: sumPoints });
    out.push({ labels: { __name__: 'dt_hist_count', job }, points: countPoints });
  }
  // A non-monotonic histogram and one without a +Inf bucket.
  const odd = (name: string, bounds: string[], f: (b: number, i: number) => number): void => {
    bounds.forEach((le, b) => {
      const points: Point[] = [];
      for (let i = 0; i < WORKLOAD_SLOTS; i++) points.push({ t: slotT(i), v: f(b, i) });
      out.push({ labels: { __name__: name, le }, points });
    });
  };
  odd('dt_badhist_bucket', ['0.1', '1', '10', '+Inf'], (b, i) => i * (b === 1 ? 10 : b + 3));
  odd('dt_noinf_bucket', ['0.1', '1', '10'], (b, i) => i * (b + 1));

  // Gaps: one longer than the 5 m lookback, one shorter.
  const gappy = (instance: string, from: number, to: number): void => {
    const points: Point[] = [];
    for (let i = 0; i < WORKLOAD_SLOTS; i++) if (i < from || i >= to) points.push({ t: slotT(i), v: r2(i * 1.5 + rnd()) });
    out.push({ labels: { __name__: 'dt_gappy', instance }, points });
  };
  gappy('long', 60, 92); // 8 minutes missing
  gappy('short', 120, 132); // 3 minutes missing

  // Staleness: one series ends with a marker, one is marked stale and comes back.
  {
    const end: Point[] = [];
    for (let i = 0; i < 120; i++) end.push({ t: slotT(i), v: i });
    end.push({ t: slotT(120), v: 0, stale: true });
    out.push({ labels: { __name__: 'dt_stale', instance: 'end' }, points: end });
    const mid: Point[] = [];
    for (let i = 0; i < WORKLOAD_SLOTS; i++) {
      if (i === 80) mid.push({ t: slotT(i), v: 0, stale: true });
      else if (i < 80 || i >= 104) mid.push({ t: slotT(i), v: 1000 - i });
    }
    out.push({ labels: { __name__: 'dt_stale', instance: 'mid' }, points: mid });
  }

  // Label sets equal except for the metric name (duplicate-labelset errors once the name is dropped).
  for (const name of ['dt_dup_a', 'dt_dup_b']) {
    const points: Point[] = [];
    for (let i = 0; i < WORKLOAD_SLOTS; i++) points.push({ t: slotT(i), v: r2(i * (name === 'dt_dup_a' ? 2 : 3) + rnd()) });
    out.push({ labels: { __name__: name, x: '1' }, points });
  }

  // An info metric for group_left joins, and one series with a colourful label for label_* functions.
  for (const job of ['api', 'db']) {
    const points: Point[] = [];
    for (let i = 0; i < WORKLOAD_SLOTS; i++) points.push({ t: slotT(i), v: 1 });
    out.push({ labels: { __name__: 'dt_info', job, version: job === 'api' ? 'v1.2.3' : 'v2.0.0' }, points });
  }
  {
    const points: Point[] = [];
    for (let i = 0; i < WORKLOAD_SLOTS; i++) points.push({ t: slotT(i), v: r2(rnd() * 1e6) });
    out.push({ labels: { __name__: 'dt_host', addr: 'host-7.example.com:9100', path: '/a/b' }, points });
  }

  const total = out.reduce((n, s) => n + s.points.length, 0);
  const sampleStart = new Uint32Array(out.length + 1);
  const tsMs = new Float64Array(total);
  const values = new Float64Array(total);
  let k = 0;
  out.forEach((s, i) => {
    sampleStart[i] = k;
    for (const p of s.points) {
      tsMs[k] = p.t;
      if (p.stale === true) setStaleNaNAt(values, k);
      else values[k] = p.v;
      k++;
    }
  });
  sampleStart[out.length] = k;
  return {
    batch: { series: out.map((s) => labelsFromRecord(s.labels)), sampleStart, tsMs, values },
    startMs: t0,
    endMs: slotT(WORKLOAD_SLOTS - 1),
    seriesCount: out.length,
    sampleCount: total,
  };
}
