import { describe, expect, it } from 'vitest';
import { AppError, InvariantError } from '../../common/errors.js';
import { wordsOf } from '../../common/types.js';
import { ByteArena } from './byte-arena.js';
import {
  decodeXorChunk,
  decodeXorChunkRange,
  decodeXorResumeRange,
  writeXorResumeHeader,
  XOR_RESUME_HEADER_BYTES,
  xorChunkSampleCount,
  xorResumePoint,
  xorResumeSampleCount,
  XorEncoder,
  XorIterator,
  type XorResumePoint,
} from './xor.js';
import { vals } from '../../test/helpers/chunks.js';

function encode(ts: readonly number[], values: Float64Array): Uint8Array {
  const enc = new XorEncoder();
  const w = wordsOf(values);
  ts.forEach((t, i) => enc.append(t, w, i));
  return enc.bytes();
}

/** Decodes into a buffer prefixed with sentinel samples to prove append-at-offset semantics. */
function decodePrefixed(data: Uint8Array, prefix = 3): { ts: Float64Array; vs: Float64Array } {
  const n = xorChunkSampleCount(data);
  const ts = new Float64Array(prefix + n).fill(-7);
  const vs = new Float64Array(prefix + n).fill(42);
  expect(decodeXorChunk(data, ts, vs, prefix)).toBe(n);
  for (let i = 0; i < prefix; i++) {
    expect(ts[i]).toBe(-7);
    expect(vs[i]).toBe(42);
  }
  return { ts: ts.subarray(prefix), vs: vs.subarray(prefix) };
}

function expectBitExact(actual: Float64Array, expected: Float64Array): void {
  expect(Array.from(wordsOf(actual))).toEqual(Array.from(wordsOf(expected)));
}

const STALE: [number, number] = [0x7ff00000, 0x00000002];
const QNAN_PAYLOAD: [number, number] = [0x7ff80000, 0x00000001];

function seq(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

// Deterministic pseudo-random generator so failures reproduce.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const rnd = lcg(12345);
const cases: { name: string; ts: number[]; vs: Float64Array }[] = [
  { name: 'one sample', ts: [1_700_000_000_000], vs: vals([3.5]) },
  { name: 'two samples', ts: [1000, 16_000], vs: vals([1, 2]) },
  { name: 'const 120', ts: seq(120, (i) => 1_700_000_000_000 + i * 15_000), vs: vals(seq(120, () => 1)) },
  { name: 'counter 120', ts: seq(120, (i) => 1_700_000_000_000 + i * 15_000), vs: vals(seq(120, (i) => i * 37)) },
  {
    name: 'noisy gauge',
    ts: seq(120, (i) => 1_700_000_000_000 + i * 10_000),
    vs: vals(seq(120, () => (rnd() - 0.5) * 1e6)),
  },
  {
    name: 'special floats',
    ts: seq(10, (i) => i * 1000),
    vs: vals([NaN, Infinity, -Infinity, -0, 0, STALE, QNAN_PAYLOAD, Number.MIN_VALUE, -Number.MAX_VALUE, STALE]),
  },
  { name: 'stale markers only', ts: [5, 10, 15], vs: vals([STALE, STALE, STALE]) },
  {
    name: 'jittered timestamps',
    ts: (() => {
      let t = 1_700_000_000_000;
      return seq(120, () => (t += 15_000 + Math.floor((rnd() - 0.5) * 400)));
    })(),
    vs: vals(seq(120, (i) => i % 7)),
  },
  {
    name: 'large deltas (every dod tier)',
    ts: [0, 1, 2, 10_000, 20_000, 100_000, 1_000_000, 1_000_001, 9e12, 9e12 + 1, 4e15, 4e15 + 5],
    vs: vals(seq(12, (i) => i)),
  },
  { name: 'negative timestamps', ts: [-5_000_000_000_000, -4_000_000, -3_000, -1, 0, 7], vs: vals(seq(6, (i) => -i)) },
  {
    name: 'words with all bits varying',
    ts: seq(6, (i) => i),
    vs: vals([
      [0xffffffff, 0xffffffff],
      [0, 0],
      [0x80000000, 1],
      [1, 0x80000000],
      [0xffffffff, 0],
      [0, 0xffffffff],
    ]),
  },
];

describe('xor chunk round trip', () => {
  it.each(cases)('$name', ({ ts, vs }) => {
    const data = encode(ts, vs);
    expect(xorChunkSampleCount(data)).toBe(ts.length);
    const out = decodePrefixed(data);
    expect(Array.from(out.ts)).toEqual(ts);
    expectBitExact(out.vs, vs);
  });

  it('header is the big-endian sample count', () => {
    const data = encode(seq(300, (i) => i), vals(seq(300, () => 0)));
    expect([data[0], data[1]]).toEqual([1, 44]);
  });

  it('reports min/max time and last value words', () => {
    const enc = new XorEncoder();
    expect(enc.count).toBe(0);
    const vs = vals([1, STALE]);
    enc.append(10, wordsOf(vs), 0);
    enc.append(20, wordsOf(vs), 1);
    expect([enc.count, enc.minTimeMs, enc.maxTimeMs, enc.lastValueHi, enc.lastValueLo]).toEqual([2, 10, 20, ...STALE]);
  });

  it('compresses a constant series to two bits per sample', () => {
    const data = encode(seq(120, (i) => i * 15_000), vals(seq(120, () => 1)));
    // header 2 + t0 varint 1 + value 8 + delta varint 2 + (1 + 118 × 2) bits → 43 bytes
    expect(data.length).toBe(43);
  });

  // Golden bytes derived by hand from the layout diagram in xor.ts; keep both in sync.
  it('matches the golden encoding', () => {
    const data = encode([1000, 2000, 3000, 3500], vals([1, 1, 2, STALE]));
    expect(Buffer.from(data).toString('hex')).toBe('0004d00f3ff0000000000000e8073097ffef83317bff80000000000010');
  });
});

describe('XorEncoder.resume', () => {
  it.each(cases.filter((c) => c.ts.length >= 2))('continues $name at every split point', ({ ts, vs }) => {
    const full = encode(ts, vs);
    const w = wordsOf(vs);
    for (let split = 0; split <= ts.length; split++) {
      const first = encode(ts.slice(0, split), vs.slice(0, split));
      const enc = XorEncoder.resume(first);
      expect(enc.count).toBe(split);
      for (let i = split; i < ts.length; i++) enc.append(ts[i] as number, w, i);
      expect(enc.bytes()).toEqual(full);
    }
  });

  it('encodes the same chunks from a shared arena, interleaved, and resumes into it', () => {
    const arena = new ByteArena();
    const series = cases.filter((c) => c.ts.length > 0);
    const encs = series.map((_, k) => new XorEncoder(k % 2 === 0 ? 8 : 64, arena));
    const longest = Math.max(...series.map((c) => c.ts.length));
    for (let i = 0; i < longest; i++) {
      series.forEach((c, k) => {
        if (i < c.ts.length) (encs[k] as XorEncoder).append(c.ts[i] as number, wordsOf(c.vs), i);
      });
    }
    series.forEach((c, k) => {
      const full = encode(c.ts, c.vs);
      expect((encs[k] as XorEncoder).bytes()).toEqual(full);
      // Resumed into the arena half-way, the rest appended: the same chunk again.
      const half = c.ts.length >> 1;
      const resumed = XorEncoder.resume(encode(c.ts.slice(0, half), c.vs.slice(0, half)), arena);
      for (let i = half; i < c.ts.length; i++) resumed.append(c.ts[i] as number, wordsOf(c.vs), i);
      expect(resumed.finish()).toEqual(full);
      expect((encs[k] as XorEncoder).finish()).toEqual(full);
    });
    expect(arena.bytesInUse).toBe(0);
  });

  it('resumed state rejects non-increasing timestamps', () => {
    const enc = XorEncoder.resume(encode([1, 2], vals([1, 2])));
    expect(() => enc.append(2, wordsOf(vals([5])), 0)).toThrow(InvariantError);
  });
});

describe('corrupt chunks', () => {
  const good = encode(cases[4]!.ts, cases[4]!.vs);
  const big = new Float64Array(70_000);

  it.each([
    { name: 'empty', data: new Uint8Array(0) },
    { name: 'header only, count 1', data: new Uint8Array([0, 1]) },
    { name: 'truncated mid chunk', data: good.subarray(0, good.length >> 1) },
    { name: 'count larger than data', data: Uint8Array.from([0xff, 0xff, ...good.subarray(2)]) },
    { name: 'endless varint', data: new Uint8Array([0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) },
    // Second sample: delta 0 is impossible (timestamps strictly increase).
    { name: 'zero delta', data: new Uint8Array([0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) },
  ])('$name throws chunk-corrupt', ({ data }) => {
    let err: unknown;
    try {
      decodeXorChunk(data, big, big, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('chunk-corrupt');
  });

  it('random garbage never hangs and throws only chunk-corrupt', () => {
    const r = lcg(99);
    for (let k = 0; k < 2000; k++) {
      const data = new Uint8Array(2 + Math.floor(r() * 64));
      for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
      try {
        decodeXorChunk(data, big, big, 0);
      } catch (e) {
        expect((e as AppError).code).toBe('chunk-corrupt');
      }
    }
  });

  it('bit flips of a valid chunk decode or throw chunk-corrupt', () => {
    for (let bit = 16; bit < good.length * 8; bit++) {
      const data = good.slice();
      data[bit >>> 3] = (data[bit >>> 3] as number) ^ (0x80 >>> (bit & 7));
      try {
        decodeXorChunk(data, big, big, 0);
      } catch (e) {
        expect((e as AppError).code).toBe('chunk-corrupt');
      }
    }
  });
});

describe('XorIterator', () => {
  it('is reusable via reset', () => {
    const it1 = new XorIterator();
    const a = encode([1, 2, 3], vals([1, 2, 3]));
    const b = encode([10, 20], vals([STALE, 5]));
    it1.reset(a);
    let n = 0;
    while (it1.next()) n++;
    expect(n).toBe(3);
    it1.reset(b);
    expect(it1.next()).toBe(true);
    expect([it1.t, it1.vHi, it1.vLo]).toEqual([10, ...STALE]);
    expect(it1.next()).toBe(true);
    expect(it1.next()).toBe(false);
  });
});

/** Reference decode with the bit-by-bit XorIterator: samples with start ≤ t ≤ end, or the error code. */
function iteratorDecode(data: Uint8Array, start: number, end: number): { ts: number[]; words: number[] } | string {
  const it1 = new XorIterator();
  const ts: number[] = [];
  const words: number[] = [];
  try {
    it1.reset(data);
    while (it1.next()) {
      if (it1.t > end) break;
      if (it1.t >= start) {
        ts.push(it1.t);
        words.push(it1.vLo, it1.vHi);
      }
    }
  } catch (e) {
    return (e as AppError).code;
  }
  return { ts, words };
}

const rangeTs = new Float64Array(70_000);
const rangeVs = new Float64Array(70_000);
function rangeDecode(data: Uint8Array, start: number, end: number): { ts: number[]; words: number[] } | string {
  const big = rangeTs;
  const out = rangeVs;
  try {
    const n = decodeXorChunkRange(data, start, end, big, out, 5);
    return { ts: Array.from(big.subarray(5, 5 + n)), words: Array.from(wordsOf(out.subarray(5, 5 + n))) };
  } catch (e) {
    return (e as AppError).code;
  }
}

describe('decodeXorChunkRange agrees with XorIterator', () => {
  // Random chunks mixing every dod width and value window shape, including NaN payloads.
  const r = lcg(7);
  const chunks: Uint8Array[] = [];
  for (let k = 0; k < 200; k++) {
    const n = 1 + Math.floor(r() * 300);
    const ts: number[] = [];
    let t = Math.floor((r() - 0.5) * 2e12);
    let d = 1 + Math.floor(r() * 30_000);
    const list: (number | [number, number])[] = [];
    for (let i = 0; i < n; i++) {
      const kind = r();
      if (kind < 0.5) {
        // same delta: dod 0
      } else if (kind < 0.7) d = Math.max(1, d + Math.floor((r() - 0.5) * 16_000));
      else if (kind < 0.85) d = Math.max(1, d + Math.floor((r() - 0.5) * 130_000));
      else if (kind < 0.95) d = Math.max(1, d + Math.floor((r() - 0.5) * 1_000_000));
      else d = 1 + Math.floor(r() * 1e10);
      t += d;
      ts.push(t);
      const vk = r();
      if (vk < 0.05) list.push(STALE);
      else if (vk < 0.1) list.push([Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]);
      else if (vk < 0.4) list.push(i > 0 ? (list[i - 1] as number | [number, number]) : 1);
      else list.push(Math.round(r() * 1000) / 8);
    }
    chunks.push(encode(ts, vals(list)));
  }

  it('decodes every chunk whole and over sub-ranges identically', () => {
    for (const c of chunks) {
      const all = iteratorDecode(c, -Infinity, Infinity);
      expect(typeof all).toBe('object');
      const ts = (all as { ts: number[] }).ts;
      expect(rangeDecode(c, -Infinity, Infinity)).toEqual(all);
      const a = ts[Math.floor(ts.length / 3)] as number;
      const b = ts[Math.floor((2 * ts.length) / 3)] as number;
      for (const [s, e] of [[a, b], [a + 1, b - 1], [b + 1, Infinity], [-Infinity, a - 1], [a, a]] as const) {
        expect(rangeDecode(c, s, e)).toEqual(iteratorDecode(c, s, e));
      }
    }
  });

  /** An XOR_RESUME chunk of `c` from `p`, decoded over [s, e] (or the error code). */
  function resumeDecode(c: Uint8Array, p: XorResumePoint, s: number, e: number): { ts: number[]; words: number[] } | string {
    const data = new Uint8Array(XOR_RESUME_HEADER_BYTES + c.length);
    writeXorResumeHeader(data, 0, p);
    data.set(c, XOR_RESUME_HEADER_BYTES);
    try {
      const room = xorResumeSampleCount(data);
      const ts = new Float64Array(room + 5);
      const vs = new Float64Array(room + 5);
      const n = decodeXorResumeRange(data, s, e, ts, vs, 5);
      return { ts: Array.from(ts.subarray(5, 5 + n)), words: Array.from(wordsOf(vs.subarray(5, 5 + n))) };
    } catch (err) {
      return (err as AppError).code;
    }
  }

  it('resumes from the state before any time: same samples at and after it as a whole decode', () => {
    let resumed = 0;
    for (const c of chunks) {
      const ts = (iteratorDecode(c, -Infinity, Infinity) as { ts: number[] }).ts;
      let prev: XorResumePoint | null = null;
      for (const at of [ts[0]!, ts[1] ?? ts[0]!, ts[Math.floor(ts.length / 2)]!, ts[ts.length - 1]!, ts[ts.length - 1]! + 1]) {
        const p = xorResumePoint(c, at, null);
        // Going on from an earlier point of the same chunk finds the same state.
        if (prev !== null && prev.t < at) expect(xorResumePoint(c, at, prev)).toEqual(p);
        if (p === null) {
          expect(at).toBeLessThanOrEqual(ts[0]!);
          continue;
        }
        expect(p.t).toBeLessThan(at);
        expect(p.read).toBe(ts.filter((t) => t < at).length);
        for (const [s, e] of [[at, Infinity], [at, ts[ts.length - 1]! - 1], [-Infinity, Infinity]] as const) {
          // Samples before the point are not in the resume chunk; everything from it on is.
          expect(resumeDecode(c, p, s, e)).toEqual(iteratorDecode(c, Math.max(s, p.t + 1), e));
        }
        prev = p;
        resumed++;
      }
    }
    expect(resumed).toBeGreaterThan(500);
  });

  it('refuses a resume state that does not fit its chunk', () => {
    const c = chunks.find((x) => xorChunkSampleCount(x) > 10)!;
    const ts = (iteratorDecode(c, -Infinity, Infinity) as { ts: number[] }).ts;
    const p = xorResumePoint(c, ts[5]!, null)!;
    for (const bad of [{ read: 0 }, { read: xorChunkSampleCount(c) + 1 }, { bitPos: c.length * 8 + 1 }, { bitPos: 3 }, { leading: 40 }, { trailing: 65 }, { t: 0.5 }, { delta: -1 }]) {
      expect(resumeDecode(c, { ...p, ...bad }, -Infinity, Infinity), JSON.stringify(bad)).toBe('chunk-corrupt');
    }
    expect(resumeDecode(c.subarray(0, 1), p, -Infinity, Infinity)).toBe('chunk-corrupt');
  });

  it('fails like the iterator on truncated and bit-flipped chunks', () => {
    for (const c of chunks.slice(0, 40)) {
      for (let cut = 0; cut < c.length; cut += 3) {
        const d = c.subarray(0, cut);
        const want = iteratorDecode(d, -Infinity, Infinity);
        expect(rangeDecode(d, -Infinity, Infinity), `cut ${cut}`).toEqual(want);
      }
      for (let bit = 16; bit < Math.min(c.length * 8, 400); bit += 5) {
        const d = c.slice();
        d[bit >>> 3] = (d[bit >>> 3] as number) ^ (0x80 >>> (bit & 7));
        expect(rangeDecode(d, -Infinity, Infinity), `bit ${bit}`).toEqual(iteratorDecode(d, -Infinity, Infinity));
      }
    }
  });
});

describe('XorEncoder.bytesInto', () => {
  it('writes the same bytes as bytes() at any offset, for own arrays and arena regions, as the head grows', () => {
    const arena = new ByteArena();
    const encoders = [new XorEncoder(8), new XorEncoder(8, arena), new XorEncoder(32, arena)];
    const values = new Float64Array([1, 1.5, 1.5, -3, 1e300, 0.1, 42, 42, 7]);
    const words = wordsOf(values);
    const dest = new Uint8Array(4096);
    for (let i = 0; i < 200; i++) {
      for (const enc of encoders) {
        enc.append(1_700_000_000_000 + i * 15_000 + (i % 3), words, i % values.length);
        const at = (i * 7) % 1000;
        const view = enc.bytesInto(dest, at);
        expect([view.byteOffset, view.length]).toEqual([at, enc.byteLength]);
        expect(Array.from(view)).toEqual(Array.from(enc.bytes()));
      }
    }
  });
});
