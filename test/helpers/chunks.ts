/**
 * Decoding of the chunks a SQLite backend select returns (open and cut chunks are XOR, persisted
 * rows COMPACT, newest-only answers RAW), for the storage tests.
 */
import { expect } from 'vitest';
import { type Labels, type SampleBatch, wordsOf } from '../../common/types.js';
import { ChunkEncoding, type EncodedChunk, type SelectedSeries } from '../../storage/backend/backend.js';
import { compactChunkSampleCount, decodeCompactChunk } from '../../storage/chunk/compact.js';
import { decodeRawChunk, rawChunkSampleCount } from '../../storage/chunk/raw.js';
import { decodeXorChunk, decodeXorResumeRange, xorChunkSampleCount, xorResumeSampleCount } from '../../storage/chunk/xor.js';

/** Samples in a chunk of any encoding. */
export function chunkSampleCount(c: EncodedChunk): number {
  if (c.encoding === ChunkEncoding.RAW) return rawChunkSampleCount(c.data);
  if (c.encoding === ChunkEncoding.XOR_RESUME) return xorResumeSampleCount(c.data);
  return c.encoding === ChunkEncoding.COMPACT ? compactChunkSampleCount(c.data) : xorChunkSampleCount(c.data);
}

/** Decodes a chunk of any encoding into ts/vs at `at`; returns its sample count. */
export function decodeChunk(c: EncodedChunk, ts: Float64Array, vs: Float64Array, at: number): number {
  if (c.encoding === ChunkEncoding.RAW) return decodeRawChunk(c.data, ts, vs, at);
  if (c.encoding === ChunkEncoding.XOR_RESUME) return decodeXorResumeRange(c.data, -Infinity, Infinity, ts, vs, at);
  return c.encoding === ChunkEncoding.COMPACT ? decodeCompactChunk(c.data, ts, vs, at) : decodeXorChunk(c.data, ts, vs, at);
}

/**
 * Decodes every chunk of a selected series into flat arrays, asserting that chunks are of a known
 * encoding, in time order, and that each chunk's bounds are its first and last sample.
 */
export function decodeSelected(s: SelectedSeries): { ts: number[]; words: number[] } {
  const n = s.chunks.reduce((acc, c) => acc + chunkSampleCount(c), 0);
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  let off = 0;
  let prevMax = -Infinity;
  for (const c of s.chunks) {
    expect([ChunkEncoding.RAW, ChunkEncoding.XOR, ChunkEncoding.COMPACT, ChunkEncoding.XOR_RESUME]).toContain(c.encoding);
    expect(c.minTimeMs).toBeGreaterThan(prevMax);
    const got = decodeChunk(c, ts, vs, off);
    expect(ts[off]).toBe(c.minTimeMs);
    expect(ts[off + got - 1]).toBe(c.maxTimeMs);
    prevMax = c.maxTimeMs;
    off += got;
  }
  return { ts: Array.from(ts), words: Array.from(wordsOf(vs)) };
}

/** A sample value for tests: a number, or its raw [hi, lo] 32-bit words (so NaN payloads are explicit). */
export type TestValue = number | readonly [number, number];

/** A Float64Array from numbers and/or raw [hi, lo] 32-bit words. */
export function vals(list: readonly TestValue[]): Float64Array {
  const out = new Float64Array(list.length);
  const w = wordsOf(out);
  list.forEach((v, i) => {
    if (typeof v === 'number') out[i] = v;
    else {
      w[2 * i + 1] = v[0];
      w[2 * i] = v[1];
    }
  });
  return out;
}

/** A SampleBatch from [labels, timestamps, values] triples (values as for `vals`). */
export function sampleBatch(...series: [Labels, readonly number[], readonly TestValue[]][]): SampleBatch {
  const sampleStart = new Uint32Array(series.length + 1);
  let k = 0;
  series.forEach(([, ts], i) => {
    sampleStart[i] = k;
    k += ts.length;
  });
  sampleStart[series.length] = k;
  const tsMs = Float64Array.from(series.flatMap(([, ts]) => ts));
  const values = vals(series.flatMap(([, ts, vs]) => ts.map((_, j) => vs[j] as TestValue)));
  return { series: series.map((s) => s[0]), sampleStart, tsMs, values };
}
