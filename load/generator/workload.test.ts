import { describe, expect, it } from 'vitest';
import { seriesKey } from '../../common/labels.js';
import { AppError } from '../../common/errors.js';
import { defaultStartMs, HISTOGRAM_BUCKETS, METRIC_FAMILIES, mulberry32, Workload, type WorkloadOptions } from './workload.js';

const BASE: WorkloadOptions = {
  seed: 42,
  series: 1000,
  samplesPerRequest: 300,
  samplesPerSeries: 1,
  intervalMs: 15_000,
  startMs: 1_700_000_000_000,
  metricPrefix: 'load_',
};

function bytesOf(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('mulberry32', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const seqA = Array.from({ length: 1000 }, () => a());
    const seqB = Array.from({ length: 1000 }, () => b());
    const seqC = Array.from({ length: 1000 }, () => c());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    // A broken generator (e.g. stuck state) would repeat values quickly.
    expect(new Set(seqA).size).toBe(1000);
  });
});

describe('Workload', () => {
  it('produces identical batches for the same seed and different values for another seed', () => {
    const w1 = new Workload(BASE);
    const w2 = new Workload(BASE);
    const w3 = new Workload({ ...BASE, seed: 43 });
    for (const q of [0, 1, 3, 4, 17]) {
      const a = w1.batch(q);
      const b = w2.batch(q);
      expect(a.series).toEqual(b.series);
      expect(a.sampleStart).toEqual(b.sampleStart);
      expect(bytesOf(a.tsMs)).toEqual(bytesOf(b.tsMs));
      expect(bytesOf(a.values)).toEqual(bytesOf(b.values));
      expect(bytesOf(w3.batch(q).values)).not.toEqual(bytesOf(a.values));
    }
  });

  it.each([
    { name: 'exact slices', series: 1000, spr: 250, sps: 1, perReq: 250, perRound: 4, lastSeries: 250 },
    { name: 'ragged last slice', series: 1000, spr: 300, sps: 1, perReq: 300, perRound: 4, lastSeries: 100 },
    { name: 'several samples per series', series: 1000, spr: 2000, sps: 4, perReq: 500, perRound: 2, lastSeries: 500 },
    { name: 'request larger than series', series: 10, spr: 2000, sps: 1, perReq: 10, perRound: 1, lastSeries: 10 },
    { name: 'fewer samples than one series needs', series: 10, spr: 2, sps: 5, perReq: 1, perRound: 10, lastSeries: 1 },
  ])('plans requests: $name', ({ series, spr, sps, perReq, perRound, lastSeries }) => {
    const w = new Workload({ ...BASE, series, samplesPerRequest: spr, samplesPerSeries: sps });
    expect(w.seriesPerRequest).toBe(perReq);
    expect(w.requestsPerRound).toBe(perRound);
    const first = w.batch(0);
    expect(first.series.length).toBe(perReq);
    expect(first.tsMs.length).toBe(perReq * sps);
    expect(first.sampleStart.length).toBe(perReq + 1);
    expect(first.sampleStart[perReq]).toBe(perReq * sps);
    const last = w.batch(perRound - 1);
    expect(last.series.length).toBe(lastSeries);
    expect(last.tsMs.length).toBe(lastSeries * sps);
    // One round covers every series exactly once.
    const keys = new Set<string>();
    for (let q = 0; q < perRound; q++) for (const l of w.batch(q).series) keys.add(seriesKey(l));
    expect(keys.size).toBe(series);
  });

  it.each([1, 7, 100, 10_000])('creates exactly %i distinct, sorted, valid label sets', (n) => {
    const w = new Workload({ ...BASE, series: n });
    expect(w.labels.length).toBe(n);
    expect(new Set(w.labels.map((l) => seriesKey(l))).size).toBe(n);
    const problems: string[] = [];
    for (const l of w.labels) {
      const names = l.filter((_, i) => i % 2 === 0);
      if (l.length % 2 !== 0) problems.push(`odd length: ${l.join(',')}`);
      if (names.join(',') !== [...names].sort().join(',')) problems.push(`unsorted: ${l.join(',')}`);
      if (l.some((s) => s === '')) problems.push(`empty string: ${l.join(',')}`);
      if (l[0] !== '__name__' || !(l[1] ?? '').startsWith('load_')) problems.push(`bad name: ${l.join(',')}`);
    }
    expect(problems).toEqual([]);
  });

  it('uses every metric family and the metric prefix', () => {
    const w = new Workload({ ...BASE, series: 8, metricPrefix: 'bench_' });
    const names = new Set(w.labels.map((l) => l[1]));
    expect(names).toEqual(new Set(METRIC_FAMILIES.map((f) => `bench_${f.name}`)));
  });

  it.each([
    { name: 'one sample per series', sps: 1 },
    { name: 'three samples per series', sps: 3 },
  ])('keeps every series in one stream, in timestamp order: $name', ({ sps }) => {
    const w = new Workload({ ...BASE, series: 100, samplesPerRequest: 30, samplesPerSeries: sps });
    const lastTs = new Map<string, number>();
    const streamOfSeries = new Map<string, number>();
    const requests = w.requestsPerRound * 5;
    // Visit requests stream by stream, in the order run.ts sends a stream.
    for (let stream = 0; stream < w.requestsPerRound; stream++) {
      for (let q = 0; q < requests; q++) {
        if (w.streamOf(q) !== stream) continue;
        const b = w.batch(q);
        for (let s = 0; s < b.series.length; s++) {
          const key = seriesKey(b.series[s] ?? []);
          const owner = streamOfSeries.get(key);
          if (owner === undefined) streamOfSeries.set(key, stream);
          else expect(owner).toBe(stream);
          for (let j = b.sampleStart[s] ?? 0; j < (b.sampleStart[s + 1] ?? 0); j++) {
            const ts = b.tsMs[j] ?? NaN;
            const prev = lastTs.get(key);
            if (prev !== undefined) expect(ts).toBe(prev + BASE.intervalMs);
            else expect(ts).toBe(BASE.startMs);
            lastTs.set(key, ts);
          }
        }
      }
    }
    // Every series got all 5 rounds of samples.
    expect(streamOfSeries.size).toBe(100);
    for (const ts of lastTs.values()) expect(ts).toBe(BASE.startMs + (5 * sps - 1) * BASE.intervalMs);
    expect(w.stepsFor(requests)).toBe(5 * sps);
    expect(w.stepsFor(requests + 1)).toBe(6 * sps);
  });

  it('makes counters strictly increasing and gauges finite', () => {
    const w = new Workload({ ...BASE, series: 40 });
    const problems: string[] = [];
    for (let i = 0; i < 40; i++) {
      const family = METRIC_FAMILIES[i % METRIC_FAMILIES.length];
      let prev = -Infinity;
      for (let step = 0; step < 500; step++) {
        const v = w.value(i, step);
        if (!Number.isFinite(v)) problems.push(`series ${i} step ${step}: ${v} not finite`);
        if (family?.kind === 'counter') {
          if (!(v > prev)) problems.push(`counter ${i} step ${step}: ${v} after ${prev}`);
          prev = v;
        } else if (family?.name === 'cpu_utilisation_ratio' && !(v >= 0 && v <= 1)) {
          problems.push(`ratio ${i} step ${step}: ${v} outside [0, 1]`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it.each([
    { field: 'series', value: 0 },
    { field: 'samplesPerRequest', value: -1 },
    { field: 'samplesPerSeries', value: 1.5 },
    { field: 'intervalMs', value: 0 },
    { field: 'startMs', value: 0.5 },
  ])('rejects $field = $value', ({ field, value }) => {
    expect(() => new Workload({ ...BASE, [field]: value })).toThrow(AppError);
  });
});

describe('Workload options: histograms and churn', () => {
  it('adds complete classic histograms whose buckets are cumulative and never decrease', () => {
    const w = new Workload({ ...BASE, series: 64, histograms: true });
    expect(new Set(w.labels.map((l) => seriesKey(l))).size).toBe(64);
    const buckets = w.labels.map((l, i) => ({ l, i })).filter(({ l }) => l[1] === 'load_http_request_duration_seconds_bucket');
    // 64 series = 4 groups of 16: 4 plain series and 12 buckets each.
    expect(buckets.length).toBe(48);
    expect(buckets.slice(0, 12).map(({ l }) => l[l.indexOf('le') + 1])).toEqual([...HISTOGRAM_BUCKETS]);
    const problems: string[] = [];
    for (let g = 0; g < 4; g++) {
      const idx = buckets.slice(g * 12, g * 12 + 12).map(({ i }) => i);
      for (let step = 0; step < 50; step++) {
        const vs = idx.map((i) => w.value(i, step));
        for (let b = 1; b < vs.length; b++) if (!((vs[b] as number) >= (vs[b - 1] as number))) problems.push(`group ${g} step ${step}: bucket ${b} below ${b - 1}`);
        const inf = vs[11] as number;
        if (step > 0 && !(inf > w.value(idx[11] as number, step - 1))) problems.push(`group ${g} step ${step}: +Inf did not grow`);
        if ((vs[0] as number) === inf) problems.push(`group ${g} step ${step}: all observations in the first bucket`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('replaces series by new ones every churnSteps steps, keeping the active count', () => {
    const series = 40;
    const churnSteps = 8;
    const w = new Workload({ ...BASE, series, samplesPerRequest: 40 * 3, samplesPerSeries: 3, churnSteps });
    const seen = new Set<string>();
    const perStep = new Map<number, Set<string>>();
    const requests = w.requestsPerRound * 8; // 24 steps = 3 generations
    for (let q = 0; q < requests; q++) {
      const b = w.batch(q);
      expect(b.sampleStart[b.series.length]).toBe(b.tsMs.length);
      for (let s = 0; s < b.series.length; s++) {
        const key = seriesKey(b.series[s] ?? []);
        seen.add(key);
        for (let j = b.sampleStart[s] ?? 0; j < (b.sampleStart[s + 1] ?? 0); j++) {
          const t = b.tsMs[j] as number;
          const set = perStep.get(t) ?? new Set<string>();
          set.add(key);
          perStep.set(t, set);
        }
      }
    }
    for (const set of perStep.values()) expect(set.size).toBe(series);
    // Each series lives through 24 steps = 3 generations (4 when staggered across a boundary).
    expect(seen.size).toBeGreaterThanOrEqual(series * 3);
    expect(seen.size).toBeLessThanOrEqual(series * 4);
  });

  it('rejects a negative churnSteps', () => {
    expect(() => new Workload({ ...BASE, churnSteps: -1 })).toThrow(AppError);
  });
});

describe('defaultStartMs', () => {
  it.each([
    { now: 1_000_000, steps: 1, interval: 15_000, want: 990_000 },
    { now: 1_000_000, steps: 3, interval: 15_000, want: 960_000 },
    { now: 990_000, steps: 2, interval: 15_000, want: 975_000 },
  ])('ends the data at or just before now ($now, $steps steps)', ({ now, steps, interval, want }) => {
    const start = defaultStartMs(now, steps, interval);
    expect(start).toBe(want);
    const last = start + (steps - 1) * interval;
    expect(last).toBeLessThanOrEqual(now);
    expect(now - last).toBeLessThan(interval);
  });
});
