import { describe, expect, it } from 'vitest';
import { setStaleNaNAt, wordsOf } from '../../common/types.js';
import { ChunkEncoding } from '../backend/backend.js';
import { encodeRawChunk } from '../chunk/raw.js';
import { encodeCompactChunk } from '../chunk/compact.js';
import { XorEncoder } from '../chunk/xor.js';
import { decodeSelectedSeries, flatLabels, SelectedSeriesDecoder, type DecodableChunk, type DecodableSeries } from './decode.js';

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

  it('decodes COMPACT chunks trimmed to the range, bit-exact, before an XOR head', () => {
    const ts = Float64Array.from([0, 15, 30, 45, 60, 75]);
    const vs = Float64Array.from([1, 2, 3, 4, 0, 6]);
    setStaleNaNAt(vs, 4);
    const compact = { encoding: ChunkEncoding.COMPACT, data: encodeCompactChunk(ts, vs, 0, 6) };
    const enc = new XorEncoder();
    enc.append(90, wordsOf(Float64Array.from([7])), 0);
    const [got] = decodeSelectedSeries([{ labels: ['a', '1'], chunks: [compact, { encoding: ChunkEncoding.XOR, data: enc.bytes() }] }], 30, 90);
    expect(Array.from(got!.tsMs)).toEqual([30, 45, 60, 75, 90]);
    expect(Array.from(wordsOf(got!.values))).toEqual([...wordsOf(vs).subarray(4, 12), ...wordsOf(Float64Array.from([7]))]);
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

describe('SelectedSeriesDecoder', () => {
  // Enough series and samples to fill several slabs; some series have nothing in range.
  const series: DecodableSeries[] = [];
  const want: { labels: string[]; ts: number[]; words: number[] }[] = [];
  const start = 2_000;
  const end = 9_000;
  for (let k = 0; k < 600; k++) {
    const chunks: DecodableChunk[] = [];
    const ts: number[] = [];
    const words: number[] = [];
    for (let c = 0; c < 3; c++) {
      const enc = new XorEncoder();
      const vs = Float64Array.from({ length: 40 }, (_, i) => (k % 5 === 0 && i === 3 ? NaN : k * 100 + c * 40 + i));
      if (k % 7 === 0) setStaleNaNAt(vs, 5);
      const w = wordsOf(vs);
      for (let i = 0; i < 40; i++) {
        const t = (k % 11 === 0 ? 20_000 : 0) + c * 4_000 + i * 100;
        enc.append(t, w, i);
        if (t >= start && t <= end) {
          ts.push(t);
          words.push(w[2 * i]!, w[2 * i + 1]!);
        }
      }
      chunks.push({ encoding: ChunkEncoding.XOR, data: enc.bytes() });
    }
    series.push({ labels: ['k', String(k)], chunks });
    if (ts.length > 0) want.push({ labels: ['k', String(k)], ts, words });
  }

  it.each([1, 7, 600])('decodes added batches of %i series like one call, bit-exact', (per) => {
    const d = new SelectedSeriesDecoder(start, end);
    for (let i = 0; i < series.length; i += per) d.add(series.slice(i, i + per));
    expect(d.out.map((s) => ({ labels: s.labels, ts: Array.from(s.tsMs), words: Array.from(wordsOf(s.values)) }))).toEqual(want);
    expect(decodeSelectedSeries(series, start, end).map((s) => Array.from(s.tsMs))).toEqual(want.map((w) => w.ts));
  });
});
