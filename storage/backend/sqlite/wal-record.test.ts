import { describe, expect, it } from 'vitest';
import { decodeWalRecord, encodeWalRecord } from './wal-record.js';

describe('wal record', () => {
  it('round-trips runs, timestamps and value words bit-exact', () => {
    const ts = Float64Array.from([1, 2, 3, -5, 1_700_000_000_000]);
    const words = Uint32Array.from([2, 0x7ff00000, 0, 0x3ff00000, 1, 0x7ff80000, 0, 0x80000000, 0xffffffff, 0xffffffff]);
    const buf = encodeWalRecord([7, 9, 7], [0, 2, 3], 5, ts, words);
    // header 4 + 1 + 8; runs: id delta + n = 2 bytes each; times (delta of deltas): 1, 1 | 1 | 1, 6 (+1.7e12);
    // values: a run's first raw (8), the others XOR'd with the previous one (here no zero bytes: 1 + 8)
    expect(buf.length).toBe(13 + 3 * 2 + 1 + 1 + 1 + 1 + 6 + (8 + 9) + 8 + (8 + 9));
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

  it("packs a batch sender's runs (regular steps, slowly moving values) into a few bytes per sample", () => {
    // 50 series × 40 samples at 15 s: a counter, a gauge with 2 decimals, a constant, a stale marker.
    const runs = 50;
    const n = 40;
    const ts = new Float64Array(runs * n);
    const values = new Float64Array(runs * n);
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < n; i++) {
        ts[r * n + i] = 1_700_000_000_000 + i * 15_000 + (r % 3 === 0 ? (i * 7) % 5 : 0);
        values[r * n + i] = r % 4 === 0 ? 1000 + i * (r + 3) : r % 4 === 1 ? Math.round(50 + 10 * Math.sin(i + r)) / 100 : r % 4 === 2 ? 1 : i === 20 ? NaN : i;
      }
    }
    const words = new Uint32Array(values.buffer);
    const ids = Array.from({ length: runs }, (_, r) => 100 + r);
    const starts = ids.map((_, r) => r * n);
    const buf = encodeWalRecord(ids, starts, runs * n, ts, words);
    expect(buf.length / (runs * n)).toBeLessThan(5);
    const rec = decodeWalRecord(buf);
    expect(Array.from(rec.ts)).toEqual(Array.from(ts));
    expect(Array.from(rec.words)).toEqual(Array.from(words));
    expect(Array.from(rec.runStart)).toEqual([...starts, runs * n]);
  });

  it('round-trips value bits with every count of leading and trailing zero bytes in their XOR', () => {
    // Pairs of values whose XOR has each byte pattern: bytes [trail, 8 − lead) set, the rest zero.
    const words: number[] = [];
    for (let lead = 0; lead <= 8; lead++) {
      for (let trail = 0; lead + trail <= 8; trail++) {
        let xh = 0;
        let xl = 0;
        for (let j = trail; j < 8 - lead; j++) {
          const b = j === trail || j === 7 - lead ? 0x81 : 0x5a;
          if (j >= 4) xh |= b << (8 * (j - 4));
          else xl |= b << (8 * j);
        }
        words.push(0x12345678, 0x9abcdef0, (0x12345678 ^ xl) >>> 0, (0x9abcdef0 ^ xh) >>> 0);
      }
    }
    const count = words.length / 2;
    const ts = Float64Array.from({ length: count }, (_, i) => i * 1000);
    const w = Uint32Array.from(words);
    const rec = decodeWalRecord(encodeWalRecord([1], [0], count, ts, w));
    expect(Array.from(rec.words)).toEqual(words);
    expect(Array.from(rec.ts)).toEqual(Array.from(ts));
  });

  it('still decodes version 2 records', () => {
    // One run of series 5: t = 1000, 1015 (deltas 0, +15 to the previous), values raw.
    const v2 = Buffer.from([2, 0, 0, 0, 1, ...Buffer.from(new Float64Array([1000]).buffer), 10, 2, 0, 30, 1, 0, 0, 0, 0, 0, 0xf0, 0x3f, 2, 0, 0, 0, 0, 0, 0xf0, 0x7f]);
    const rec = decodeWalRecord(v2);
    expect([Array.from(rec.runSeriesId), Array.from(rec.ts), Array.from(rec.words)]).toEqual([[5], [1000, 1015], [1, 0x3ff00000, 2, 0x7ff00000]]);
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
    // v3, one run of 2 samples at t = 0, 0 (header 13 bytes, run 0 2, times 0 0, first value raw):
    { name: 'v3 truncated first value', data: Uint8Array.from([3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1, 2, 3]) },
    { name: 'v3 control byte beyond 8 bytes', data: Uint8Array.from([3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x54, 1]) },
    { name: 'v3 truncated XOR bytes', data: Uint8Array.from([3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 1, 2]) },
    { name: 'v3 trailing bytes', data: Uint8Array.from([3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 9]) },
  ])('$name throws wal-corrupt', ({ data }) => {
    expect(() => decodeWalRecord(data)).toThrow(expect.objectContaining({ code: 'wal-corrupt' }));
  });
});
