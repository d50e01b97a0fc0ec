import { describe, expect, it } from 'vitest';
import { decodeWalRecord, encodeWalRecord } from './wal-record.js';

describe('wal record', () => {
  it('round-trips runs, timestamps and value words bit-exact', () => {
    const ts = Float64Array.from([1, 2, 3, -5, 1_700_000_000_000]);
    const words = Uint32Array.from([2, 0x7ff00000, 0, 0x3ff00000, 1, 0x7ff80000, 0, 0x80000000, 0xffffffff, 0xffffffff]);
    const buf = encodeWalRecord([7, 9, 7], [0, 2, 3], 5, ts, words);
    expect(buf.length).toBe(8 + 3 * 8 + 5 * 16);
    const rec = decodeWalRecord(buf);
    expect(Array.from(rec.runSeriesId)).toEqual([7, 9, 7]);
    expect(Array.from(rec.runStart)).toEqual([0, 2, 3, 5]);
    expect(Array.from(rec.ts)).toEqual(Array.from(ts));
    expect(Array.from(rec.words)).toEqual(Array.from(words));
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
  ])('$name throws wal-corrupt', ({ data }) => {
    expect(() => decodeWalRecord(data)).toThrow(expect.objectContaining({ code: 'wal-corrupt' }));
  });
});
