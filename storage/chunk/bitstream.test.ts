import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../load/generator/workload.js';
import { BitReader, BitWriter } from './bitstream.js';
import { ByteArena, MAX_REGION_BYTES } from './byte-arena.js';

/** The bits of a write sequence, one array element per bit: the reference the writer must match. */
function referenceBytes(writes: readonly (readonly [number, number])[]): Uint8Array {
  const bits: number[] = [];
  for (const [v, n] of writes) for (let i = n - 1; i >= 0; i--) bits.push(Math.floor(v / 2 ** i) % 2);
  const out = new Uint8Array((bits.length + 7) >>> 3);
  bits.forEach((b, i) => {
    if (b === 1) out[i >>> 3] = (out[i >>> 3] as number) | (0x80 >>> (i & 7));
  });
  return out;
}

/** Seeded writes of 0–32 bits with random values (bits above n set too: the writer must ignore them). */
function randomWrites(seed: number, count: number): [number, number][] {
  const rnd = mulberry32(seed);
  const writes: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(rnd() * 33);
    writes.push([Math.floor(rnd() * 2 ** 32), n]);
  }
  return writes;
}

function write(w: BitWriter, writes: readonly (readonly [number, number])[]): void {
  for (const [v, n] of writes) {
    if (n === 1 && v % 3 === 0) w.writeBit(v & 1);
    else w.writeBits(v, n);
  }
}

describe('BitWriter', () => {
  it('writes every width at every bit offset exactly as a bit-by-bit writer would', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const writes = randomWrites(seed, 200);
      const masked = writes.map(([v, n]) => [n === 0 ? 0 : (v >>> 0) % 2 ** n, n] as const);
      const w = new BitWriter(seed % 3 === 0 ? 8 : 1024);
      write(w, writes);
      const expected = referenceBytes(masked);
      expect(w.bitLength).toBe(masked.reduce((s, [, n]) => s + n, 0));
      expect(w.byteLength).toBe(expected.length);
      expect(Array.from(w.bytes())).toEqual(Array.from(expected));
      // finish() hands out the same bytes, whether or not it keeps the buffer.
      expect(Array.from(w.finish())).toEqual(Array.from(expected));
    }
  });

  it('writes the same bytes from an arena, with many writers sharing its pages', () => {
    const arena = new ByteArena();
    const writers: BitWriter[] = [];
    const plans: [number, number][][] = [];
    for (let seed = 1; seed <= 60; seed++) {
      writers.push(new BitWriter(seed % 4 === 0 ? 8 : 40, arena));
      // A few writers outgrow the largest region and move to an array of their own.
      plans.push(randomWrites(seed, seed % 20 === 0 ? (MAX_REGION_BYTES * 8) / 12 : 60 + seed * 5));
    }
    // Interleaved, so regions are reserved, grown and freed in between each other's writes.
    const longest = Math.max(...plans.map((p) => p.length));
    for (let i = 0; i < longest; i++) {
      plans.forEach((p, k) => {
        const step = p[i];
        if (step !== undefined) write(writers[k] as BitWriter, [step]);
      });
      if (i === 40) {
        // Restarting a writer from bytes mid-way must not disturb its neighbours either.
        const w = writers[5] as BitWriter;
        const bits = w.bitLength;
        w.resetFrom(w.bytes(), bits);
      }
    }
    plans.forEach((p, k) => {
      const masked = p.map(([v, n]) => [n === 0 ? 0 : (v >>> 0) % 2 ** n, n] as const);
      const expected = Array.from(referenceBytes(masked));
      const w = writers[k] as BitWriter;
      expect(Array.from(w.bytes())).toEqual(expected);
      expect(Array.from(w.finish())).toEqual(expected);
    });
    // finish() gave every region back.
    expect(arena.bytesInUse).toBe(0);
  });

  it('finish() keeps a nearly full buffer and copies a mostly empty or small one', () => {
    const tight = new BitWriter(80);
    for (let i = 0; i < 18; i++) tight.writeBits(0xdeadbeef, 32);
    tight.writeBits(0x5, 3);
    const expected = tight.bytes();
    const kept = tight.finish();
    expect(Array.from(kept)).toEqual(Array.from(expected));
    expect(kept.length).toBe(73);
    expect(kept[72]).toBe(0xa0);
    expect(kept.buffer.byteLength).toBe(80);

    const roomy = new BitWriter(4096);
    roomy.writeBits(0x3, 2);
    const copied = roomy.finish();
    expect(Array.from(copied)).toEqual([0xc0]);
    expect(copied.buffer.byteLength).toBe(1);

    // Small buffers stay inside V8's heap only while no view of them exists: always copied.
    const small = new BitWriter(16);
    small.writeBits(0xabcdef01, 32);
    small.writeBits(0x1234, 16);
    const out = small.finish();
    expect(Array.from(out)).toEqual([0xab, 0xcd, 0xef, 0x01, 0x12, 0x34]);
    expect(out.buffer.byteLength).toBe(6);
  });

  it('resetFrom continues at the exact bit, dropping the padding after it', () => {
    const writes = randomWrites(99, 64);
    const whole = new BitWriter();
    write(whole, writes);
    const all = whole.bytes();
    for (const cut of [0, 1, 7, 8, 9, 31, 32, 33, whole.bitLength - 1]) {
      // The first `cut` bits, then garbage padding that must not leak into later writes.
      const prefix = all.slice(0, (cut + 7) >>> 3);
      if ((cut & 7) !== 0) prefix[prefix.length - 1] = (prefix[prefix.length - 1] as number) | (0xff >>> (cut & 7));
      const w = new BitWriter();
      w.resetFrom(prefix, cut);
      const r = new BitReader(all, cut);
      let rest = whole.bitLength - cut;
      while (rest > 0) {
        const n = Math.min(rest, 13);
        w.writeBits(r.readBits(n), n);
        rest -= n;
      }
      expect(Array.from(w.bytes())).toEqual(Array.from(all));
    }
  });

  it('grows from a tiny buffer without losing bits', () => {
    const w = new BitWriter(1);
    for (let i = 0; i < 1000; i++) w.writeBits(i, 11);
    const r = new BitReader(w.bytes(), 0);
    for (let i = 0; i < 1000; i++) expect(r.readBits(11)).toBe(i);
  });
});
