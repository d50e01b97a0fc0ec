import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors.js';
import { isStaleNaNAt, wordsOf, type SampleBatch } from '../common/types.js';
import { prometheusWriteRequestType } from './index.js';
import {
  decodeWriteRequest,
  decodeWriteRequestColumns,
  labelRunHash,
  labelStringHash,
  resolveLabels,
  type DecodedWriteRequest,
  type KnownLabels,
  type RawLabelsLookup,
} from './write-request-decoder.js';
import { encodeWriteRequest } from './write-request-encoder.js';

// ---- deterministic generator ------------------------------------------------------------------

/** Small xorshift PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** Float64 values with interesting bit patterns, as [hi, lo] words. */
const SPECIAL_BITS: ReadonlyArray<readonly [number, number]> = [
  [0x7ff00000, 0x00000002], // staleness marker
  [0x7ff80000, 0x00000001], // Prometheus math.NaN()
  [0x7ff80000, 0x00000000], // JS canonical NaN
  [0xfff80000, 0x00000000], // negative NaN
  [0x7ff00000, 0x00000000], // +Inf
  [0xfff00000, 0x00000000], // -Inf
  [0x80000000, 0x00000000], // -0
  [0x00000000, 0x00000001], // smallest subnormal
];

// 2^49 − 1 is the largest timestamp of the decoder's one-pass Sample path (7 varint bytes), 2^49 the first beyond it.
const TIMESTAMPS = [0, -1, -1_700_000_000_000, 1, 127, 128, 2 ** 31, 2 ** 32, 1_700_000_000_123, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER, -(2 ** 40)];

interface Model {
  batch: SampleBatch;
  exemplars: number[]; // per series
  histograms: number[]; // per series
  metadata: number;
}

function genModel(seed: number, nSeries: number, maxSamples: number): Model {
  const rand = rng(seed);
  const series: string[][] = [];
  const starts: number[] = [0];
  const ts: number[] = [];
  const bits: number[] = [];
  const exemplars: number[] = [];
  const histograms: number[] = [];
  const names = ['__name__', 'job', 'instance', 'zone', 'a', 'le', 'ünï', ''];
  for (let s = 0; s < nSeries; s++) {
    const labels: string[] = [];
    const nLabels = Math.floor(rand() * 6);
    for (let l = 0; l < nLabels; l++) {
      const name = names[Math.floor(rand() * names.length)] as string;
      const value = rand() < 0.1 ? '' : `v${Math.floor(rand() * 1000)}${rand() < 0.1 ? '→€😀' : ''}`;
      labels.push(name, value);
    }
    series.push(labels);
    const n = Math.floor(rand() * (maxSamples + 1));
    for (let k = 0; k < n; k++) {
      ts.push(rand() < 0.3 ? (TIMESTAMPS[Math.floor(rand() * TIMESTAMPS.length)] as number) : Math.floor(rand() * 2e12) - 1e12);
      if (rand() < 0.3) {
        const [hi, lo] = SPECIAL_BITS[Math.floor(rand() * SPECIAL_BITS.length)] as readonly [number, number];
        bits.push(lo, hi);
      } else {
        const f = new Float64Array([(rand() - 0.5) * 10 ** Math.floor(rand() * 30)]);
        const w = wordsOf(f);
        bits.push(w[0] as number, w[1] as number);
      }
    }
    starts.push(ts.length);
    exemplars.push(rand() < 0.2 ? 1 + Math.floor(rand() * 3) : 0);
    histograms.push(rand() < 0.2 ? 1 + Math.floor(rand() * 2) : 0);
  }
  const values = new Float64Array(new Uint32Array(bits).buffer);
  return {
    batch: { series, sampleStart: new Uint32Array(starts), tsMs: new Float64Array(ts), values },
    exemplars,
    histograms,
    metadata: Math.floor(rand() * 3),
  };
}

// ---- a test-only builder with protobufjs Writer, able to inject unknown fields ----------------

function writeRawDouble(w: protobuf.Writer, lo: number, hi: number): void {
  // Writer.fixed32 writes 4 raw little-endian bytes, so two of them are the raw double bits.
  w.fixed32(lo).fixed32(hi);
}

/**
 * `valueFirst`: each Sample as senders write it (value, then timestamp: the decoder's one-pass
 * path); otherwise timestamp first (field order must not matter).
 */
function buildWithWriter(m: Model, unknowns: boolean, valueFirst = false): Uint8Array {
  const w = protobuf.Writer.create();
  const words = wordsOf(m.batch.values);
  if (unknowns) w.uint32((2 << 3) | 0).uint32(7); // reserved field 2 as a varint
  for (let i = 0; i < m.batch.series.length; i++) {
    w.uint32((1 << 3) | 2).fork();
    const labels = m.batch.series[i] as string[];
    for (let j = 0; j < labels.length; j += 2) {
      w.uint32((1 << 3) | 2).fork();
      if (unknowns) w.uint32((7 << 3) | 1).fixed64(123); // unknown fixed64 inside Label
      w.uint32((1 << 3) | 2).string(labels[j] as string);
      w.uint32((2 << 3) | 2).string(labels[j + 1] as string);
      w.ldelim();
    }
    for (let k = m.batch.sampleStart[i] as number; k < (m.batch.sampleStart[i + 1] as number); k++) {
      w.uint32((2 << 3) | 2).fork();
      if (!valueFirst) w.uint32((2 << 3) | 0).int64(m.batch.tsMs[k] as number);
      if (unknowns) w.uint32((9 << 3) | 5).fixed32(99); // unknown fixed32 inside Sample
      w.uint32((1 << 3) | 1);
      writeRawDouble(w, words[2 * k] as number, words[2 * k + 1] as number);
      if (valueFirst) w.uint32((2 << 3) | 0).int64(m.batch.tsMs[k] as number);
      w.ldelim();
    }
    for (let e = 0; e < (m.exemplars[i] as number); e++) {
      w.uint32((3 << 3) | 2).fork();
      w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('trace_id').uint32((2 << 3) | 2).string('abc').ldelim();
      w.uint32((2 << 3) | 1).double(1.5).uint32((3 << 3) | 0).int64(42);
      w.ldelim();
    }
    for (let h = 0; h < (m.histograms[i] as number); h++) {
      w.uint32((4 << 3) | 2).fork();
      w.uint32((1 << 3) | 0).uint64(10).uint32((3 << 3) | 1).double(2.5).uint32((4 << 3) | 0).sint32(-2);
      w.uint32((12 << 3) | 2).fork().sint64(1).sint64(-1).ldelim(); // packed positive_deltas
      w.uint32((15 << 3) | 0).int64(1000);
      w.ldelim();
    }
    if (unknowns) {
      w.uint32((9 << 3) | 2).bytes(new Uint8Array([1, 2, 3])); // unknown len field in TimeSeries
      w.uint32((10 << 3) | 3).uint32((1 << 3) | 0).uint32(5).uint32((10 << 3) | 4); // a group
    }
    w.ldelim();
  }
  for (let d = 0; d < m.metadata; d++) {
    w.uint32((3 << 3) | 2).fork();
    w.uint32((1 << 3) | 0).int32(1).uint32((2 << 3) | 2).string('http_requests_total').uint32((4 << 3) | 2).string('help');
    w.ldelim();
  }
  if (unknowns) w.uint32((15 << 3) | 5).fixed32(1);
  return w.finish();
}

// ---- reflection comparison ---------------------------------------------------------------------

interface ReflectedLabel { name?: string; value?: string }
interface ReflectedSample { value?: number; timestamp?: number }
interface ReflectedSeries { labels?: ReflectedLabel[]; samples?: ReflectedSample[]; exemplars?: unknown[]; histograms?: unknown[] }
interface ReflectedRequest { timeseries?: ReflectedSeries[]; metadata?: unknown[] }

function expectMatchesReflection(buf: Uint8Array, got: DecodedWriteRequest): void {
  const ref = prometheusWriteRequestType.toObject(prometheusWriteRequestType.decode(buf), { defaults: true, longs: Number }) as ReflectedRequest;
  const ts = ref.timeseries ?? [];
  const want = { series: [] as string[][], starts: [0], ts: [] as number[], values: [] as string[], ex: 0, hist: 0 };
  for (const s of ts) {
    want.series.push((s.labels ?? []).flatMap((l) => [l.name ?? '', l.value ?? '']));
    for (const smp of s.samples ?? []) {
      want.ts.push(Number(smp.timestamp ?? 0));
      want.values.push(Object.is(smp.value, -0) ? '-0' : String(smp.value ?? 0));
    }
    want.starts.push(want.ts.length);
    want.ex += s.exemplars?.length ?? 0;
    want.hist += s.histograms?.length ?? 0;
  }
  expect(got.series).toEqual(want.series);
  expect(Array.from(got.sampleStart)).toEqual(want.starts);
  expect(Array.from(got.tsMs)).toEqual(want.ts);
  // String form compares NaN with NaN (payload bits are checked separately against the model).
  expect(Array.from(got.values, (v) => (Object.is(v, -0) ? '-0' : String(v)))).toEqual(want.values);
  expect(got.exemplarCount).toBe(want.ex);
  expect(got.histogramCount).toBe(want.hist);
  expect(got.metadataCount).toBe(ref.metadata?.length ?? 0);
}

/** Bitwise equality of decoded columns with the model (values compared as raw words). */
function expectBitExact(got: DecodedWriteRequest, batch: SampleBatch): void {
  expect(got.series).toEqual(batch.series);
  expect(Array.from(got.sampleStart)).toEqual(Array.from(batch.sampleStart));
  expect(Array.from(got.tsMs)).toEqual(Array.from(batch.tsMs));
  expect(Array.from(wordsOf(got.values))).toEqual(Array.from(wordsOf(batch.values)));
}

function expectBadProtobuf(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe('bad-protobuf');
  expect((caught as AppError).kind).toBe('bad_data');
  expect((caught as AppError).message).toMatch(/\[err-bad-protobuf\]$/);
}

// ---- tests -------------------------------------------------------------------------------------

describe('decodeWriteRequest vs protobufjs reflection', () => {
  it.each([
    { name: 'empty request', seed: 1, series: 0, samples: 0, unknowns: false },
    { name: 'one series', seed: 2, series: 1, samples: 3, unknowns: false },
    { name: 'many series', seed: 3, series: 2000, samples: 5, unknowns: false },
    { name: 'with unknown fields everywhere', seed: 4, series: 200, samples: 4, unknowns: true },
    { name: 'long series (array growth)', seed: 5, series: 3, samples: 5000, unknowns: false },
  ])('$name', ({ seed, series, samples, unknowns }) => {
    const m = genModel(seed, series, samples);
    const buf = buildWithWriter(m, unknowns);
    const got = decodeWriteRequest(buf);
    expectMatchesReflection(buf, got);
    expectBitExact(got, m.batch);
    expect(got.exemplarCount).toBe(m.exemplars.reduce((a, b) => a + b, 0));
    expect(got.histogramCount).toBe(m.histograms.reduce((a, b) => a + b, 0));
    expect(got.metadataCount).toBe(m.metadata);
  });

  it.each([
    { name: 'value first', unknowns: false },
    { name: 'value first, unknown fields', unknowns: true },
  ])('samples written $name, every timestamp width', ({ unknowns }) => {
    const m = genModel(9, 300, 6);
    const buf = buildWithWriter(m, unknowns, true);
    const got = decodeWriteRequest(buf);
    expectMatchesReflection(buf, got);
    expectBitExact(got, m.batch);
    const cols = decodeWriteRequestColumns(buf);
    expect(cols).not.toBeNull();
    expect(Array.from(cols?.tsMs ?? [])).toEqual(Array.from(m.batch.tsMs));
    expect(Array.from(wordsOf(cols?.values ?? new Float64Array(0)))).toEqual(Array.from(wordsOf(m.batch.values)));
  });

  it('decodes reflection-encoded requests (exemplars, histograms, metadata)', () => {
    const msg = prometheusWriteRequestType.fromObject({
      timeseries: [
        {
          labels: [{ name: 'job', value: 'x' }, { name: '__name__', value: 'up' }],
          samples: [{ value: 1, timestamp: -5 }, { value: Infinity, timestamp: 1_700_000_000_000 }],
          exemplars: [{ labels: [{ name: 'trace_id', value: 't' }], value: 1, timestamp: 3 }],
          histograms: [{ countInt: 3, sum: 1, schema: 1, positiveDeltas: [1, -1], timestamp: 9 }],
        },
        { labels: [{ name: '__name__', value: 'empty' }] },
      ],
      metadata: [{ type: 1, metricFamilyName: 'up', help: 'h', unit: '' }],
    });
    const buf = prometheusWriteRequestType.encode(msg).finish();
    const got = decodeWriteRequest(buf);
    expectMatchesReflection(buf, got);
    expect(got.series).toEqual([['job', 'x', '__name__', 'up'], ['__name__', 'empty']]);
    expect(Array.from(got.tsMs)).toEqual([-5, 1_700_000_000_000]);
    expect(got.exemplarCount).toBe(1);
    expect(got.histogramCount).toBe(1);
    expect(got.metadataCount).toBe(1);
  });

  it('short-string interning never confuses distinct strings (slot collisions)', () => {
    const n = 20_000;
    const series = Array.from({ length: n }, (_, i) => ['__name__', `m${i % 7}`, 'id', `v${i}`, 'same-len', String(i).padStart(8, '0')]);
    const batch: SampleBatch = { series, sampleStart: new Uint32Array(n + 1), tsMs: new Float64Array(0), values: new Float64Array(0) };
    expect(decodeWriteRequest(encodeWriteRequest(batch)).series).toEqual(series);
  });

  it('accepts a plain Uint8Array that is a view into a larger buffer', () => {
    const m = genModel(6, 10, 3);
    const inner = encodeWriteRequest(m.batch);
    const big = new Uint8Array(inner.length + 20);
    big.set(inner, 10);
    expectBitExact(decodeWriteRequest(big.subarray(10, 10 + inner.length)), m.batch);
  });
});

describe('value bits', () => {
  it.each([
    { name: 'stale marker', hex: '020000000000f07f', hi: 0x7ff00000, lo: 2 },
    { name: 'Prometheus NaN', hex: '010000000000f87f', hi: 0x7ff80000, lo: 1 },
    { name: '+Inf', hex: '000000000000f07f', hi: 0x7ff00000, lo: 0 },
    { name: '-0', hex: '0000000000000080', hi: 0x80000000, lo: 0 },
  ])('$name survives bit-exact', ({ hex, hi, lo }) => {
    // WriteRequest{timeseries:[{labels:[{name:"a",value:"b"}], samples:[{value:<bits>, timestamp:1}]}]}
    const sampleBytes = Buffer.from(`09${hex}1001`, 'hex');
    const label = Buffer.from('0a0161120162', 'hex');
    const ts = Buffer.concat([Buffer.from([0x0a, label.length]), label, Buffer.from([0x12, sampleBytes.length]), sampleBytes]);
    const buf = Buffer.concat([Buffer.from([0x0a, ts.length]), ts]);
    const got = decodeWriteRequest(buf);
    const w = wordsOf(got.values);
    expect([w[1], w[0]]).toEqual([hi, lo]);
    expect(isStaleNaNAt(w, 0)).toBe(hi === 0x7ff00000 && lo === 2);
  });
});

describe('encodeWriteRequest', () => {
  it.each([
    { name: 'empty', seed: 10, series: 0, samples: 0 },
    { name: 'small', seed: 11, series: 5, samples: 4 },
    { name: 'many series', seed: 12, series: 3000, samples: 3 },
    { name: 'long series', seed: 13, series: 2, samples: 10_000 },
  ])('round trips $name bit-exact and matches reflection', ({ seed, series, samples }) => {
    const m = genModel(seed, series, samples);
    const buf = encodeWriteRequest(m.batch);
    const got = decodeWriteRequest(buf);
    expectBitExact(got, m.batch);
    expectMatchesReflection(buf, got);
  });

  it('encodes what protobufjs reflection decodes to the same labels and timestamps', () => {
    const batch: SampleBatch = {
      series: [['__name__', 'up', 'job', 'a'], ['__name__', 'x']],
      sampleStart: new Uint32Array([0, 2, 3]),
      tsMs: new Float64Array([-1, 2 ** 40, 0]),
      values: new Float64Array([1, -2.5, 0]),
    };
    const ref = prometheusWriteRequestType.toObject(prometheusWriteRequestType.decode(encodeWriteRequest(batch)), { longs: Number, defaults: true }) as ReflectedRequest;
    expect(ref.timeseries?.[0]?.samples?.map((s) => [s.timestamp, s.value])).toEqual([[-1, 1], [2 ** 40, -2.5]]);
    expect(ref.timeseries?.[1]?.labels).toEqual([{ name: '__name__', value: 'x' }]);
  });
});

describe('malformed input', () => {
  it('every cut point of a small message either ends on a top-level boundary or throws bad-protobuf', () => {
    const m = genModel(20, 4, 3);
    m.exemplars = [1, 0, 0, 0];
    m.histograms = [0, 1, 0, 0];
    m.metadata = 1;
    const buf = buildWithWriter(m, true);
    // Top-level field boundaries: a cut exactly there is a valid, shorter message.
    const boundaries = new Set<number>([0]);
    const r = protobuf.Reader.create(buf);
    while (r.pos < r.len) {
      r.skipType(r.uint32() & 7);
      boundaries.add(r.pos);
    }
    for (let cut = 0; cut < buf.length; cut++) {
      const prefix = buf.subarray(0, cut);
      if (boundaries.has(cut)) expectMatchesReflection(prefix, decodeWriteRequest(prefix));
      else expectBadProtobuf(() => decodeWriteRequest(prefix));
    }
  });

  it.each([
    { name: 'field number 0', hex: '00' },
    { name: 'wire type 6', hex: '0e' },
    { name: 'wire type 7 nested in series', hex: '0a020f00' },
    { name: 'length past end', hex: '0a05' },
    { name: 'label overruns series', hex: '0a030a050a' },
    { name: 'string overruns label', hex: '0a040a020a05' },
    { name: 'double truncated in sample', hex: '0a05120309aabb' },
    { name: 'varint longer than 10 bytes', hex: '0a0f120d10ffffffffffffffffffffff01' },
    { name: 'unterminated group', hex: '1b' },
    { name: 'huge length', hex: '0affffffff0f' },
  ])('$name → bad-protobuf', ({ hex }) => {
    expectBadProtobuf(() => decodeWriteRequest(Buffer.from(hex, 'hex')));
  });

  it('random garbage never escapes as anything but a bad-protobuf AppError', () => {
    const rand = rng(99);
    for (let i = 0; i < 3000; i++) {
      const buf = new Uint8Array(1 + Math.floor(rand() * 64));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
      try {
        decodeWriteRequest(buf);
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('bad-protobuf');
      }
    }
  });
});

describe('two-phase decode (columns on a worker, labels on the caller)', () => {
  /** Both halves in a row; null when the columns half declines (labels not contiguous). */
  function twoPhase(buf: Uint8Array, lookup?: RawLabelsLookup<KnownLabels>): DecodedWriteRequest | null {
    const cols = decodeWriteRequestColumns(buf);
    return cols === null ? null : resolveLabels(buf, cols, lookup);
  }
  /** A lookup that knows every other series of `buf` (by raw key), with marked labels. */
  function halfKnown(buf: Uint8Array): RawLabelsLookup<KnownLabels> {
    const map = new Map<string, KnownLabels>();
    const first = decodeWriteRequest(buf, { get: () => undefined });
    first.rawLabels?.forEach((raw, i) => {
      if (raw !== undefined && i % 2 === 0) map.set(raw, { labels: ['__name__', `known-${i}`] });
    });
    return { get: (raw) => map.get(raw) };
  }

  it.each([
    { name: 'empty request', seed: 1, series: 0, samples: 0, unknowns: false },
    { name: 'many series', seed: 3, series: 500, samples: 5, unknowns: false },
    { name: 'unknown fields everywhere', seed: 4, series: 200, samples: 4, unknowns: true },
    { name: 'long series', seed: 5, series: 3, samples: 3000, unknowns: false },
  ])('$name: equals the one-pass decode, with and without a lookup', ({ seed, series, samples, unknowns }) => {
    const m = genModel(seed, series, samples);
    m.exemplars = m.exemplars.map((_, i) => (i % 3 === 0 ? 1 : 0));
    m.histograms = m.histograms.map((_, i) => (i % 5 === 0 ? 2 : 0));
    m.metadata = 2;
    const buf = buildWithWriter(m, unknowns);
    const plain = twoPhase(buf);
    expect(plain).toEqual(decodeWriteRequest(buf));
    expectBitExact(plain as DecodedWriteRequest, m.batch);
    const lookup = halfKnown(buf);
    expect(twoPhase(buf, lookup)).toEqual(decodeWriteRequest(buf, lookup));
  });

  it('hashes every label run, the same on bytes and on their latin1 string', () => {
    const buf = buildWithWriter(genModel(8, 50, 2), false);
    const cols = decodeWriteRequestColumns(buf)!;
    const raws = decodeWriteRequest(buf, { get: () => undefined }).rawLabels!;
    expect(cols.labelHashes.length).toBe(50);
    for (let i = 0; i < 50; i++) {
      const h = labelRunHash(new DataView(buf.buffer, buf.byteOffset, buf.byteLength), cols.labelRuns[2 * i]!, cols.labelRuns[2 * i + 1]!);
      expect(cols.labelHashes[i]).toBe(h);
      // A series without labels has no raw key (the empty run hashes like the empty string).
      expect(labelStringHash(raws[i] ?? '')).toBe(h);
    }
    const rand = rng(11);
    for (let k = 0; k < 200; k++) {
      const bytes = Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
      expect(labelStringHash(Buffer.from(bytes).toString('latin1'))).toBe(labelRunHash(new DataView(bytes.buffer), 0, bytes.length));
      // The same bytes anywhere in a larger buffer hash the same (words are counted from the run's start).
      const at = 1 + Math.floor(rand() * 7);
      const shifted = new Uint8Array(bytes.length + 8);
      shifted.set(bytes, at);
      expect(labelRunHash(new DataView(shifted.buffer), at, at + bytes.length)).toBe(labelRunHash(new DataView(bytes.buffer), 0, bytes.length));
    }
  });

  it('declines a request whose labels are not one run (a label after a sample)', () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('__name__').uint32((2 << 3) | 2).string('up').ldelim();
    w.uint32((2 << 3) | 2).fork().uint32((2 << 3) | 0).uint32(5).ldelim();
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('job').uint32((2 << 3) | 2).string('x').ldelim();
    w.ldelim();
    const buf = w.finish();
    expect(decodeWriteRequestColumns(buf)).toBeNull();
    expect(decodeWriteRequest(buf).series).toEqual([['__name__', 'up', 'job', 'x']]);
  });

  it('random garbage: both halves fail exactly when the one-pass decode fails', () => {
    const rand = rng(7);
    for (let i = 0; i < 3000; i++) {
      const buf = new Uint8Array(1 + Math.floor(rand() * 64));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
      let want: DecodedWriteRequest | AppError;
      try {
        want = decodeWriteRequest(buf);
      } catch (err) {
        want = err as AppError;
      }
      let got: DecodedWriteRequest | AppError | null;
      try {
        got = twoPhase(buf);
      } catch (err) {
        got = err as AppError;
      }
      if (got === null) continue; // declined: the caller decodes in one pass
      if (want instanceof AppError) {
        expect(got).toBeInstanceOf(AppError);
        expect((got as AppError).code).toBe('bad-protobuf');
      } else expect(got).toEqual(want);
    }
  });
});
