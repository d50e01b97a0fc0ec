/**
 * Turns selected series (chunks as a backend or the Select RPC returns them) into decoded,
 * range-trimmed samples: one Float64Array pair per series, values bit-exact.
 */
import { AppError, ErrorKind } from '../../common/errors.js';
import type { Labels, SampleBufferLease, SeriesSamples, TimeMs } from '../../common/types.js';
import { ChunkEncoding } from '../backend/backend.js';
import { decodeRawChunk, rawChunkSampleCount } from '../chunk/raw.js';
import { compactChunkSampleCount, decodeCompactChunk } from '../chunk/compact.js';
import { decodeXorChunkRange, decodeXorResumeRange, xorChunkSampleCount, xorResumeSampleCount } from '../chunk/xor.js';
import { POOLED_BUFFER_SAMPLES } from './sample-buffers.js';

/** One label pair as the proto message `Label` carries it. */
export interface LabelPair {
  readonly name: string;
  readonly value: string;
}

/** The part of a chunk that decoding needs (backend `EncodedChunk` and proto `Chunk` both fit). */
export interface DecodableChunk {
  readonly encoding: number;
  readonly data: Uint8Array;
}

/**
 * A series to decode: labels either flat (`Labels`, as backends return) or as `{name, value}`
 * pairs (the proto form); chunks in time order, not overlapping.
 */
export interface DecodableSeries {
  readonly labels: Labels | readonly LabelPair[];
  readonly chunks: readonly DecodableChunk[];
}

/** Flat Labels from either label form. */
export function flatLabels(labels: Labels | readonly LabelPair[]): Labels {
  if (labels.length === 0 || typeof labels[0] === 'string') return labels as Labels;
  const pairs = labels as readonly LabelPair[];
  const out = new Array<string>(pairs.length * 2);
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i] as LabelPair;
    out[2 * i] = p.name;
    out[2 * i + 1] = p.value;
  }
  return out;
}

function sampleCount(chunk: DecodableChunk): number {
  switch (chunk.encoding) {
    case ChunkEncoding.RAW:
      return rawChunkSampleCount(chunk.data);
    case ChunkEncoding.XOR:
      return xorChunkSampleCount(chunk.data);
    case ChunkEncoding.COMPACT:
      return compactChunkSampleCount(chunk.data);
    case ChunkEncoding.XOR_RESUME:
      return xorResumeSampleCount(chunk.data);
    default:
      throw new AppError(ErrorKind.Internal, 'chunk-encoding-unknown', `unknown chunk encoding ${chunk.encoding}`);
  }
}

/** Index of the first element of ts[lo, hi) that is ≥ t (ts ascending). */
function lowerBound(ts: Float64Array, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element of ts[lo, hi) that is > t (ts ascending). */
function upperBound(ts: Float64Array, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Decodes the samples of one chunk with startMs ≤ t ≤ endMs into the outputs at `off` (room for
 * every sample of the chunk is required) and returns how many were written.
 */
function decodeChunkRange(c: DecodableChunk, startMs: number, endMs: number, ts: Float64Array, vs: Float64Array, off: number): number {
  if (c.encoding === ChunkEncoding.XOR) return decodeXorChunkRange(c.data, startMs, endMs, ts, vs, off);
  if (c.encoding === ChunkEncoding.XOR_RESUME) return decodeXorResumeRange(c.data, startMs, endMs, ts, vs, off);
  // RAW and COMPACT: decode whole, then keep the in-range run (samples ascending).
  let n: number;
  if (c.encoding === ChunkEncoding.COMPACT) n = decodeCompactChunk(c.data, ts, vs, off);
  else if (c.encoding === ChunkEncoding.RAW) n = decodeRawChunk(c.data, ts, vs, off);
  else return sampleCount(c); // throws chunk-encoding-unknown
  const from = lowerBound(ts, off, off + n, startMs);
  const to = upperBound(ts, from, off + n, endMs);
  if (from > off && to > from) {
    ts.copyWithin(off, from, to);
    // Bit-exact: move the values as bytes (copyWithin on Float64Array copies raw bytes too).
    vs.copyWithin(off, from, to);
  }
  return to > from ? to - from : 0;
}

/**
 * Smallest and largest slab, samples: small selects stay cheap, big ones allocate rarely. The
 * largest is the pooled buffer size, so full-size slabs of a lease can go back to the pool.
 */
const MIN_SLAB = 1024;
const MAX_SLAB = POOLED_BUFFER_SAMPLES;

/**
 * Decodes selected series incrementally (batch by batch as a Select stream delivers them) into
 * trimmed SeriesSamples. Samples of many series share one slab pair of Float64Arrays, each series a
 * view, so a select of thousands of series allocates a few buffers instead of two per series. With
 * a lease (SelectHints.buffers) the slabs are the lease's pooled buffers instead of new arrays.
 */
export class SelectedSeriesDecoder {
  /** Decoded series, in the order they were added; series without samples in range are dropped. */
  readonly out: SeriesSamples[] = [];
  private _ts: Float64Array = new Float64Array(0);
  private _vs: Float64Array = new Float64Array(0);
  private _used = 0;
  private _nextSlab = MIN_SLAB;

  constructor(
    private readonly _startMs: TimeMs,
    private readonly _endMs: TimeMs,
    private readonly _buffers?: SampleBufferLease,
  ) {}

  /** Decodes and appends `series`. Throws an internal AppError for an unknown encoding or a corrupt chunk. */
  add(series: readonly DecodableSeries[]): void {
    const startMs = this._startMs;
    const endMs = this._endMs;
    for (const s of series) {
      const chunks = s.chunks;
      let total = 0;
      for (let i = 0; i < chunks.length; i++) total += sampleCount(chunks[i] as DecodableChunk);
      if (total === 0) continue;
      if (this._ts.length - this._used < total) {
        const size = Math.max(total, this._nextSlab);
        this._nextSlab = Math.min(MAX_SLAB, this._nextSlab * 2);
        if (this._buffers !== undefined) {
          const b = this._buffers.take(size);
          this._ts = b.ts;
          this._vs = b.values;
          // Given a pooled (full-size) pair, later new slabs are full-size too, so they can be pooled.
          if (b.ts.length > this._nextSlab) this._nextSlab = Math.min(MAX_SLAB, b.ts.length);
        } else {
          this._ts = new Float64Array(size);
          this._vs = new Float64Array(size);
        }
        this._used = 0;
      }
      const ts = this._ts;
      const vs = this._vs;
      const base = this._used;
      let n = base;
      for (let i = 0; i < chunks.length; i++) n += decodeChunkRange(chunks[i] as DecodableChunk, startMs, endMs, ts, vs, n);
      if (n === base) continue;
      this._used = n;
      this.out.push({ labels: flatLabels(s.labels), tsMs: ts.subarray(base, n), values: vs.subarray(base, n) });
    }
  }
}

/**
 * Decodes every series' chunks into one `tsMs`/`values` pair, keeps only samples with
 * startMs ≤ t ≤ endMs, and drops series left without samples. Order of the input is kept.
 * Chunks of a series must be in time order and not overlap. The returned arrays are views into
 * buffers owned by the result (shared between its series, never with the input).
 * Throws an internal AppError for an unknown encoding or a corrupt chunk.
 */
export function decodeSelectedSeries(series: readonly DecodableSeries[], startMs: TimeMs, endMs: TimeMs, buffers?: SampleBufferLease): SeriesSamples[] {
  const d = new SelectedSeriesDecoder(startMs, endMs, buffers);
  d.add(series);
  return d.out;
}
