import { describe, expect, it } from 'vitest';
import { AppError, InvariantError } from '../../common/errors.js';
import { wordsOf } from '../../common/types.js';
import { COMPACT_MAX_SAMPLES, COMPACT_VERSION, compactChunkSampleCount, decodeCompactChunk, encodeCompactChunk } from './compact.js';
import { XorEncoder } from './xor.js';
import { caught } from '../../test/helpers/errors.js';
import { mulberry32 } from '../../load/generator/workload.js';
import { vals } from '../../test/helpers/chunks.js';

type Word = readonly [number, number]; // [hi, lo]

const STALE: Word = [0x7ff00000, 0x00000002];
const SPECIALS: readonly Word[] = [
  STALE,
  [0x7ff80000, 0x00000000], // canonical quiet NaN
  [0x7ff80000, 0x00000001], // quiet NaN with payload
  [0xfff80000, 0x12345678], // negative NaN with payload
  [0x7ff40000, 0x00000000], // signalling NaN
  [0x7ff00000, 0x00000000], // +Inf
  [0xfff00000, 0x00000000], // −Inf
  [0x80000000, 0x00000000], // −0
  [0x00000000, 0x00000000], // +0
  [0x00000000, 0x00000001], // smallest subnormal
  [0x800fffff, 0xffffffff], // largest negative subnormal
  [0x00100000, 0x00000000], // smallest normal
  [0x7fefffff, 0xffffffff], // max double
  [0xffefffff, 0xffffffff], // −max double
];

function seq<T = number>(n: number, f: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

function regular(n: number, start = 1_700_000_000_000, step = 15_000): number[] {
  return seq(n, (i) => start + i * step);
}

/** Seeded PRNG so failures reproduce. */
const rng = mulberry32;

function expectCorrupt(f: () => unknown): void {
  expect(caught(f).code).toBe('chunk-corrupt');
}

/**
 * Encodes ts/values (embedded at an offset inside larger arrays, to exercise start/end), decodes
 * into a buffer prefixed with sentinels, and checks timestamps and value bits. Returns the chunk.
 */
function roundTrip(ts: readonly number[], values: Float64Array): Uint8Array {
  const n = ts.length;
  const pad = 2;
  const tsIn = new Float64Array(n + 2 * pad).fill(123);
  tsIn.set(ts, pad);
  const vIn = new Float64Array(n + 2 * pad).fill(-1);
  vIn.set(values, pad);
  const chunk = encodeCompactChunk(tsIn, vIn, pad, pad + n);
  expect(compactChunkSampleCount(chunk)).toBe(n);
  const prefix = 3;
  const tsOut = new Float64Array(prefix + n + 1).fill(-7);
  const vOut = new Float64Array(prefix + n + 1).fill(42);
  expect(decodeCompactChunk(chunk, tsOut, vOut, prefix)).toBe(n);
  for (const i of [0, 1, 2, prefix + n]) {
    expect(tsOut[i]).toBe(-7);
    expect(vOut[i]).toBe(42);
  }
  const gotTs = Array.from(tsOut.subarray(prefix, prefix + n));
  if (gotTs.some((t, i) => t !== ts[i])) expect(gotTs).toEqual(ts);
  const got = wordsOf(vOut.subarray(prefix, prefix + n));
  const want = wordsOf(values);
  for (let i = 0; i < 2 * n; i++) {
    if (got[i] !== want[i]) {
      const k = i >> 1;
      throw new Error(`value ${k}: got ${got[2 * k + 1]?.toString(16)}:${got[2 * k]?.toString(16)}, want ${want[2 * k + 1]?.toString(16)}:${want[2 * k]?.toString(16)}`);
    }
  }
  return chunk;
}

function xorSize(ts: readonly number[], values: Float64Array): number {
  const enc = new XorEncoder();
  const w = wordsOf(values);
  ts.forEach((t, i) => enc.append(t, w, i));
  return enc.bytes().length;
}

const r0 = rng(7);
const randomDoubles = vals(seq(120, () => (r0() - 0.5) * 10 ** Math.floor(r0() * 40 - 20)));
const counter = seq(120, (i) => 1000 + i * 3 + (i % 5));
const withResets = seq(480, (i) => (i % 100) * 7 + (i >= 250 ? 5 : 0));
const withStaleEnd = (): Float64Array => {
  const v = vals(counter);
  wordsOf(v)[2 * 119 + 1] = STALE[0];
  wordsOf(v)[2 * 119] = STALE[1];
  return v;
};

describe('compact chunk round trips', () => {
  const r = rng(99);
  const cases: { name: string; ts: number[]; values: Float64Array }[] = [
    { name: 'constant 1.5', ts: regular(120), values: vals(seq(120, () => 1.5)) },
    { name: 'constant 0', ts: regular(120), values: vals(seq(120, () => 0)) },
    { name: 'constant -0', ts: regular(120), values: vals(seq<Word>(120, () => [0x80000000, 0])) },
    { name: 'constant stale marker', ts: regular(120), values: vals(seq<Word>(120, () => STALE)) },
    { name: 'constant random double', ts: regular(120), values: vals(seq(120, () => Math.PI)) },
    { name: 'counter', ts: regular(120), values: vals(counter) },
    { name: 'counter with resets', ts: regular(480), values: vals(withResets) },
    { name: 'large counter near 2^50', ts: regular(120), values: vals(seq(120, (i) => 2 ** 50 + i * 1e9 + (i % 7))) },
    { name: 'integers around ±2^53', ts: regular(6), values: vals([2 ** 53, -(2 ** 53), 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 52 + 1, 0]) },
    { name: 'integers beyond 2^53', ts: regular(4), values: vals([2 ** 60, -(2 ** 70), 1e300, 3]) },
    { name: 'integer gauge random walk', ts: regular(480), values: vals(seq(480, () => Math.floor(r() * 1000) - 500)) },
    { name: 'decimal 0.1 steps', ts: regular(120), values: vals(seq(120, (i) => Number((i / 10).toFixed(1)))) },
    { name: 'accumulated 0.1 (inexact doubles)', ts: regular(120), values: vals(seq(120, (i) => i * 0.1)) },
    { name: 'decimals with mixed exponents', ts: regular(120), values: vals(seq(120, (i) => [0.5, 1.25, -3.001, 12, 1e-15][i % 5] as number)) },
    { name: 'negative decimals', ts: regular(120), values: vals(seq(120, (i) => -Number((i * 1.37).toFixed(2)))) },
    { name: 'ratio in [0, 1]', ts: regular(120), values: vals(seq(120, () => r())) },
    { name: 'random doubles over many magnitudes', ts: regular(120), values: randomDoubles },
    { name: 'all special values', ts: regular(SPECIALS.length), values: vals(SPECIALS) },
    { name: 'specials repeated in a counter', ts: regular(200), values: vals(seq<number | Word>(200, (i) => (i % 9 === 4 ? (SPECIALS[i % SPECIALS.length] as Word) : i * 2))) },
    { name: 'stale marker at the end', ts: regular(120), values: withStaleEnd() },
    { name: 'stale marker in the middle', ts: regular(120), values: vals(seq<number | Word>(120, (i) => (i === 60 ? STALE : 10 + i))) },
    { name: 'stale marker first', ts: regular(120), values: vals(seq<number | Word>(120, (i) => (i < 3 ? STALE : 0.25 * i))) },
    { name: 'many stale markers (too many exceptions)', ts: regular(120), values: vals(seq<number | Word>(120, (i) => (i % 3 === 0 ? STALE : i))) },
    { name: 'single sample', ts: [5], values: vals([1.5]) },
    { name: 'single stale sample', ts: [-5], values: vals([STALE]) },
    { name: 'single -0', ts: [0], values: vals([[0x80000000, 0]]) },
    { name: 'two samples', ts: [1, 2], values: vals([1, 2]) },
    { name: 'three samples', ts: [1, 3, 4], values: vals([7, 7.5, Infinity]) },
    { name: '480 samples', ts: regular(480), values: vals(seq(480, (i) => i * i)) },
    { name: '1001 samples (partial last block)', ts: regular(1001), values: vals(seq(1001, (i) => Math.round(Math.sin(i / 30) * 1e4) / 100)) },
    { name: 'jittered timestamps', ts: seq(120, (i) => 1_700_000_000_000 + i * 15_000 + Math.floor(r() * 40) - 20), values: vals(counter) },
    { name: 'huge gaps', ts: [0, 1, 1e12, 1e12 + 1, 4e15, 9e15], values: vals([1, 2, 3, 4, 5, 6]) },
    { name: 'negative timestamps', ts: seq(120, (i) => -1_000_000_000 + i * 1000), values: vals(counter) },
    { name: 'timestamps spanning ±MAX_SAFE', ts: [-Number.MAX_SAFE_INTEGER, -1, 0, Number.MAX_SAFE_INTEGER], values: vals([1, 2, 3, 4]) },
    { name: 'timestamps near MAX_SAFE', ts: seq(50, (i) => Number.MAX_SAFE_INTEGER - 49 + i), values: vals(seq(50, (i) => i)) },
    { name: 'accelerating timestamps', ts: seq(300, (i) => i * i * 7 + i), values: vals(seq(300, (i) => i)) },
  ];

  it.each(cases)('$name', ({ ts, values }) => {
    roundTrip(ts, values);
  });

  it('65535 samples', () => {
    const n = COMPACT_MAX_SAMPLES;
    const rr = rng(3);
    roundTrip(
      seq(n, (i) => 1_600_000_000_000 + i * 10_000 + Math.floor(rr() * 5)),
      vals(seq<number | Word>(n, (i) => (i % 1000 === 999 ? STALE : Math.round(rr() * 1e6) / 1e3))),
    );
  });

  it('empty range encodes a header-only chunk', () => {
    const chunk = encodeCompactChunk(new Float64Array(4), new Float64Array(4), 2, 2);
    expect(compactChunkSampleCount(chunk)).toBe(0);
    expect(decodeCompactChunk(chunk, new Float64Array(0), new Float64Array(0), 0)).toBe(0);
  });

  it('seeded random mixes round-trip', () => {
    const rr = rng(2024);
    for (let iter = 0; iter < 300; iter++) {
      const n = 1 + Math.floor(rr() ** 2 * 1500);
      // Timestamps: regular, jittered, or random gaps; any start, negative included.
      const tsKind = Math.floor(rr() * 3);
      const ts: number[] = [];
      let t = Math.floor((rr() - 0.5) * 2e13);
      const step = 1 + Math.floor(rr() * 60_000);
      for (let i = 0; i < n; i++) {
        ts.push(t);
        t += tsKind === 0 ? step : tsKind === 1 ? Math.max(1, step + Math.floor((rr() - 0.5) * 50)) : 1 + Math.floor(rr() ** 4 * 1e9);
      }
      // Values: segments of different shapes, with sprinkled specials.
      const values = new Float64Array(n);
      const w = wordsOf(values);
      let v = Math.floor(rr() * 1e6);
      let kind = 0;
      const e = Math.floor(rr() * 6);
      for (let i = 0; i < n; i++) {
        if (rr() < 0.02) kind = Math.floor(rr() * 6);
        if (kind === 0) v += Math.floor(rr() * 100); // counter
        else if (kind === 1) v = Math.round((v + (rr() - 0.5) * 100) * 10 ** e) / 10 ** e; // decimal gauge
        else if (kind === 2) v = rr() * 1e3; // random double
        else if (kind === 3) v = 0; // reset / constant
        else if (kind === 4) v = Number.MAX_VALUE * (rr() - 0.5); // huge
        // kind 5: repeat previous value
        values[i] = v;
        if (rr() < 0.01) {
          const s = SPECIALS[Math.floor(rr() * SPECIALS.length)] as Word;
          w[2 * i + 1] = s[0];
          w[2 * i] = s[1];
        }
      }
      roundTrip(ts, values);
    }
  });
});

describe('compact chunk sizes', () => {
  // Regressions in mode selection show up here long before anyone looks at a benchmark.
  it.each([
    { name: 'constant value, regular timestamps', ts: regular(120), values: vals(seq(120, () => 42)), max: 20 },
    { name: 'constant non-decimal value', ts: regular(120), values: vals(seq(120, () => Math.PI)), max: 22 },
    { name: 'all stale markers', ts: regular(120), values: vals(seq<Word>(120, () => STALE)), max: 22 },
    { name: 'counter with small increments', ts: regular(120), values: vals(counter), max: 66 },
    { name: 'counter, stale marker at the end', ts: regular(120), values: withStaleEnd(), max: 67 },
    { name: 'decimal 0.1 steps', ts: regular(120), values: vals(seq(120, (i) => Number((i / 10).toFixed(1)))), max: 22 },
    { name: 'counter, 480 samples', ts: regular(480), values: vals(seq(480, (i) => 1000 + i * 3 + (i % 5))), max: 205 },
  ])('$name ≤ $max bytes', ({ ts, values, max }) => {
    const chunk = roundTrip(ts, values);
    expect(chunk.length).toBeLessThanOrEqual(max);
    expect(chunk.length).toBeLessThan(xorSize(ts, values));
  });

  it('random doubles cost no more than XOR plus a few bytes', () => {
    const ts = regular(120);
    const chunk = roundTrip(ts, randomDoubles);
    expect(chunk.length).toBeLessThanOrEqual(xorSize(ts, randomDoubles) + 8);
  });

  it('a stale marker does not push a counter out of the integer path', () => {
    const plain = roundTrip(regular(120), vals(counter));
    const stale = roundTrip(regular(120), withStaleEnd());
    expect(stale.length - plain.length).toBeLessThanOrEqual(3);
  });

  it('jittered timestamps cost a few bits per sample, not XOR-like bytes', () => {
    const r = rng(5);
    const ts = seq(120, (i) => 1_700_000_000_000 + i * 15_000 + Math.floor(r() * 8));
    const chunk = roundTrip(ts, vals(seq(120, () => 1)));
    expect(chunk.length).toBeLessThanOrEqual(80);
  });
});

describe('compact chunk corruption', () => {
  const r = rng(11);
  const chunks: Uint8Array[] = [
    encodeCompactChunk(Float64Array.from(regular(120)), vals(counter), 0, 120),
    encodeCompactChunk(Float64Array.from(regular(120)), withStaleEnd(), 0, 120),
    encodeCompactChunk(Float64Array.from(regular(120)), randomDoubles, 0, 120),
    encodeCompactChunk(Float64Array.from(regular(120)), vals(seq(120, () => 7)), 0, 120),
    encodeCompactChunk(Float64Array.from(seq(120, (i) => i * 1000 + Math.floor(r() * 30))), vals(seq(120, (i) => i / 4)), 0, 120),
    encodeCompactChunk(Float64Array.from([-Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER]), vals(SPECIALS.slice(0, 3)), 0, 3),
  ];
  // Room for any count a damaged header may announce.
  const tsOut = new Float64Array(COMPACT_MAX_SAMPLES);
  const vOut = new Float64Array(COMPACT_MAX_SAMPLES);

  it.each([
    { name: 'empty', data: new Uint8Array(0) },
    { name: 'two bytes', data: new Uint8Array([COMPACT_VERSION, 0]) },
    { name: 'unknown version', data: new Uint8Array([99, 0, 1, 0, 0, 0]) },
    { name: 'count but no body', data: new Uint8Array([COMPACT_VERSION, 0, 5]) },
  ])('$name throws chunk-corrupt', ({ data }) => {
    expectCorrupt(() => decodeCompactChunk(data, tsOut, vOut, 0));
  });

  it('every strict prefix of a valid chunk throws chunk-corrupt', () => {
    for (const chunk of chunks) {
      for (let len = 0; len < chunk.length; len++) {
        expectCorrupt(() => decodeCompactChunk(chunk.subarray(0, len), tsOut, vOut, 0));
      }
    }
  });

  it('random byte flips decode or throw chunk-corrupt', () => {
    for (const chunk of chunks) {
      for (let k = 0; k < 400; k++) {
        const bad = chunk.slice();
        const flips = 1 + Math.floor(r() * 3);
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(r() * bad.length);
          bad[at] = (bad[at] as number) ^ (1 + Math.floor(r() * 255));
        }
        try {
          const n = decodeCompactChunk(bad, tsOut, vOut, 0);
          expect(n).toBe(compactChunkSampleCount(bad));
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          expect((e as AppError).code).toBe('chunk-corrupt');
        }
      }
    }
  });

  it('random garbage decodes or throws chunk-corrupt', () => {
    for (let k = 0; k < 2000; k++) {
      const bad = new Uint8Array(3 + Math.floor(r() * 64));
      for (let i = 0; i < bad.length; i++) bad[i] = Math.floor(r() * 256);
      bad[0] = COMPACT_VERSION;
      try {
        decodeCompactChunk(bad, tsOut, vOut, 0);
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
        expect((e as AppError).code).toBe('chunk-corrupt');
      }
    }
  });
});

describe('compact chunk contract', () => {
  it.each([
    { name: 'decreasing timestamps', ts: [2, 1] },
    { name: 'duplicate timestamps', ts: [1, 1] },
    { name: 'fractional timestamp', ts: [1, 1.5] },
    { name: 'unsafe timestamp', ts: [1, 2 ** 53] },
    { name: 'NaN timestamp', ts: [NaN] },
  ])('encoder rejects $name with InvariantError', ({ ts }) => {
    expect(() => encodeCompactChunk(Float64Array.from(ts), new Float64Array(ts.length), 0, ts.length)).toThrow(InvariantError);
  });

  it('encoder rejects more than 65535 samples and bad ranges', () => {
    const n = COMPACT_MAX_SAMPLES + 1;
    const ts = Float64Array.from(seq(n, (i) => i));
    expect(() => encodeCompactChunk(ts, new Float64Array(n), 0, n)).toThrow(InvariantError);
    expect(() => encodeCompactChunk(ts, new Float64Array(n), 5, 4)).toThrow(InvariantError);
    expect(() => encodeCompactChunk(ts, new Float64Array(3), 0, 4)).toThrow(InvariantError);
  });

  it('decoder rejects an output without room with InvariantError', () => {
    const chunk = encodeCompactChunk(Float64Array.from(regular(10)), new Float64Array(10), 0, 10);
    expect(() => decodeCompactChunk(chunk, new Float64Array(10), new Float64Array(10), 1)).toThrow(InvariantError);
    expect(() => decodeCompactChunk(chunk, new Float64Array(10), new Float64Array(9), 0)).toThrow(InvariantError);
  });

  it('header carries the version and a big-endian count', () => {
    const chunk = encodeCompactChunk(Float64Array.from(regular(300)), new Float64Array(300), 0, 300);
    expect(Array.from(chunk.subarray(0, 3))).toEqual([COMPACT_VERSION, 1, 44]);
  });
});
