/**
 * RAW chunk codec (`Chunk.Encoding.RAW` in proto/storage/v1/storage.proto): no compression, used
 * by the memory backend and wherever a chunk is cheaper to ship than to encode.
 *
 * Layout for n samples (16·n bytes, no header; n is implied by the length):
 *
 *   byte 0            8·n                16·n
 *        | ts[0] … ts[n-1] | v[0] … v[n-1] |
 *
 * ts: little-endian float64 milliseconds (whole numbers); v: little-endian float64, bit-exact.
 * Samples move only by byte copies, so NaN payloads (the staleness marker) survive.
 */
import { AppError, ErrorKind } from '../../common/errors.js';

/** Whether this host stores typed arrays little-endian (true on every platform Node ships for). */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Byte view of elements [from, to) of a Float64Array, without copying. */
function bytesOf(arr: Float64Array, from: number, to: number): Uint8Array {
  return new Uint8Array(arr.buffer, arr.byteOffset + from * 8, (to - from) * 8);
}

/** Copies n float64s byte by byte, reversing each 8-byte group (big-endian hosts only). */
function copySwapped(src: Uint8Array, dst: Uint8Array, n: number): void {
  for (let i = 0; i < n * 8; i += 8) {
    for (let b = 0; b < 8; b++) dst[i + b] = src[i + 7 - b] as number;
  }
}

/**
 * Encodes samples [from, to) of `tsMs`/`values` as a RAW chunk. Returns a new buffer of
 * 16·(to − from) bytes that the caller owns.
 */
export function encodeRawChunk(tsMs: Float64Array, values: Float64Array, from: number, to: number): Uint8Array {
  const n = to - from;
  if (n < 0 || from < 0 || to > tsMs.length || to > values.length) {
    throw new AppError(ErrorKind.Internal, 'chunk-range-invalid', `raw chunk range [${from}, ${to}) outside arrays`);
  }
  const out = new Uint8Array(n * 16);
  if (HOST_LE) {
    out.set(bytesOf(tsMs, from, to), 0);
    out.set(bytesOf(values, from, to), n * 8);
  } else {
    copySwapped(bytesOf(tsMs, from, to), out.subarray(0, n * 8), n);
    copySwapped(bytesOf(values, from, to), out.subarray(n * 8), n);
  }
  return out;
}

/** Number of samples in a RAW chunk; throws an internal AppError when the length is not a multiple of 16. */
export function rawChunkSampleCount(data: Uint8Array): number {
  if (data.byteLength % 16 !== 0) {
    throw new AppError(ErrorKind.Internal, 'chunk-corrupt', `raw chunk of ${data.byteLength} bytes is not a multiple of 16`);
  }
  return data.byteLength / 16;
}

/**
 * Decodes a RAW chunk into `tsOut`/`valuesOut` starting at element `outOffset` (earlier elements
 * are left untouched, so callers can append several chunks into one buffer). Returns the number of
 * samples written. The output arrays must have room for `rawChunkSampleCount(data)` more elements.
 * `data` may sit at any byte offset (it is copied bytewise, never viewed as float64).
 */
export function decodeRawChunk(data: Uint8Array, tsOut: Float64Array, valuesOut: Float64Array, outOffset: number): number {
  const n = rawChunkSampleCount(data);
  if (outOffset < 0 || outOffset + n > tsOut.length || outOffset + n > valuesOut.length) {
    throw new AppError(ErrorKind.Internal, 'chunk-range-invalid', `raw chunk of ${n} samples does not fit at offset ${outOffset}`);
  }
  const tsBytes = data.subarray(0, n * 8);
  const vBytes = data.subarray(n * 8, n * 16);
  if (HOST_LE) {
    bytesOf(tsOut, outOffset, outOffset + n).set(tsBytes);
    bytesOf(valuesOut, outOffset, outOffset + n).set(vBytes);
  } else {
    copySwapped(tsBytes, bytesOf(tsOut, outOffset, outOffset + n), n);
    copySwapped(vBytes, bytesOf(valuesOut, outOffset, outOffset + n), n);
  }
  return n;
}
