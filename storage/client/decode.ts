/**
 * Turns selected series (chunks as a backend or the Select RPC returns them) into decoded,
 * range-trimmed samples: one Float64Array pair per series, values bit-exact.
 */
import { AppError, ErrorKind } from '../../common/errors.js';
import type { Labels, SeriesSamples, TimeMs } from '../../common/types.js';
import { ChunkEncoding } from '../backend/backend.js';
import { decodeRawChunk, rawChunkSampleCount } from '../chunk/raw.js';
import { compactChunkSampleCount, decodeCompactChunk } from '../chunk/compact.js';
import { decodeXorChunk, xorChunkSampleCount } from '../chunk/xor.js';

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
    default:
      throw new AppError(ErrorKind.Internal, 'chunk-encoding-unknown', `unknown chunk encoding ${chunk.encoding}`);
  }
}

/** Decodes one chunk (encoding already checked by sampleCount) into ts/vs at `at`; returns its sample count. */
function decodeChunk(c: DecodableChunk, ts: Float64Array, vs: Float64Array, at: number): number {
  switch (c.encoding) {
    case ChunkEncoding.RAW:
      return decodeRawChunk(c.data, ts, vs, at);
    case ChunkEncoding.COMPACT:
      return decodeCompactChunk(c.data, ts, vs, at);
    default:
      return decodeXorChunk(c.data, ts, vs, at);
  }
}

/** Index of the first element of ts[0, n) that is ≥ t (ts ascending). */
function lowerBound(ts: Float64Array, n: number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element of ts[0, n) that is > t (ts ascending). */
function upperBound(ts: Float64Array, n: number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Decodes every series' chunks into one `tsMs`/`values` pair, keeps only samples with
 * startMs ≤ t ≤ endMs, and drops series left without samples. Order of the input is kept.
 * The returned arrays are views into buffers owned by the result (no sharing with the input).
 * Throws an internal AppError for an unknown encoding or a corrupt chunk.
 */
export function decodeSelectedSeries(series: readonly DecodableSeries[], startMs: TimeMs, endMs: TimeMs): SeriesSamples[] {
  const out: SeriesSamples[] = [];
  for (const s of series) {
    let total = 0;
    for (const c of s.chunks) total += sampleCount(c);
    if (total === 0) continue;
    const ts = new Float64Array(total);
    const vs = new Float64Array(total);
    let n = 0;
    for (const c of s.chunks) {
      n += decodeChunk(c, ts, vs, n);
    }
    const from = lowerBound(ts, n, startMs);
    const to = upperBound(ts, n, endMs);
    if (to <= from) continue;
    const whole = from === 0 && to === total;
    out.push({
      labels: flatLabels(s.labels),
      tsMs: whole ? ts : ts.subarray(from, to),
      values: whole ? vs : vs.subarray(from, to),
    });
  }
  return out;
}
