import { describe, expect, it } from 'vitest';
import { setStaleNaNAt, wordsOf } from '../../common/types.js';
import { decodeRawChunk, encodeRawChunk, rawChunkSampleCount } from './raw.js';

function values(...vs: number[]): Float64Array {
  return Float64Array.from(vs);
}

describe('raw chunk', () => {
  const ts = values(1000, 2000, 3000, 4000, 5000);
  const vs = values(1.5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, -0);
  setStaleNaNAt(vs, 3);

  it.each([
    ['all', 0, 5],
    ['middle', 1, 4],
    ['one', 3, 4],
    ['empty', 2, 2],
  ])('round trips %s [%i, %i) bit-exact into a prefixed buffer', (_name, from, to) => {
    const data = encodeRawChunk(ts, vs, from, to);
    expect(data.byteLength).toBe((to - from) * 16);
    expect(rawChunkSampleCount(data)).toBe(to - from);
    const tsOut = new Float64Array(2 + to - from).fill(7);
    const vsOut = new Float64Array(2 + to - from).fill(7);
    expect(decodeRawChunk(data, tsOut, vsOut, 2)).toBe(to - from);
    expect(Array.from(tsOut.subarray(0, 2))).toEqual([7, 7]);
    expect(Array.from(tsOut.subarray(2))).toEqual(Array.from(ts.subarray(from, to)));
    expect(Array.from(wordsOf(vsOut.subarray(2)))).toEqual(Array.from(wordsOf(vs.subarray(from, to))));
  });

  it('lays out little-endian timestamps then values', () => {
    const data = encodeRawChunk(values(1), values(2), 0, 1);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    expect(dv.getFloat64(0, true)).toBe(1);
    expect(dv.getFloat64(8, true)).toBe(2);
  });

  it('decodes from an unaligned byte offset', () => {
    const data = encodeRawChunk(ts, vs, 0, 5);
    const shifted = new Uint8Array(data.byteLength + 3);
    shifted.set(data, 3);
    const tsOut = new Float64Array(5);
    const vsOut = new Float64Array(5);
    decodeRawChunk(shifted.subarray(3), tsOut, vsOut, 0);
    expect(Array.from(tsOut)).toEqual(Array.from(ts));
    expect(Array.from(wordsOf(vsOut))).toEqual(Array.from(wordsOf(vs)));
  });

  it.each([
    ['length not a multiple of 16', () => rawChunkSampleCount(new Uint8Array(15)), 'chunk-corrupt'],
    ['output too small', () => decodeRawChunk(encodeRawChunk(ts, vs, 0, 3), new Float64Array(2), new Float64Array(2), 0), 'chunk-range-invalid'],
    ['range past the arrays', () => encodeRawChunk(ts, vs, 0, 6), 'chunk-range-invalid'],
  ])('rejects %s', (_name, fn, code) => {
    expect(fn).toThrow(expect.objectContaining({ code }));
  });
});
