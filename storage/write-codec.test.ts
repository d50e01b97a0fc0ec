import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors.js';
import {
  decodeWriteRequest as pbDecodeRequest,
  decodeWriteResponse as pbDecodeResponse,
  encodeWriteRequest as pbEncodeRequest,
  encodeWriteResponse as pbEncodeResponse,
  type WriteRequestMsg,
  type WriteResponseMsg,
} from '../proto/index.js';
import { storageServiceDefinition } from './rpc.js';
import { decodeWriteRequestMsg, decodeWriteResponseMsg, encodeWriteRequestMsg, encodeWriteResponseMsg } from './write-codec.js';
import { plain } from '../test/helpers/plain.js';
import { caught } from '../test/helpers/errors.js';

const MAX = Number.MAX_SAFE_INTEGER;

/** Little-endian float64 bytes given as [hi, lo] 32-bit words, so NaN payloads are explicit. */
function floatWords(...words: [number, number][]): Uint8Array {
  const out = new Uint8Array(words.length * 8);
  const dv = new DataView(out.buffer);
  words.forEach(([hi, lo], i) => {
    dv.setUint32(i * 8, lo, true);
    dv.setUint32(i * 8 + 4, hi, true);
  });
  return out;
}

function floats(...v: number[]): Uint8Array {
  return new Uint8Array(Float64Array.from(v).buffer);
}

/** The message with every field, defaults filled in, as both decoders return it. */
function fullRequest(m: Partial<WriteRequestMsg>): WriteRequestMsg {
  return {
    tenant: '',
    labelStrings: [],
    labelPairCounts: [],
    sampleCounts: [],
    timestamps: new Uint8Array(0),
    values: new Uint8Array(0),
    exemplars: [],
    metadata: [],
    maxExemplars: 0,
    maxMetadata: 0,
    maxMetadataPerMetric: 0,
    seriesRefs: [],
    refsInstance: '',
    wantRefs: false,
    ...m,
  };
}

function fullResponse(m: Partial<WriteResponseMsg>): WriteResponseMsg {
  return { samplesWritten: 0, rejected: [], exemplarsWritten: 0, metadataWritten: 0, seriesRefs: [], refsInstance: '', unknownRefSeries: [], ...m };
}

/** The message with proto3 defaults left out: protobufjs then writes exactly what proto3 requires. */
function withoutDefaults<T extends object>(m: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    const empty = v === 0 || v === '' || v === false || (Array.isArray(v) && v.length === 0) || (v instanceof Uint8Array && v.byteLength === 0);
    if (!empty) out[k] = v;
  }
  return out as T;
}

const STALE_NAN: [number, number] = [0x7ff00000, 0x00000002];

const requests: [string, WriteRequestMsg][] = [
  ['empty', fullRequest({})],
  ['tenant only', fullRequest({ tenant: 'tenant-1' })],
  [
    'label strings only',
    fullRequest({
      tenant: 't',
      labelStrings: ['__name__', 'up', 'job', 'node', '__name__', 'down', 'instance', 'host-ü:9100', 'long', 'x'.repeat(200), 'emoji', '📈'],
      labelPairCounts: [2, 4],
      sampleCounts: [1, 2],
      timestamps: floats(1_700_000_000_000, 1_700_000_000_000, 1_700_000_015_000),
      values: floats(1, 2.5, -3),
    }),
  ],
  [
    'refs only (live shape)',
    fullRequest({
      tenant: 't',
      labelPairCounts: [0, 0, 0],
      sampleCounts: [1, 1, 1],
      timestamps: floats(1, 2, 3),
      values: floats(4, 5, 6),
      seriesRefs: [1, 127, 128],
      refsInstance: 'instance-a',
      wantRefs: true,
    }),
  ],
  [
    'mixed refs and labels, one empty string label',
    fullRequest({
      tenant: 't',
      labelStrings: ['__name__', 'new', 'e', ''],
      labelPairCounts: [0, 2, 0],
      sampleCounts: [2, 0, 1],
      timestamps: floats(1, 2, 3),
      values: floats(4, 5, 6),
      seriesRefs: [300, 0, 2 ** 32 + 1],
      refsInstance: 'instance-a',
      wantRefs: true,
    }),
  ],
  [
    'huge values',
    fullRequest({
      tenant: 't',
      labelPairCounts: [0, 0],
      sampleCounts: [2 ** 32 - 1, 0],
      seriesRefs: [MAX, 2 ** 52 + 3],
      maxExemplars: 2 ** 32 - 1,
      maxMetadata: 2 ** 31,
      maxMetadataPerMetric: 1,
    }),
  ],
  [
    'special floats bit-exact',
    fullRequest({
      tenant: 't',
      labelStrings: ['__name__', 'm'],
      labelPairCounts: [1],
      sampleCounts: [6],
      timestamps: floats(-1, 0, 1, 2, 3, 2 ** 53),
      values: floatWords(STALE_NAN, [0x80000000, 0], [0x7ff00000, 0], [0xfff00000, 0], [0x7ff80000, 0], [0x7ff80000, 0xdeadbeef]),
    }),
  ],
  [
    'exemplars and metadata (delegated submessages)',
    fullRequest({
      tenant: 't',
      labelStrings: ['__name__', 'up'],
      labelPairCounts: [1],
      sampleCounts: [1],
      timestamps: floats(5),
      values: floats(1),
      exemplars: [
        { seriesLabels: ['__name__', 'up'], labels: ['trace_id', 'abc'], value: 1.5, timestampMs: MAX },
        { seriesLabels: ['__name__', 'x'], labels: [], value: 0, timestampMs: -5 },
      ],
      metadata: [{ metricFamilyName: 'up', type: 'gauge', help: 'höh', unit: '' }],
      maxExemplars: 10,
      maxMetadataPerMetric: 3,
    }),
  ],
];

const responses: [string, WriteResponseMsg][] = [
  ['empty', fullResponse({})],
  ['counts', fullResponse({ samplesWritten: 2000, exemplarsWritten: 3, metadataWritten: 4 })],
  [
    'rejected entries',
    fullResponse({
      samplesWritten: 1,
      rejected: [
        { code: 'sample-out-of-order', count: 3, example: 'out of order sample for series {__name__="ü"}' },
        { code: 'sample-duplicate-timestamp', count: 0, example: '' },
        { code: '', count: 2 ** 32 - 1, example: 'y'.repeat(100) },
      ],
    }),
  ],
  ['refs', fullResponse({ samplesWritten: 3, seriesRefs: [1, 0, 2 ** 40, MAX], refsInstance: 'instance-a', unknownRefSeries: [0, 200, 2 ** 32 - 1] })],
  ['huge counters', fullResponse({ samplesWritten: MAX, exemplarsWritten: 2 ** 53 - 2, metadataWritten: 2 ** 32 })],
];

describe('WriteRequest codec vs protobufjs', () => {
  it.each(requests)('%s: our encoding decodes by protobufjs to the same message', (_name, msg) => {
    expect(plain(pbDecodeRequest(encodeWriteRequestMsg(msg)))).toEqual(plain(msg));
  });

  it.each(requests)('%s: protobufjs encoding decodes by ours to the same message', (_name, msg) => {
    const bytes = pbEncodeRequest(msg);
    expect(plain(decodeWriteRequestMsg(bytes))).toEqual(plain(pbDecodeRequest(bytes)));
    expect(plain(decodeWriteRequestMsg(Buffer.from(bytes)))).toEqual(plain(msg));
  });

  it.each(requests)('%s: same bytes as protobufjs given no default-valued fields', (_name, msg) => {
    expect(Buffer.from(encodeWriteRequestMsg(msg)).toString('hex')).toBe(Buffer.from(pbEncodeRequest(withoutDefaults(msg))).toString('hex'));
  });

  it('keeps samples bit-exact, the staleness marker included', () => {
    const msg = requests.find(([n]) => n === 'special floats bit-exact')![1];
    const got = decodeWriteRequestMsg(encodeWriteRequestMsg(msg));
    expect(Buffer.from(got.values).toString('hex')).toBe(Buffer.from(msg.values).toString('hex'));
    expect(Buffer.from(got.values.subarray(0, 8)).toString('hex')).toBe('020000000000f07f');
  });

  it('is what the Write method of the service definition uses', () => {
    const msg = requests[3]![1];
    expect(Buffer.from(storageServiceDefinition.Write.requestSerialize(msg)).toString('hex')).toBe(Buffer.from(encodeWriteRequestMsg(msg)).toString('hex'));
    expect(plain(storageServiceDefinition.Write.requestDeserialize(Buffer.from(pbEncodeRequest(msg))))).toEqual(plain(msg));
    const res = responses[3]![1];
    expect(plain(storageServiceDefinition.Write.responseDeserialize(storageServiceDefinition.Write.responseSerialize(res)))).toEqual(plain(res));
  });
});

describe('WriteResponse codec vs protobufjs', () => {
  it.each(responses)('%s: our encoding decodes by protobufjs to the same message', (_name, msg) => {
    expect(plain(pbDecodeResponse(encodeWriteResponseMsg(msg)))).toEqual(plain(msg));
  });

  it.each(responses)('%s: protobufjs encoding decodes by ours to the same message', (_name, msg) => {
    const bytes = pbEncodeResponse(msg);
    expect(plain(decodeWriteResponseMsg(bytes))).toEqual(plain(pbDecodeResponse(bytes)));
    expect(plain(decodeWriteResponseMsg(bytes))).toEqual(plain(msg));
  });

  it.each(responses)('%s: same bytes as protobufjs given no default-valued fields', (_name, msg) => {
    const stripped = withoutDefaults({ ...msg, rejected: msg.rejected.map((r) => withoutDefaults(r)) });
    expect(Buffer.from(encodeWriteResponseMsg(msg)).toString('hex')).toBe(Buffer.from(pbEncodeResponse(stripped)).toString('hex'));
  });
});

// --- hand-built wire data -------------------------------------------------------------------

function varint(v: bigint): number[] {
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const tag = (field: number, wt: number): number[] => varint(BigInt(field) * 8n + BigInt(wt));
const vField = (field: number, v: bigint | number): number[] => [...tag(field, 0), ...varint(BigInt(v))];
const lenField = (field: number, body: number[]): number[] => [...tag(field, 2), ...varint(BigInt(body.length)), ...body];
const packed = (field: number, vs: (bigint | number)[]): number[] => lenField(field, vs.flatMap((v) => varint(BigInt(v))));

/** Unknown fields of every wire type proto3 has, with small and huge field numbers. */
const UNKNOWN = [
  ...vField(15, 2n ** 64n - 1n),
  ...tag(100, 1), 1, 2, 3, 4, 5, 6, 7, 8,
  ...lenField(2 ** 29 - 1, [1, 2, 3]),
  ...tag(16, 5), 9, 9, 9, 9,
];

describe('decoding beyond what our encoder writes', () => {
  it('skips unknown fields anywhere in a request, as protobufjs does', () => {
    // Concatenated encodings of two parts merge into one message; unknown fields go around both.
    const { tenant, labelStrings, labelPairCounts, ...rest } = requests[4]![1];
    const partA = [...pbEncodeRequest(fullRequest({ tenant, labelStrings, labelPairCounts }))];
    const partB = [...pbEncodeRequest(withoutDefaults(fullRequest(rest)))];
    const bytes = Uint8Array.from([...UNKNOWN, ...partA, ...UNKNOWN, ...partB, ...UNKNOWN]);
    expect(plain(decodeWriteRequestMsg(bytes))).toEqual(plain(requests[4]![1]));
    expect(plain(decodeWriteRequestMsg(bytes))).toEqual(plain(pbDecodeRequest(bytes)));
  });

  it('skips unknown fields in a response and in rejected entries', () => {
    const rej = lenField(2, [...UNKNOWN, ...lenField(1, [0x61]), ...UNKNOWN, ...vField(2, 7)]);
    const bytes = Uint8Array.from([...UNKNOWN, ...vField(1, 5), ...rej, ...UNKNOWN]);
    const want = fullResponse({ samplesWritten: 5, rejected: [{ code: 'a', count: 7, example: '' }] });
    expect(plain(decodeWriteResponseMsg(bytes))).toEqual(plain(want));
    expect(plain(decodeWriteResponseMsg(bytes))).toEqual(plain(pbDecodeResponse(bytes)));
  });

  it('accepts unpacked and split packed repeated scalars, concatenated in order', () => {
    const bytes = Uint8Array.from([
      ...vField(3, 1), ...packed(3, [2, 300]), ...vField(3, 0),
      ...packed(4, [5]), ...vField(4, 6),
      ...vField(12, 2n ** 40n), ...packed(12, [0, MAX]), ...vField(12, 9),
    ]);
    const want = fullRequest({ labelPairCounts: [1, 2, 300, 0], sampleCounts: [5, 6], seriesRefs: [2 ** 40, 0, MAX, 9] });
    expect(plain(decodeWriteRequestMsg(bytes))).toEqual(plain(want));
    expect(plain(decodeWriteRequestMsg(bytes))).toEqual(plain(pbDecodeRequest(bytes)));
    const res = Uint8Array.from([...vField(5, 1), ...packed(5, [2, 3]), ...vField(7, 4), ...packed(7, [5]), ...vField(7, 6)]);
    expect(plain(decodeWriteResponseMsg(res))).toEqual(plain(fullResponse({ seriesRefs: [1, 2, 3], unknownRefSeries: [4, 5, 6] })));
    expect(plain(decodeWriteResponseMsg(res))).toEqual(plain(pbDecodeResponse(res)));
  });

  it('lets the last value of a singular field win; truncates wide uint32 varints; reads wide bools', () => {
    const bytes = Uint8Array.from([
      ...lenField(1, [0x61]), ...lenField(1, [0x62]),
      ...vField(9, 2n ** 63n + 5n), ...packed(3, [2n ** 63n + 7n]), ...vField(4, 2n ** 64n - 1n),
      ...vField(14, 2n ** 63n + 1n),
      ...lenField(5, [1]), ...lenField(5, [2, 3]),
    ]);
    const got = decodeWriteRequestMsg(bytes);
    expect(plain(got)).toEqual(plain(fullRequest({ tenant: 'b', maxExemplars: 5, labelPairCounts: [7], sampleCounts: [2 ** 32 - 1], wantRefs: true, timestamps: Uint8Array.from([2, 3]) })));
    expect(plain(got)).toEqual(plain(pbDecodeRequest(bytes)));
    // protobufjs reads 6- to 9-byte varints of uint32/bool fields as 10-byte ones, and a bool from
    // its low 32 bits only; the proto3 rules are: truncate uint32, any set bit makes a bool true.
    const wide = Uint8Array.from([...vField(9, 2n ** 32n + 5n), ...packed(3, [2n ** 35n + 7n, 1]), ...vField(14, 2n ** 40n)]);
    expect(decodeWriteRequestMsg(wide)).toMatchObject({ maxExemplars: 5, labelPairCounts: [7, 1], wantRefs: true });
    expect(decodeWriteRequestMsg(Uint8Array.from(vField(14, 2n ** 63n))).wantRefs).toBe(true);
  });

  it('decodes strings that share length and sampled bytes (string cache collisions) exactly', () => {
    // Same length, first, middle and last byte: one cache slot; plus non-ASCII and invalid UTF-8.
    const strs = ['a1x2b', 'a9x8b', 'a1x2b', 'aéxb', 'a\u00ffxb', 'a9x8b', 'ab', 'ab', 'x'.repeat(60), 'x'.repeat(60)];
    const invalid = lenField(2, [0x61, 0xff, 0x78, 0x62, 0x62]); // 'a', bad byte, 'xbb'
    const bytes = Uint8Array.from([...pbEncodeRequest({ ...fullRequest({}), labelStrings: strs }), ...invalid, ...invalid, ...lenField(2, [0x61, 0x3f, 0x78, 0x62, 0x62])]);
    for (let k = 0; k < 2; k++) {
      expect(decodeWriteRequestMsg(bytes).labelStrings).toEqual([...strs, 'a\ufffdxbb', 'a\ufffdxbb', 'a?xbb']);
      // A Buffer: protobufjs then decodes UTF-8 natively (its JS decoder mangles invalid bytes).
      expect(decodeWriteRequestMsg(bytes).labelStrings).toEqual(pbDecodeRequest(Buffer.from(bytes)).labelStrings);
    }
  });

  it('skips a known field number that arrives with another wire type', () => {
    // tenant (1) as a varint, want_refs (14) as fixed32: unknown-field rules apply.
    const bytes = Uint8Array.from([...vField(1, 5), ...tag(14, 5), 1, 0, 0, 0, ...lenField(1, [0x74])]);
    expect(plain(decodeWriteRequestMsg(bytes))).toEqual(plain(fullRequest({ tenant: 't' })));
  });
});

function expectAppError(f: () => unknown, code: string): AppError {
  const err = caught(f);
  expect(err.code).toBe(code);
  return err;
}

describe('malformed input', () => {
  it.each([
    ['varint longer than 10 bytes', [0x08, ...new Array<number>(10).fill(0xff), 0x01], /longer than 10 bytes/],
    ['length past the end', [0x0a, 0x05, 0x61], /past the end/],
    ['packed body past the end', [0x1a, 0x03, 0x01], /past the end/],
    ['varint cut inside a packed body', [0x1a, 0x02, 0x01, 0x80, 0x01], /truncated varint/],
    ['group wire type', [0x0b, 0x0c], /wire type 3/],
    ['wire type 7', [0x0f], /wire type 7/],
    ['field number 0', [0x00, 0x01], /field number 0/],
    ['fixed64 past the end', [...tag(20, 1), 1, 2, 3], /past the end/],
    ['series ref of 2^53', vField(12, 2n ** 53n), /above 2\^53/],
    ['packed series ref of 2^64 - 1', packed(12, [1, 2n ** 64n - 1n]), /above 2\^53/],
    ['bad exemplar submessage', lenField(7, [0x0a, 0x09, 0x61]), /bad Exemplar/],
  ] as [string, number[], RegExp][])('request: %s → write-request-malformed', (_name, bytes, msg) => {
    const err = expectAppError(() => decodeWriteRequestMsg(Uint8Array.from(bytes)), 'write-request-malformed');
    expect(err.kind).toBe('bad_data');
    expect(err.message).toMatch(msg);
  });

  it.each([
    ['samples_written of 2^53', vField(1, 2n ** 53n)],
    ['rejected entry cut short', lenField(2, [0x0a, 0x05, 0x61])],
    ['truncated refs', [0x2a, 0x05, 0x01]],
  ] as [string, number[]][])('response: %s → storage-bad-response', (_name, bytes) => {
    expect(expectAppError(() => decodeWriteResponseMsg(Uint8Array.from(bytes)), 'storage-bad-response').kind).toBe('internal');
  });

  it('every prefix of a message decodes like protobufjs or fails with an AppError', () => {
    const full = encodeWriteRequestMsg(requests[7]![1]);
    for (let cut = 0; cut <= full.length; cut++) {
      const prefix = full.subarray(0, cut);
      let want: unknown;
      try {
        // A plain Uint8Array: protobufjs's Buffer reader lets a string run past the end.
        want = plain(pbDecodeRequest(new Uint8Array(prefix)));
      } catch {
        want = 'error';
      }
      let got: unknown;
      try {
        got = plain(decodeWriteRequestMsg(prefix));
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        got = 'error';
      }
      expect(got, `cut at ${cut}`).toEqual(want);
    }
    const res = encodeWriteResponseMsg(responses[2]![1]);
    for (let cut = 0; cut < res.length; cut++) {
      try {
        decodeWriteResponseMsg(res.subarray(0, cut));
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
      }
    }
  });

  it('random bytes never escape as anything but an AppError', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const base = [...encodeWriteRequestMsg(requests[4]![1])];
    for (let i = 0; i < 2000; i++) {
      const bytes = base.slice();
      for (let k = 0; k < 3; k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      for (const decode of [decodeWriteRequestMsg, decodeWriteResponseMsg]) {
        try {
          decode(Uint8Array.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
        }
      }
    }
  });
});

describe('values the wire cannot carry exactly', () => {
  it.each([
    ['ref of 2^53', { seriesRefs: [2 ** 53] }],
    ['negative ref', { seriesRefs: [-1] }],
    ['fractional ref', { seriesRefs: [1.5] }],
    ['NaN sample count', { sampleCounts: [Number.NaN] }],
    ['label pair count of 2^32', { labelPairCounts: [2 ** 32] }],
    ['negative max_exemplars', { maxExemplars: -1 }],
  ] as [string, Partial<WriteRequestMsg>][])('request: %s → storage-encode-out-of-range', (_name, part) => {
    expectAppError(() => encodeWriteRequestMsg(fullRequest(part)), 'storage-encode-out-of-range');
  });

  it.each([
    ['samples_written of 2^53', { samplesWritten: 2 ** 53 }],
    ['negative metadata_written', { metadataWritten: -2 }],
    ['ref of 2^64', { seriesRefs: [2 ** 64] }],
    ['unknown index of 2^32', { unknownRefSeries: [2 ** 32] }],
    ['rejected count of 1.5', { rejected: [{ code: 'x', count: 1.5, example: '' }] }],
  ] as [string, Partial<WriteResponseMsg>][])('response: %s → storage-encode-out-of-range', (_name, part) => {
    expectAppError(() => encodeWriteResponseMsg(fullResponse(part)), 'storage-encode-out-of-range');
  });
});
