import { describe, expect, it } from 'vitest';
import { decodeWalRecord, encodeWalRecord } from './wal-record.js';

describe('wal record', () => {
  it('round-trips runs, timestamps and value words bit-exact', () => {
    const ts = Float64Array.from([1, 2, 3, -5, 1_700_000_000_000]);
    const words = Uint32Array.from([2, 0x7ff00000, 0, 0x3ff00000, 1, 0x7ff80000, 0, 0x80000000, 0xffffffff, 0xffffffff]);
    const buf = encodeWalRecord([7, 9, 7], [0, 2, 3], 5, ts, words);
    // header 4 + 1 + 8; runs: id delta + n = 2 bytes each; times: 1,1 | 1 | 1 (−8) , 6 (+1.7e12); values 8 each
    expect(buf.length).toBe(13 + 3 * 2 + 1 + 1 + 1 + 1 + 6 + 5 * 8);
    const rec = decodeWalRecord(buf);
    expect(Array.from(rec.runSeriesId)).toEqual([7, 9, 7]);
    expect(Array.from(rec.runStart)).toEqual([0, 2, 3, 5]);
    expect(Array.from(rec.ts)).toEqual(Array.from(ts));
    expect(Array.from(rec.words)).toEqual(Array.from(words));
  });

  it.each([
    { name: 'extreme timestamps (escaped deltas)', ts: [-(2 ** 53) + 1, 0, 2 ** 53 - 1], ids: [1, 2 ** 32 - 1, 0] },
    { name: 'the live shape: one sample per series, one timestamp', ts: [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_000], ids: [5, 6, 7] },
    { name: 'one run, jittered steps', ts: [1_700_000_000_000, 1_700_000_015_001, 1_700_000_029_999], ids: [3] },
  ])('round-trips $name', ({ ts, ids }) => {
    const t = Float64Array.from(ts);
    const words = Uint32Array.from(ts.flatMap((_, i) => [i, 0x7ff00000 + i]));
    const starts = ids.map((_, i) => i);
    const rec = decodeWalRecord(encodeWalRecord(ids, starts, ts.length, t, words));
    expect(Array.from(rec.runSeriesId)).toEqual(ids);
    expect(Array.from(rec.ts)).toEqual(ts);
    expect(Array.from(rec.words)).toEqual(Array.from(words));
  });

  it('still decodes version 1 records', () => {
    const v1 = Buffer.alloc(8 + 8 + 16);
    v1.writeUInt32LE(1, 0);
    v1.writeUInt32LE(1, 4);
    v1.writeUInt32LE(42, 8);
    v1.writeUInt32LE(1, 12);
    v1.writeDoubleLE(1234, 16);
    v1.writeUInt32LE(2, 24);
    v1.writeUInt32LE(0x7ff00000, 28);
    const rec = decodeWalRecord(v1);
    expect([Array.from(rec.runSeriesId), Array.from(rec.ts), Array.from(rec.words)]).toEqual([[42], [1234], [2, 0x7ff00000]]);
  });

  it('encodes an empty record', () => {
    const rec = decodeWalRecord(encodeWalRecord([], [], 0, new Float64Array(0), new Uint32Array(0)));
    expect(rec.ts.length).toBe(0);
  });

  it.each([
    { name: 'too short', data: new Uint8Array(3) },
    { name: 'bad version', data: Uint8Array.from([9, 0, 0, 0, 0, 0, 0, 0]) },
    { name: 'run count beyond data', data: Uint8Array.from([1, 0, 0, 0, 5, 0, 0, 0]) },
    { name: 'sample count beyond data', data: Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 255, 255, 255, 255]) },
    { name: 'trailing bytes', data: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0]) },
    { name: 'v2 truncated header', data: Uint8Array.from([2, 0, 0, 0, 1, 0, 0, 0]) },
    { name: 'v2 run count beyond data', data: Uint8Array.from([2, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0]) },
    { name: 'v2 sample count beyond data', data: Uint8Array.from([2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 50]) },
    { name: 'v2 truncated values', data: Uint8Array.from([2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]) },
    { name: 'v2 trailing bytes', data: Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]) },
  ])('$name throws wal-corrupt', ({ data }) => {
    expect(() => decodeWalRecord(data)).toThrow(expect.objectContaining({ code: 'wal-corrupt' }));
  });
});
