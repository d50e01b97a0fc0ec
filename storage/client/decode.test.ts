import { describe, expect, it } from 'vitest';
import { setStaleNaNAt, wordsOf } from '../../common/types.js';
import { ChunkEncoding } from '../backend/backend.js';
import { encodeRawChunk } from '../chunk/raw.js';
import { XorEncoder } from '../chunk/xor.js';
import { decodeSelectedSeries, flatLabels, type DecodableChunk } from './decode.js';

function raw(ts: number[], vs: number[]): DecodableChunk {
  return { encoding: ChunkEncoding.RAW, data: encodeRawChunk(Float64Array.from(ts), Float64Array.from(vs), 0, ts.length) };
}

describe('decodeSelectedSeries', () => {
  const chunks = [raw([10, 20, 30], [1, 2, 3]), raw([40, 50], [4, 5])];

  it.each([
    { name: 'whole range', start: 0, end: 100, ts: [10, 20, 30, 40, 50] },
    { name: 'inclusive bounds', start: 20, end: 40, ts: [20, 30, 40] },
    { name: 'bounds between samples', start: 21, end: 49, ts: [30, 40] },
    { name: 'only the second chunk', start: 35, end: 60, ts: [40, 50] },
    { name: 'single point', start: 50, end: 50, ts: [50] },
  ])('trims to [start, end]: $name', ({ start, end, ts }) => {
    const [got] = decodeSelectedSeries([{ labels: ['a', '1'], chunks }], start, end);
    expect(Array.from(got!.tsMs)).toEqual(ts);
    expect(Array.from(got!.values)).toEqual(ts.map((t) => t / 10));
  });

  it('drops series left empty and keeps order', () => {
    const got = decodeSelectedSeries(
      [
        { labels: ['a', '3'], chunks: [raw([5], [1])] },
        { labels: ['a', '1'], chunks: [raw([15], [1])] },
        { labels: ['a', '2'], chunks: [] },
        { labels: [{ name: 'a', value: '0' }], chunks: [raw([12, 13], [1, 2])] },
      ],
      10,
      20,
    );
    expect(got.map((s) => s.labels)).toEqual([
      ['a', '1'],
      ['a', '0'],
    ]);
  });

  it('keeps the stale marker and infinities bit-exact', () => {
    const vs = Float64Array.from([Infinity, 0, -Infinity]);
    setStaleNaNAt(vs, 1);
    const data = encodeRawChunk(Float64Array.from([1, 2, 3]), vs, 0, 3);
    const [got] = decodeSelectedSeries([{ labels: [], chunks: [{ encoding: ChunkEncoding.RAW, data }] }], 0, 3);
    expect(Array.from(wordsOf(got!.values))).toEqual(Array.from(wordsOf(vs)));
  });

  it('decodes XOR chunks after RAW ones, bit-exact', () => {
    const vs = Float64Array.from([0.5, 0, Infinity, -Infinity, 7]);
    setStaleNaNAt(vs, 1);
    const words = wordsOf(vs);
    const enc = new XorEncoder();
    for (let i = 0; i < 5; i++) enc.append(100 + i * 15, words, i);
    const chunks = [raw([10, 20], [1, 2]), { encoding: ChunkEncoding.XOR, data: enc.bytes() }];
    const [got] = decodeSelectedSeries([{ labels: ['a', '1'], chunks }], 20, 145);
    expect(Array.from(got!.tsMs)).toEqual([20, 100, 115, 130, 145]);
    expect(Array.from(wordsOf(got!.values))).toEqual([...wordsOf(Float64Array.from([2])), ...words.subarray(0, 8)]);
  });

  it('rejects an unknown encoding', () => {
    expect(() => decodeSelectedSeries([{ labels: [], chunks: [{ encoding: 9, data: new Uint8Array(16) }] }], 0, 1)).toThrow(
      expect.objectContaining({ code: 'chunk-encoding-unknown' }),
    );
  });

  it.each([
    ['flat', ['a', '1', 'b', '2'], ['a', '1', 'b', '2']],
    ['pairs', [{ name: 'a', value: '1' }, { name: 'b', value: '2' }], ['a', '1', 'b', '2']],
    ['empty', [], []],
  ] as const)('flatLabels %s', (_n, input, want) => {
    expect(flatLabels(input)).toEqual(want);
  });
});
