/**
 * Speed of the hand-written SelectResponse encoder (storage/select-codec.ts) against protobufjs
 * reflection (proto/index.ts) on the two message shapes queries produce:
 *   instant  1,000 series × 1 chunk of ~200 bytes, 6 labels each (one batch of an instant query)
 *   range    10 series × 30 chunks of ~300 bytes, 6 labels each (a range query over long series)
 * each measured twice: `encode`, the encoding alone (protobufjs from a ready message object);
 * `server step`, all the server does from the backend's series to bytes (protobufjs also needs the
 * message object with one `Label` per pair built first).
 *
 * Full report (medians of timed rounds after warm-up): build, then compile this file (the build
 * config skips benches), then run it:
 *   npx tsc -p tsconfig.json --noEmit false --outDir dist/bench && \
 *   node dist/bench/storage/select-codec.bench.js
 * Under `vitest bench` it registers the same cases as vitest benchmarks.
 */
import { encodeSelectResponse, type ChunkMsg, type LabelMsg, type SelectResponseMsg } from '../proto/index.js';
import { encodeSelectedSeries, type FlatSelectedSeries } from './select-codec.js';
import { runCodecPairs, type CodecPair } from './codec-bench-harness.js';

const T0 = 1_700_000_000_000;

/** Deterministic pseudo-random chunk bytes (content does not matter to either encoder). */
function chunkData(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = seed;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = x & 0xff;
  }
  return out;
}

function chunk(seed: number, len: number, k: number): ChunkMsg {
  // Sealed chunks of 120 samples at 15 s: 30 min each.
  return { minTimeMs: T0 + k * 1_800_000, maxTimeMs: T0 + k * 1_800_000 + 1_785_000, encoding: 3, data: chunkData(len, seed) };
}

/** Label strings are interned, as the backend's series index does: equal labels, same string. */
const interned = new Map<string, string>();
const intern = (s: string): string => interned.get(s) ?? (interned.set(s, s), s);

function labels(s: number): string[] {
  return [
    '__name__', 'node_cpu_seconds_total',
    'cpu', String(s % 16),
    'env', 'production',
    'instance', `node-${s >> 4}.example.internal:9100`,
    'job', 'node-exporter',
    'mode', ['idle', 'user', 'system', 'iowait'][s % 4] as string,
  ].map(intern);
}

/** The backend's answer: series with flat labels, as the server gets them. */
function instantSeries(): FlatSelectedSeries[] {
  return Array.from({ length: 1000 }, (_, s) => ({ labels: labels(s), chunks: [chunk(s, 190 + (s % 20), 0)] }));
}

function rangeSeries(): FlatSelectedSeries[] {
  return Array.from({ length: 10 }, (_, s) => ({
    labels: labels(s),
    chunks: Array.from({ length: 30 }, (_c, k) => chunk(s * 100 + k, 290 + (k % 20), k)),
  }));
}

/** What the server built for protobufjs: a message with one `Label` object per pair. */
function toMsg(series: readonly FlatSelectedSeries[]): SelectResponseMsg {
  return {
    series: series.map((s) => {
      const ls: LabelMsg[] = [];
      for (let i = 0; i < s.labels.length; i += 2) ls.push({ name: s.labels[i] as string, value: s.labels[i + 1] as string });
      return { labels: ls, chunks: s.chunks };
    }),
  };
}

function pairs(): CodecPair[] {
  const out: CodecPair[] = [];
  for (const [name, series] of [['instant', instantSeries()], ['range', rangeSeries()]] as const) {
    const msg = toMsg(series);
    // Encoding alone: protobufjs from the message object, ours from the flat series.
    out.push({ name: `${name} encode`, protobufjs: () => encodeSelectResponse(msg), ours: () => encodeSelectedSeries(series) });
    // The server's whole step from backend series to bytes (before: Label objects + protobufjs).
    out.push({ name: `${name} server step`, protobufjs: () => encodeSelectResponse(toMsg(series)), ours: () => encodeSelectedSeries(series) });
  }
  return out;
}

if (process.env['VITEST'] === undefined) console.log(`sizes: instant ${encodeSelectedSeries(instantSeries()).length} B, range ${encodeSelectedSeries(rangeSeries()).length} B`);
await runCodecPairs('SelectResponse encode', pairs(), { warm: 500, iters: 50 });
