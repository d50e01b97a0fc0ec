import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import {
  decodeExemplarsRequest,
  decodeMetadataRequest,
  decodeMetadataResponse,
  decodeStatsResponse,
  encodeExemplarsRequest,
  encodeMetadataRequest,
  encodeMetadataResponse,
  encodeStatsResponse,
  PROTO_DIR,
  decodeLabelNamesRequest,
  decodeLabelNamesResponse,
  decodeLabelValuesRequest,
  decodeLabelValuesResponse,
  decodeSelectRequest,
  decodeSelectResponse,
  decodeSeriesRequest,
  decodeSeriesResponse,
  decodeWriteRequest,
  decodeWriteResponse,
  encodeLabelNamesRequest,
  encodeLabelNamesResponse,
  encodeLabelValuesRequest,
  encodeLabelValuesResponse,
  encodeSelectRequest,
  encodeSelectResponse,
  encodeSeriesRequest,
  encodeSeriesResponse,
  encodeWriteRequest,
  encodeWriteResponse,
  prometheusWriteRequestType,
} from './index.js';
import { plain } from '../test/helpers/plain.js';

const BIG_MS = 2 ** 53 - 1;
const matchers = [
  { type: 0, name: '__name__', value: 'up' },
  { type: 3, name: 'job', value: 'a|b' },
];

describe('proto codecs', () => {
  it.each([
    [
      'WriteRequest',
      encodeWriteRequest,
      decodeWriteRequest,
      {
        tenant: 't',
        labelStrings: ['__name__', 'up'],
        labelPairCounts: [1],
        sampleCounts: [1],
        timestamps: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
        values: new Uint8Array([2, 0, 0, 0, 0, 0, 0xf0, 0x7f]),
        exemplars: [{ seriesLabels: ['__name__', 'up'], labels: ['trace_id', 'abc'], value: 1.5, timestampMs: BIG_MS }],
        metadata: [{ metricFamilyName: 'up', type: 'gauge', help: 'h', unit: '' }],
        maxExemplars: 10,
        maxMetadata: 0,
        maxMetadataPerMetric: 3,
        seriesRefs: [0],
        refsInstance: 'i-1',
        wantRefs: true,
      },
    ],
    [
      'WriteResponse',
      encodeWriteResponse,
      decodeWriteResponse,
      { samplesWritten: BIG_MS, rejected: [{ code: 'sample-out-of-order', count: 3, example: 'x' }], exemplarsWritten: 2, metadataWritten: 0, seriesRefs: [7, 0, BIG_MS], refsInstance: 'i-1', unknownRefSeries: [1] },
    ],
    ['MetadataRequest', encodeMetadataRequest, decodeMetadataRequest, { tenant: 't', metric: 'up', limit: 2, limitPerMetric: 1 }],
    ['MetadataResponse', encodeMetadataResponse, decodeMetadataResponse, { metadata: [{ metricFamilyName: 'up', type: 'counter', help: 'x', unit: 's' }] }],
    [
      'ExemplarsRequest',
      encodeExemplarsRequest,
      decodeExemplarsRequest,
      { tenant: 't', matcherSets: [{ matchers }], startMs: -1, endMs: BIG_MS },
    ],
    ['StatsResponse', encodeStatsResponse, decodeStatsResponse, { series: 1, chunks: 2, bytesOnDisk: BIG_MS, walBytes: 4, tenants: 5, exemplars: 6, metadata: 7 }],
    ['SelectRequest', encodeSelectRequest, decodeSelectRequest, { tenant: 't', matchers, startMs: -5, endMs: BIG_MS, newestOnly: true }],
    [
      'SelectResponse',
      encodeSelectResponse,
      decodeSelectResponse,
      { series: [{ labels: [{ name: 'a', value: 'b' }], chunks: [{ minTimeMs: 1, maxTimeMs: BIG_MS, encoding: 2, data: new Uint8Array([9, 8]) }] }] },
    ],
    ['LabelNamesRequest', encodeLabelNamesRequest, decodeLabelNamesRequest, { tenant: 't', matchers, startMs: 1, endMs: 2, limit: 7 }],
    ['LabelNamesResponse', encodeLabelNamesResponse, decodeLabelNamesResponse, { names: ['a', 'b'] }],
    ['LabelValuesRequest', encodeLabelValuesRequest, decodeLabelValuesRequest, { tenant: 't', name: 'job', matchers, startMs: 1, endMs: 2, limit: 0 }],
    ['LabelValuesResponse', encodeLabelValuesResponse, decodeLabelValuesResponse, { values: ['x'] }],
    ['SeriesRequest', encodeSeriesRequest, decodeSeriesRequest, { tenant: 't', matchers, startMs: 0, endMs: 1, limit: 3 }],
    ['SeriesResponse', encodeSeriesResponse, decodeSeriesResponse, { labelStrings: ['a', '1', 'b', '2', 'c', '3'], labelPairCounts: [2, 1] }],
  ] as Array<[string, (m: never) => Uint8Array, (b: Uint8Array) => unknown, object]>)('%s round trips', (_name, enc, dec, msg) => {
    expect(plain(dec(enc(msg as never)))).toEqual(plain(msg));
  });

  it('decodes int64 and uint64 as numbers, never Long', () => {
    const req = decodeSelectRequest(encodeSelectRequest({ tenant: '', matchers: [], startMs: -1, endMs: BIG_MS }));
    expect(typeof req.startMs).toBe('number');
    expect([req.startMs, req.endMs]).toEqual([-1, BIG_MS]);
    const empty = decodeSelectRequest(new Uint8Array(0));
    expect([typeof empty.startMs, empty.startMs]).toEqual(['number', 0]);
    // A request from a client that predates the hint reads as "send everything".
    expect(empty.newestOnly).toBe(false);
    const res = decodeWriteResponse(encodeWriteResponse({ samplesWritten: 123456789012, rejected: [] }));
    expect(res.samplesWritten).toBe(123456789012);
    expect(protobuf.util.Long).toBeUndefined();
  });

  it('gives absent bytes fields as empty Uint8Arrays', () => {
    const req = decodeWriteRequest(encodeWriteRequest({ tenant: 't', labelStrings: [], labelPairCounts: [], sampleCounts: [], timestamps: new Uint8Array(0), values: new Uint8Array(0) }));
    expect(req.timestamps).toBeInstanceOf(Uint8Array);
    expect(req.values.byteLength).toBe(0);
    const sel = decodeSelectResponse(encodeSelectResponse({ series: [{ labels: [], chunks: [{ minTimeMs: 0, maxTimeMs: 0, encoding: 1, data: new Uint8Array(0) }] }] }));
    expect(sel.series[0]?.chunks[0]?.data).toBeInstanceOf(Uint8Array);
  });

  it('loads the prometheus remote-write types with int64 timestamps as numbers', () => {
    expect(PROTO_DIR).toMatch(/proto$/);
    const msg = { timeseries: [{ labels: [{ name: '__name__', value: 'up' }], samples: [{ value: 1, timestamp: 1700000000123 }] }] };
    const back = prometheusWriteRequestType.decode(prometheusWriteRequestType.encode(msg).finish()) as unknown as typeof msg;
    expect(back.timeseries[0]?.samples[0]?.timestamp).toBe(1700000000123);
  });
});
