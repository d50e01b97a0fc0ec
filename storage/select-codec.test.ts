import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors.js';
import { decodeSelectResponse, encodeSelectResponse, type ChunkMsg, type SelectResponseMsg } from '../proto/index.js';
import { LabelStringCache, parseSelectResponse } from './client/select-response.js';
import { storageServiceDefinition } from './rpc.js';
import { encodeSelectResponseMsg, encodeSelectedSeries, type FlatSelectedSeries } from './select-codec.js';

const T0 = 1_700_000_000_000;
const TWO_63 = 2 ** 63;

const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const chunk = (minTimeMs: number, maxTimeMs: number, encoding = 2, data = bytes(16)): ChunkMsg => ({ minTimeMs, maxTimeMs, encoding, data });

/** Series sharing most labels with their neighbours, as sorted backend output does. */
function many(n: number): FlatSelectedSeries[] {
  return Array.from({ length: n }, (_, s) => ({
    labels: ['__name__', 'm', 'cpu', String(s % 8), 'env', 'prod', 'instance', `host-${s >> 3}.example:9100`, 'job', 'node', 'mode', 'idle'],
    chunks: [chunk(T0 + s, T0 + s + 15_000, 3, bytes(200, s))],
  }));
}

/** Named cases: the series to encode. */
const cases: { name: string; series: FlatSelectedSeries[] }[] = [
  { name: 'empty response', series: [] },
  { name: 'series without chunks', series: [{ labels: ['__name__', 'up'], chunks: [] }, { labels: ['__name__', 'up', 'a', 'b'], chunks: [] }] },
  { name: 'series without labels', series: [{ labels: [], chunks: [chunk(1, 2)] }] },
  { name: 'many series (scratch grows, labels copied from the previous series)', series: many(3000) },
  { name: 'large chunks', series: [{ labels: ['a', 'b'], chunks: [chunk(T0, T0 + 1, 1, bytes(1 << 20)), chunk(T0 + 2, T0 + 3, 2, bytes(70_000, 7))] }] },
  { name: 'every chunk encoding', series: [{ labels: ['a', 'b'], chunks: [0, 1, 2, 3].map((e) => chunk(e + 1, e + 2, e)) }] },
  { name: 'empty chunk data', series: [{ labels: ['a', 'b'], chunks: [chunk(5, 6, 2, new Uint8Array(0))] }] },
  {
    name: 'non-ASCII labels, short and long',
    series: [
      { labels: ['__name__', 'größe', 'ort', '東京', 'emoji', '🙂x', 'long', 'ü'.repeat(40)], chunks: [chunk(1, 2)] },
      { labels: ['__name__', 'größe', 'ort', '大阪', 'emoji', '🙂x', 'long', 'a'.repeat(40)], chunks: [] },
    ],
  },
  {
    name: 'empty label names and values',
    series: [
      { labels: ['', '', 'a', '', '', 'v'], chunks: [chunk(1, 2)] },
      { labels: ['', '', 'a', '', '', 'v'], chunks: [chunk(1, 2)] },
    ],
  },
  {
    // A label equal only by name, only by value, or at another position must not be copied.
    name: 'labels partly like the previous series',
    series: [
      { labels: ['a', 'x', 'b', 'y', 'c', 'z'], chunks: [] },
      { labels: ['a', 'y', 'c', 'y', 'b', 'z', 'd', 'w'], chunks: [] },
      { labels: ['a', 'y'], chunks: [] },
      { labels: ['a', 'y', 'c', 'y', 'b', 'z', 'd', 'w'], chunks: [] },
    ],
  },
  {
    name: 'times at the edges of int32, uint32, 2^53 and int64',
    series: [
      {
        labels: ['a', 'b'],
        chunks: [
          [0, 0], [-1, 1], [2 ** 31 - 1, 2 ** 31], [-(2 ** 31), -(2 ** 31) - 1], [2 ** 32 - 1, 2 ** 32], [2 ** 32 + 1, -(2 ** 32)],
          [-T0, T0], [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], [2 ** 53 + 2, -(2 ** 53) - 2],
          [-TWO_63, TWO_63 - 1024], [127, 128], [-128, 16383],
        ].map(([lo, hi]) => chunk(lo as number, hi as number)),
      },
    ],
  },
];

/** The message protobufjs gets for `series`, with every default-valued field absent. */
function sparseMsg(series: readonly FlatSelectedSeries[]): object {
  return {
    series: series.map((s) => {
      const labels: Record<string, string>[] = [];
      for (let i = 0; i < s.labels.length; i += 2) {
        const l: Record<string, string> = {};
        if (s.labels[i] !== '') l['name'] = s.labels[i] as string;
        if (s.labels[i + 1] !== '') l['value'] = s.labels[i + 1] as string;
        labels.push(l);
      }
      const chunks = s.chunks.map((c) => {
        const m: Record<string, unknown> = {};
        if (c.minTimeMs !== 0) m['minTimeMs'] = c.minTimeMs;
        if (c.maxTimeMs !== 0) m['maxTimeMs'] = c.maxTimeMs;
        if (c.encoding !== 0) m['encoding'] = c.encoding;
        if (c.data.byteLength !== 0) m['data'] = c.data;
        return m;
      });
      return { labels, chunks };
    }),
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

describe('encodeSelectedSeries', () => {
  it.each(cases)('$name: byte-identical to protobufjs with defaults absent', ({ series }) => {
    const ours = encodeSelectedSeries(series);
    expect(hex(ours)).toBe(hex(encodeSelectResponse(sparseMsg(series) as never)));
  });

  it.each(cases)('$name: protobufjs decodes the same message', ({ series }) => {
    const got = decodeSelectResponse(encodeSelectedSeries(series));
    expect(got.series.length).toBe(series.length);
    got.series.forEach((s, i) => {
      const want = series[i] as FlatSelectedSeries;
      expect(s.labels.flatMap((l) => [l.name, l.value])).toEqual(want.labels);
      // protobufjs reads int64 as an exact number here: every case value is a double.
      expect(s.chunks.map((c) => [c.minTimeMs, c.maxTimeMs, c.encoding, hex(c.data)])).toEqual(
        want.chunks.map((c) => [c.minTimeMs, c.maxTimeMs, c.encoding, hex(c.data)]),
      );
    });
  });

  it.each(cases)("$name: the client's reader gets the same series", ({ series }) => {
    const got = parseSelectResponse(encodeSelectedSeries(series), new LabelStringCache());
    expect(got.map((s) => s.labels)).toEqual(series.map((s) => s.labels));
    expect(got.map((s) => s.chunks.map((c) => [c.encoding, hex(c.data)]))).toEqual(series.map((s) => s.chunks.map((c) => [c.encoding, hex(c.data)])));
  });

  it('encodes a sub-range like the same series on their own (no label copied from outside it)', () => {
    const all = many(50);
    for (const [from, to] of [[0, 7], [7, 14], [49, 50], [10, 10]] as const) {
      expect(hex(encodeSelectedSeries(all, from, to))).toBe(hex(encodeSelectedSeries(all.slice(from, to))));
    }
    expect(encodeSelectedSeries(all, 10, 10).byteLength).toBe(0);
  });

  it('returns a Buffer of exactly the message, not a view into a larger one', () => {
    const b = encodeSelectedSeries(many(3));
    expect(Buffer.isBuffer(b)).toBe(true);
    expect(b.byteLength).toBe(encodeSelectResponse(sparseMsg(many(3)) as never).byteLength);
  });

  it.each([
    { name: 'fractional time', c: chunk(1.5, 2) },
    { name: 'NaN time', c: chunk(0, Number.NaN) },
    { name: 'time 2^63', c: chunk(TWO_63, 0) },
    { name: 'time below -2^63', c: chunk(-TWO_63 - 4096, 0) },
    { name: 'encoding beyond int32', c: chunk(1, 2, 2 ** 31) },
  ])('rejects a $name with storage-encode-out-of-range', ({ c }) => {
    expect(() => encodeSelectedSeries([{ labels: ['a', 'b'], chunks: [c] }])).toThrow(AppError);
    expect(() => encodeSelectedSeries([{ labels: ['a', 'b'], chunks: [c] }])).toThrow(expect.objectContaining({ code: 'storage-encode-out-of-range' }));
  });
});

describe('encodeSelectResponseMsg and the Select method definition', () => {
  const series = cases.find((c) => c.name === 'non-ASCII labels, short and long')!.series;
  const msg = {
    series: series.map((s) => ({
      labels: Array.from({ length: s.labels.length / 2 }, (_, i) => ({ name: s.labels[2 * i] as string, value: s.labels[2 * i + 1] as string })),
      chunks: s.chunks,
    })),
  };

  it('encodes a message object like its flat series', () => {
    expect(hex(encodeSelectResponseMsg(msg))).toBe(hex(encodeSelectedSeries(series)));
  });

  it('serializes message objects with the codec and passes encoded bytes through untouched', () => {
    const { responseSerialize, responseDeserialize } = storageServiceDefinition.Select;
    expect(hex(responseSerialize(msg))).toBe(hex(encodeSelectedSeries(series)));
    const pre = encodeSelectedSeries(many(2));
    const out = responseSerialize(pre);
    expect(out.buffer).toBe(pre.buffer);
    expect(out.byteOffset).toBe(pre.byteOffset);
    // Received messages are always decoded into objects.
    expect((responseDeserialize(out) as SelectResponseMsg).series.map((s) => s.labels.length)).toEqual([6, 6]);
  });
});
