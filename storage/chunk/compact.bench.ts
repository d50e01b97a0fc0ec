/**
 * Size and speed of the compact codec against the XOR codec on the benchmark's data (the load
 * generator's workload: 20000 series, 480 steps of 15 s, histograms on).
 *
 * Full report: build, then compile this file (the build config skips benches), then run it:
 *   npx tsc -p tsconfig.json --noEmit false --outDir /tmp/promstore-bench && \
 *   node /tmp/promstore-bench/storage/chunk/compact.bench.js
 * Under `vitest bench` it only registers decode benchmarks on a small slice of the same data.
 */
import { wordsOf } from '../../common/types.js';
import { Workload } from '../../load/generator/workload.js';
import { compactChunkSampleCount, decodeCompactChunk, encodeCompactChunk } from './compact.js';
import { decodeXorChunk, XorEncoder } from './xor.js';

const STEPS = 480;
const INTERVAL = 15_000;
const START = Math.floor(1_700_000_000_000 / INTERVAL) * INTERVAL;
const FAMILIES = ['counter', 'memory gauge', 'cpu ratio gauge', 'histogram bucket'] as const;

/** Family index of series i: 16 series per group, slots 0–1 counters, 2 memory, 3 cpu, 4+ buckets. */
function familyOf(i: number): number {
  const slot = i % 16;
  return slot < 2 ? 0 : slot === 2 ? 1 : slot === 3 ? 2 : 3;
}

interface Data {
  readonly series: number;
  readonly ts: Float64Array;
  /** values[i * STEPS + step] */
  readonly values: Float64Array;
}

function buildData(series: number): Data {
  const w = new Workload({
    seed: 1,
    series: 20000,
    samplesPerRequest: 2000,
    samplesPerSeries: 1,
    intervalMs: INTERVAL,
    startMs: START,
    metricPrefix: 'bench_',
    histograms: true,
  });
  const ts = new Float64Array(STEPS);
  for (let s = 0; s < STEPS; s++) ts[s] = START + s * INTERVAL;
  const values = new Float64Array(series * STEPS);
  for (let i = 0; i < series; i++) for (let s = 0; s < STEPS; s++) values[i * STEPS + s] = w.value(i, s);
  return { series, ts, values };
}

function xorChunk(ts: Float64Array, words: Uint32Array, from: number, to: number, tsFrom: number): Uint8Array {
  const e = new XorEncoder();
  for (let i = from; i < to; i++) e.append(ts[tsFrom + i - from] as number, words, i);
  return e.bytes();
}

/** Encodes every series in chunks of `size` samples with both codecs. */
function encodeAll(d: Data, size: number): { compact: Uint8Array[]; xor: Uint8Array[]; family: number[]; encodeMs: number } {
  const compact: Uint8Array[] = [];
  const xor: Uint8Array[] = [];
  const family: number[] = [];
  const words = wordsOf(d.values);
  const tsAll = new Float64Array(d.series * STEPS);
  for (let i = 0; i < d.series; i++) tsAll.set(d.ts, i * STEPS);
  const t0 = performance.now();
  for (let i = 0; i < d.series; i++) {
    for (let s = 0; s < STEPS; s += size) compact.push(encodeCompactChunk(tsAll, d.values, i * STEPS + s, i * STEPS + s + size));
  }
  const encodeMs = performance.now() - t0;
  for (let i = 0; i < d.series; i++) {
    for (let s = 0; s < STEPS; s += size) {
      xor.push(xorChunk(d.ts, words, i * STEPS + s, i * STEPS + s + size, s));
      family.push(familyOf(i));
    }
  }
  return { compact, xor, family, encodeMs };
}

function checkRoundTrip(d: Data, chunks: Uint8Array[], size: number): void {
  const outT = new Float64Array(size);
  const outV = new Float64Array(size);
  const got = wordsOf(outV);
  const want = wordsOf(d.values);
  let k = 0;
  for (let i = 0; i < d.series; i++) {
    for (let s = 0; s < STEPS; s += size) {
      decodeCompactChunk(chunks[k++] as Uint8Array, outT, outV, 0);
      for (let j = 0; j < size; j++) {
        const w = 2 * (i * STEPS + s + j);
        if (outT[j] !== d.ts[s + j] || got[2 * j] !== want[w] || got[2 * j + 1] !== want[w + 1]) {
          throw new Error(`round trip mismatch: series ${i}, step ${s + j}`);
        }
      }
    }
  }
}

/** Decode throughput in M samples/s over `chunks`, best of a few rounds. */
function decodeRate(chunks: Uint8Array[], size: number, decode: typeof decodeXorChunk): number {
  const outT = new Float64Array(size);
  const outV = new Float64Array(size);
  let best = 0;
  for (let round = 0; round < 7; round++) {
    const t0 = performance.now();
    let samples = 0;
    for (const c of chunks) samples += decode(c, outT, outV, 0);
    const ms = performance.now() - t0;
    if (round > 1) best = Math.max(best, samples / ms / 1000);
  }
  return best;
}

function report(d: Data, size: number): void {
  const { compact, xor, family, encodeMs } = encodeAll(d, size);
  checkRoundTrip(d, compact, size);
  const cBytes = new Float64Array(FAMILIES.length);
  const xBytes = new Float64Array(FAMILIES.length);
  const samples = new Float64Array(FAMILIES.length);
  for (let k = 0; k < compact.length; k++) {
    const f = family[k] as number;
    cBytes[f] = (cBytes[f] as number) + (compact[k] as Uint8Array).length;
    xBytes[f] = (xBytes[f] as number) + (xor[k] as Uint8Array).length;
    samples[f] = (samples[f] as number) + compactChunkSampleCount(compact[k] as Uint8Array);
  }
  const total = (a: Float64Array): number => a.reduce((x, y) => x + y, 0);
  console.log(`\n${size} samples/chunk, ${compact.length} chunks, ${total(samples)} samples`);
  console.log('family'.padEnd(20) + 'compact B/sample'.padStart(18) + 'xor B/sample'.padStart(14) + 'ratio'.padStart(8));
  const row = (name: string, c: number, x: number, n: number): void =>
    console.log(name.padEnd(20) + (c / n).toFixed(3).padStart(18) + (x / n).toFixed(3).padStart(14) + (c / x).toFixed(3).padStart(8));
  for (let f = 0; f < FAMILIES.length; f++) row(FAMILIES[f] as string, cBytes[f] as number, xBytes[f] as number, samples[f] as number);
  row('overall', total(cBytes), total(xBytes), total(samples));
  console.log(`encode compact: ${(total(samples) / encodeMs / 1000).toFixed(1)} M samples/s`);
  // Decode speed on a slice (every family represented: whole groups of 16 series).
  const slice = Math.min(compact.length, Math.floor(2000 / 16) * 16 * (STEPS / size));
  const cr = decodeRate(compact.slice(0, slice), size, decodeCompactChunk);
  const xr = decodeRate(xor.slice(0, slice), size, decodeXorChunk);
  console.log(`decode compact: ${cr.toFixed(1)} M samples/s, xor: ${xr.toFixed(1)} M samples/s`);
}

if (process.env['VITEST'] !== undefined) {
  // Under `vitest bench`: decode speed only, on a small slice built once.
  const { bench, describe } = await import('vitest');
  const d = buildData(160);
  const { compact, xor } = encodeAll(d, 120);
  const outT = new Float64Array(120);
  const outV = new Float64Array(120);
  describe('compact vs xor decode (160 workload series × 4 chunks of 120)', () => {
    bench('compact', () => {
      for (const c of compact) decodeCompactChunk(c, outT, outV, 0);
    });
    bench('xor', () => {
      for (const c of xor) decodeXorChunk(c, outT, outV, 0);
    });
  });
} else {
  const d = buildData(20000);
  report(d, 120);
  report(d, 480);
}
