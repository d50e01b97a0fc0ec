/**
 * Snappy block decompression speed, ours (ingest/snappy.ts) against snappyjs, in MB/s of
 * decompressed output, on: (a) a live-shape remote-write body (2,000 series × 1 sample, load
 * generator labels), (b) a batch-shape body (50 series × 40 samples), (c) random bytes.
 *
 * Full report (median of several timed runs after warm-up): the build config skips benches, so
 * compile with the typecheck config, then run it:
 *   npx tsc -p tsconfig.json --noEmit false --outDir /tmp/promstore-bench && \
 *   node /tmp/promstore-bench/ingest/snappy.bench.js
 * Under `vitest bench` it registers the same cases as vitest benchmarks.
 */
import { compress, uncompress } from 'snappyjs';
import { Workload } from '../load/generator/workload.js';
import { encodeWriteRequest } from '../proto/write-request-encoder.js';
import { snappyUncompress } from './snappy.js';

interface Case {
  readonly name: string;
  readonly body: Uint8Array;
  readonly rawBytes: number;
}

/** snappy(protobuf(WriteRequest)) of the first request of a load-generator workload. */
function workloadBody(samplesPerRequest: number, samplesPerSeries: number): { body: Uint8Array; rawBytes: number } {
  const w = new Workload({
    seed: 1,
    series: 20_000,
    samplesPerRequest,
    samplesPerSeries,
    intervalMs: 15_000,
    startMs: 1_700_000_000_000,
    metricPrefix: 'bench_',
    histograms: true,
  });
  const raw = encodeWriteRequest(w.batch(0));
  return { body: compress(raw), rawBytes: raw.length };
}

function cases(): Case[] {
  // Deterministic "random" bytes (xorshift) so runs compare; snappy stores them as literals.
  const rnd = new Uint8Array(256 * 1024);
  let x = 2463534242;
  for (let i = 0; i < rnd.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    rnd[i] = x & 0xff;
  }
  const live = workloadBody(2000, 1);
  const batch = workloadBody(2000, 40);
  return [
    { name: 'live 2000 series × 1 sample', ...live },
    { name: 'batch 50 series × 40 samples', ...batch },
    { name: 'random 256 KiB', body: compress(rnd), rawBytes: rnd.length },
  ];
}

const DECODERS: ReadonlyArray<readonly [string, (b: Uint8Array) => Uint8Array]> = [
  ['snappyjs', (b) => uncompress(b)],
  ['ours', snappyUncompress],
];

/** MB/s of output over `iters` decompressions. */
function rate(fn: (b: Uint8Array) => Uint8Array, c: Case, iters: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) fn(c.body);
  return (c.rawBytes * iters) / ((performance.now() - t0) * 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function report(): void {
  const RUNS = 9;
  for (const c of cases()) {
    for (const [, fn] of DECODERS) {
      const a = fn(c.body);
      if (a.length !== c.rawBytes) throw new Error(`${c.name}: wrong length`);
    }
    // ~20 MB of output per timed run, so a run is long enough to time but short enough to repeat.
    const iters = Math.max(10, Math.round(20e6 / c.rawBytes));
    for (const [, fn] of DECODERS) rate(fn, c, iters * 3); // warm-up: let both reach optimized code
    const runs = DECODERS.map((): number[] => []);
    // Interleave decoders run by run so drift (GC, frequency scaling) hits both alike.
    for (let r = 0; r < RUNS; r++) DECODERS.forEach(([, fn], d) => runs[d]?.push(rate(fn, c, iters)));
    const [js, ours] = runs.map(median) as [number, number];
    console.log(
      `${c.name.padEnd(30)} ${c.body.length} → ${c.rawBytes} bytes  snappyjs ${js.toFixed(0).padStart(5)} MB/s  ours ${ours.toFixed(0).padStart(5)} MB/s  ×${(ours / js).toFixed(2)}`,
    );
  }
}

if (process.env['VITEST'] !== undefined) {
  const { bench, describe } = await import('vitest');
  for (const c of cases()) {
    describe(`snappy decompress: ${c.name} (${c.rawBytes} bytes)`, () => {
      for (const [name, fn] of DECODERS) bench(name, () => void fn(c.body));
    });
  }
} else {
  report();
}
