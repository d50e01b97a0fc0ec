import { describe, expect, it } from 'vitest';
import { ChunkEncoding, type EncodedChunk } from '../backend.js';
import { decodeXorList, encodeXorList } from './open-row.js';

const chunk = (minTimeMs: number, maxTimeMs: number, bytes: number[]): EncodedChunk => ({ minTimeMs, maxTimeMs, encoding: ChunkEncoding.XOR, data: Uint8Array.from(bytes) });

describe('XOR-list open rows', () => {
  it('round-trips chunks with their spans, bytes as they were', () => {
    const chunks = [chunk(-5, 1_700_000_000_123, [0, 3, 255, 7]), chunk(1_700_000_000_124, 1_700_000_000_124, []), chunk(2e12, 2e12 + 1, [9])];
    const back = decodeXorList(encodeXorList(chunks));
    expect(back.map((c) => [c.minTimeMs, c.maxTimeMs, c.encoding, [...c.data]])).toEqual(chunks.map((c) => [c.minTimeMs, c.maxTimeMs, ChunkEncoding.XOR, [...c.data]]));
    expect(decodeXorList(encodeXorList([]))).toEqual([]);
  });

  it.each([
    ['a cut header', (b: Buffer) => b.subarray(0, 10)],
    ['a chunk running past the row', (b: Buffer) => b.subarray(0, b.length - 1)],
    ['a span ending before it starts', (b: Buffer) => (b.writeDoubleLE(-1, 8), b)],
    ['a NaN span', (b: Buffer) => (b.writeDoubleLE(NaN, 0), b)],
  ])('rejects %s as chunk-corrupt', (_, damage) => {
    const blob = damage(encodeXorList([chunk(0, 10, [1, 2, 3])]));
    expect(() => decodeXorList(blob)).toThrow(expect.objectContaining({ code: 'chunk-corrupt' }));
  });
});
