import snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors.js';
import { buildPayloads } from '../load/generator/payloads.js';
import { mulberry32, Workload, type WorkloadOptions } from '../load/generator/workload.js';
import { encodeWriteRequest } from '../proto/write-request-encoder.js';
import { batchOf, encodeBody } from '../test/helpers/remote-write.js';
import { snappyUncompress } from './snappy.js';
import { caught } from '../test/helpers/errors.js';

// snappyjs is the reference: for every block we accept, it must produce the same bytes. (We are
// stricter: it also accepts blocks that decode to fewer or more bytes than announced.)

/** Index of the first difference, -1 if equal (toEqual on 1 MiB arrays is slow and its diff useless). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Our output, checked against snappyjs on the same bytes; returns ours. */
function decodeLikeSnappyjs(block: Uint8Array): Uint8Array {
  const ours = snappyUncompress(block);
  expect(firstDiff(ours, snappy.uncompress(block))).toBe(-1);
  return ours;
}

// ---- hand-built blocks ----

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

const bytes = (s: string): number[] => Array.from(Buffer.from(s, 'latin1'));

/** Literal element; `extra` forces a 1–4 byte length field (0 = length in the tag). */
function lit(s: string, extra = s.length <= 60 ? 0 : Math.ceil(Math.log2(s.length) / 8)): number[] {
  const n = s.length - 1;
  if (extra === 0) return [n << 2, ...bytes(s)];
  const len = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].slice(0, extra);
  return [(59 + extra) << 2, ...len, ...bytes(s)];
}
const copy1 = (len: number, off: number): number[] => [((off >>> 8) << 5) | ((len - 4) << 2) | 1, off & 0xff];
const copy2 = (len: number, off: number): number[] => [((len - 1) << 2) | 2, off & 0xff, (off >>> 8) & 0xff];
const copy4 = (len: number, off: number): number[] => [((len - 1) << 2) | 3, off & 0xff, (off >>> 8) & 0xff, (off >>> 16) & 0xff, (off >>> 24) & 0xff];
const block = (length: number, ...elements: number[][]): Uint8Array => Uint8Array.from([...varint(length), ...elements.flat()]);

/** `p` repeated to exactly n characters (what a copy with offset p.length < length produces). */
const periodic = (p: string, n: number): string => p.repeat(Math.ceil(n / p.length)).slice(0, n);
/** Deterministic text without short repeats. */
const text = (n: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7 + (i >> 5)) % 26))).join('');
const s100 = text(100);
const big = text(70_000);

describe('snappyUncompress: hand-built blocks, one per element kind', () => {
  it.each([
    { name: 'empty block', els: [], want: '' },
    { name: 'short literal', els: [lit('abc')], want: 'abc' },
    { name: '60-byte literal, length in the tag', els: [lit('x'.repeat(60))], want: 'x'.repeat(60) },
    { name: '61-byte literal, 1-byte length', els: [lit(text(61))], want: text(61) },
    { name: '300-byte literal, 2-byte length (set path)', els: [lit(text(300))], want: text(300) },
    { name: 'over-long 2-byte literal length', els: [lit('hello', 2)], want: 'hello' },
    { name: 'over-long 3-byte literal length', els: [lit('hello', 3)], want: 'hello' },
    { name: 'over-long 4-byte literal length', els: [lit('hello', 4)], want: 'hello' },
    { name: 'copy-1', els: [lit('abcd'), copy1(4, 4)], want: 'abcdabcd' },
    { name: 'copy-1, offset ≥ 256 (high bits in the tag)', els: [lit(text(300)), copy1(11, 300)], want: text(300) + text(11) },
    { name: 'copy-2 of length 1 and 3', els: [lit('abcdef'), copy2(1, 6), copy2(3, 3)], want: 'abcdefaefa' },
    { name: 'copy-2 of 64, no overlap (copyWithin path)', els: [lit(s100), copy2(64, 100)], want: s100 + s100.slice(0, 64) },
    { name: 'copy-4', els: [lit(s100), copy4(64, 90)], want: s100 + s100.slice(10, 74) },
    { name: 'copy-4, offset > 65535', els: [lit(big), copy4(20, 70_000)], want: big + big.slice(0, 20) },
    { name: 'offset 1: run-length', els: [lit('a'), copy2(64, 1)], want: 'a'.repeat(65) },
    { name: 'offset 3 < length (byte loop)', els: [lit('abc'), copy2(40, 3)], want: periodic('abc', 43) },
    { name: 'offset 4 < length (4-byte steps over own output)', els: [lit('abcd'), copy2(64, 4)], want: periodic('abcd', 68) },
    { name: 'offset 5 < length', els: [lit('abcde'), copy1(11, 5), copy2(64, 5)], want: periodic('abcde', 80) },
    { name: 'offset 31 < length 64 (must not memmove)', els: [lit(text(31)), copy2(64, 31)], want: periodic(text(31), 95) },
    { name: 'offset = length = 32', els: [lit(text(32)), copy2(32, 32)], want: periodic(text(32), 64) },
    { name: 'every kind in a row', els: [lit('ab'), copy1(4, 2), copy2(2, 1), lit('z'), copy4(9, 9)], want: 'abababbbzabababbbz' },
  ])('$name', ({ els, want }) => {
    const got = decodeLikeSnappyjs(block(want.length, ...els));
    expect(Buffer.from(got).toString('latin1')).toBe(want);
  });

  it('returns an array that owns its whole buffer, from input at any byteOffset', () => {
    const b = block(68, lit('abcd'), copy2(64, 4));
    const host = new Uint8Array(b.length + 7);
    host.set(b, 3);
    const got = snappyUncompress(host.subarray(3, 3 + b.length));
    expect(Buffer.from(got).toString('latin1')).toBe(periodic('abcd', 68));
    expect([got.byteOffset, got.byteLength]).toEqual([0, got.buffer.byteLength]);
  });
});

describe('snappyUncompress: malformed blocks throw bad-snappy', () => {
  it.each([
    { name: 'empty input', b: Uint8Array.of(), msg: /preamble/ },
    { name: 'unterminated preamble', b: Uint8Array.of(0x80), msg: /preamble/ },
    { name: 'preamble of 6 bytes', b: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01), msg: /preamble/ },
    { name: 'preamble ≥ 2^32', b: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f), msg: /preamble/ },
    { name: 'length impossible for the body size', b: block(1000, lit('ab')), msg: /cannot decode/ },
    { name: 'copy before any output', b: block(4, copy2(4, 1)), msg: /offset out of range/ },
    { name: 'offset 0', b: block(6, lit('ab'), copy1(4, 0)), msg: /offset out of range/ },
    { name: 'offset beyond what was written', b: block(6, lit('ab'), copy1(4, 3)), msg: /offset out of range/ },
    { name: 'copy-4 offset with bit 31 set', b: block(6, lit('ab'), copy4(4, 0x80000001)), msg: /offset out of range/ },
    { name: 'literal past the end of the input', b: block(10, [9 << 2, 0x61]), msg: /past the end of the body/ },
    { name: '4-byte literal length with bit 31 set', b: block(3, [63 << 2, 0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63]), msg: /past the end of the body/ },
    { name: 'literal past the announced length', b: block(2, lit('abc')), msg: /more than the announced 2/ },
    { name: 'copy past the announced length', b: block(4, lit('ab'), copy1(4, 2)), msg: /more than the announced 4/ },
    { name: 'trailing literal', b: block(3, lit('abc'), lit('d')), msg: /more than the announced 3/ },
    { name: 'trailing copy', b: block(3, lit('abc'), copy2(1, 1)), msg: /more than the announced 3/ },
    { name: 'output shorter than announced', b: block(5, lit('abc')), msg: /decodes to 3 bytes, preamble announced 5/ },
    { name: 'truncated copy-1', b: block(5, lit('a'), [0x01]), msg: /truncated copy/ },
    { name: 'truncated copy-2', b: block(5, lit('a'), [0x02, 0x01]), msg: /truncated copy/ },
    { name: 'truncated copy-4', b: block(5, lit('a'), [0x03, 0x01, 0x00, 0x00]), msg: /truncated copy/ },
    { name: 'truncated 1-byte literal length', b: block(2, lit('a'), [60 << 2]), msg: /truncated literal length/ },
    { name: 'truncated 4-byte literal length', b: block(2, lit('a'), [63 << 2, 0, 0, 0]), msg: /truncated literal length/ },
  ])('$name', ({ b, msg }) => {
    const err = caught(() => snappyUncompress(b));
    expect([err.kind, err.code]).toEqual(['bad_data', 'bad-snappy']);
    expect(err.message).toMatch(msg);
    expect(err.message).toMatch(/^invalid snappy body: .* \[err-bad-snappy\]$/);
  });
});

// ---- differential round trips against snappyjs ----

/** Random stretches, then repeats of earlier stretches: mixes literals and far copies. */
function mixedBytes(n: number, rand: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; ) {
    const len = Math.min(n - i, 1 + ((rand() * 300) | 0));
    if (i > 0 && rand() < 0.6) {
      const from = (rand() * i) | 0;
      for (let k = 0; k < len; k++) out[i + k] = out[from + k] as number; // may overlap: intended
    } else for (let k = 0; k < len; k++) out[i + k] = (rand() * 256) | 0;
    i += len;
  }
  return out;
}

type Gen = (n: number, rand: () => number) => Uint8Array;
const GENERATORS: ReadonlyArray<readonly [string, Gen]> = [
  ['random', (n, rand) => Uint8Array.from({ length: n }, () => (rand() * 256) | 0)],
  ['zeros', (n) => new Uint8Array(n)],
  ['period 3', (n) => Uint8Array.from({ length: n }, (_, i) => i % 3)],
  ['period 1000', (n) => Uint8Array.from({ length: n }, (_, i) => ((i % 1000) * 37) & 0xff)],
  [
    // Random words from a small vocabulary: many short and long back-references at varied offsets.
    'words',
    (n, rand) => {
      const words = ['__name__', 'http_requests_total', 'job', 'node', 'instance', 'host-17:9100', 'le', '0.25', '+Inf', '\x0a\x12'];
      const out = new Uint8Array(n);
      for (let i = 0; i < n; ) for (const c of Buffer.from(words[(rand() * words.length) | 0] as string)) if (i < n) out[i++] = c;
      return out;
    },
  ],
  ['mixed', mixedBytes],
];
const SIZES = [0, 1, 2, 3, 4, 15, 16, 17, 60, 61, 127, 128, 255, 256, 4095, 65535, 65536, 65537, 131071, 131072, 131073, (1 << 20) + 12345];

describe('snappyUncompress: round trips of snappyjs.compress output', () => {
  for (const [name, gen] of GENERATORS) {
    it(`${name}, ${SIZES.length} sizes from 0 to > 1 MiB`, () => {
      const rand = mulberry32(SIZES.length);
      for (const n of SIZES) {
        const raw = gen(n, rand);
        const got = decodeLikeSnappyjs(snappy.compress(raw));
        expect([n, firstDiff(got, raw)]).toEqual([n, -1]);
      }
    });
  }
});

// ---- realistic remote-write bodies ----

const WORKLOAD: WorkloadOptions = { seed: 7, series: 4000, samplesPerRequest: 2000, samplesPerSeries: 1, intervalMs: 15_000, startMs: 1_700_000_000_000, metricPrefix: 'test_', histograms: true };

describe('snappyUncompress: remote-write bodies', () => {
  it.each([
    { name: 'live shape: 2000 series × 1 sample', opts: WORKLOAD },
    { name: 'batch shape: 50 series × 40 samples', opts: { ...WORKLOAD, samplesPerSeries: 40 } },
    { name: 'churning series', opts: { ...WORKLOAD, churnSteps: 2 } },
  ])('$name', ({ opts }) => {
    const w = new Workload(opts);
    const set = buildPayloads(w, { maxRequests: 4, maxBytes: Infinity });
    expect(set.requests).toBe(4);
    for (let q = 0; q < 4; q++) {
      const body = set.streams[w.streamOf(q)]?.[Math.floor(q / w.requestsPerRound)]?.body as Uint8Array;
      expect(firstDiff(decodeLikeSnappyjs(body), encodeWriteRequest(w.batch(q)))).toBe(-1);
    }
  });

  it('test helper bodies (odd label values, NaN and ±Inf samples)', () => {
    const series = Array.from({ length: 300 }, (_, i) => ({
      labels: { __name__: `m_${i % 7}`, job: 'j', path: `/api/v1/${'x'.repeat(i % 90)}`, uni: 'ünïcödé 🙂' },
      samples: [[1_700_000_000_000 + i, [NaN, Infinity, -Infinity, i / 3][i % 4] as number] as const],
    }));
    const batch = batchOf(series);
    expect(firstDiff(decodeLikeSnappyjs(encodeBody(batch)), encodeWriteRequest(batch))).toBe(-1);
  });
});

// ---- damaged blocks: never a wrong answer, never a non-AppError, never a hang ----

/** Ours on damaged bytes: either bad-snappy, or exactly what snappyjs makes of the same bytes. */
function checkDamaged(b: Uint8Array): 'ok' | 'rejected' {
  let ours: Uint8Array;
  try {
    ours = snappyUncompress(b);
  } catch (err) {
    expect(err instanceof AppError && err.code).toBe('bad-snappy');
    return 'rejected';
  }
  // Only now is snappyjs safe to call: it can loop ~forever on some corrupt blocks (a 4-byte
  // literal length with bit 31 set walks its read position backwards), but not on one we accepted.
  expect(firstDiff(ours, snappy.uncompress(b))).toBe(-1);
  return 'ok';
}

describe('snappyUncompress: damaged blocks', () => {
  const small = snappy.compress(encodeWriteRequest(new Workload({ ...WORKLOAD, series: 40, samplesPerRequest: 40 }).batch(0)));

  it(`every truncation of a ${small.length}-byte block is rejected`, () => {
    for (let k = 0; k < small.length; k++) expect(checkDamaged(small.subarray(0, k))).toBe('rejected');
    expect(checkDamaged(small)).toBe('ok');
  });

  it('truncations of a live-shape body are rejected', () => {
    const live = snappy.compress(encodeWriteRequest(new Workload(WORKLOAD).batch(0)));
    for (let k = 0; k < live.length; k += 97) expect(checkDamaged(live.subarray(0, k))).toBe('rejected');
    expect(checkDamaged(live.subarray(0, live.length - 1))).toBe('rejected');
  });

  it('random byte changes: rejected or identical to snappyjs', () => {
    const rand = mulberry32(11);
    // The remote-write block is nearly all copies; the mixed one has long literals, where a changed
    // byte still gives a valid block, so both outcomes get exercised.
    const mixed = snappy.compress(mixedBytes(6000, rand));
    const seen = { ok: 0, rejected: 0 };
    for (let i = 0; i < 6000; i++) {
      const b = (i % 2 === 0 ? small : mixed).slice();
      for (let flips = rand() < 0.75 ? 1 : 3; flips > 0; flips--) {
        const at = (rand() * b.length) | 0;
        b[at] = rand() < 0.5 ? (b[at] as number) ^ (1 << ((rand() * 8) | 0)) : (rand() * 256) | 0;
      }
      seen[checkDamaged(b)]++;
    }
    expect(seen.ok).toBeGreaterThan(500);
    expect(seen.rejected).toBeGreaterThan(500);
  });

  it('random garbage: rejected or identical to snappyjs', () => {
    const rand = mulberry32(12);
    const seen = { ok: 0, rejected: 0 };
    for (let i = 0; i < 20_000; i++) {
      const b = Uint8Array.from({ length: 1 + ((rand() * 24) | 0) }, () => (rand() * 256) | 0);
      b[0] = (rand() * 40) | 0; // a small announced length, so some garbage is valid
      seen[checkDamaged(b)]++;
    }
    expect(seen.ok).toBeGreaterThan(0);
  });
});
