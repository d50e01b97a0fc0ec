import { describe, expect, it } from 'vitest';
import { prometheusWriteRequestType } from './index.js';
import { decodeWriteRequest } from './write-request-decoder.js';

describe('decodeWriteRequest: exemplars and metadata', () => {
  it('decodes them as protobufjs reflection encodes them, samples still columnar', () => {
    const bytes = prometheusWriteRequestType
      .encode(
        prometheusWriteRequestType.fromObject({
          timeseries: [
            { labels: [{ name: '__name__', value: 'a' }], samples: [{ value: 1, timestamp: 5 }], exemplars: [{ labels: [{ name: 'trace_id', value: 't1' }], value: 0.5, timestamp: -3 }] },
            { labels: [{ name: '__name__', value: 'b' }], exemplars: [{ value: 2, timestamp: 7 }, { labels: [{ name: 'x', value: 'y' }], value: 3, timestamp: 1e12 }] },
          ],
          metadata: [
            { type: 1, metricFamilyName: 'a', help: 'A help', unit: 'seconds' },
            { type: 7, metricFamilyName: 'b' },
            { type: 99, metricFamilyName: 'c' },
          ],
        }),
      )
      .finish();
    const got = decodeWriteRequest(bytes);
    expect(Array.from(got.tsMs)).toEqual([5]);
    expect(got.exemplarCount).toBe(3);
    expect(got.exemplars).toEqual([
      { seriesIndex: 0, labels: ['trace_id', 't1'], value: 0.5, tsMs: -3 },
      { seriesIndex: 1, labels: [], value: 2, tsMs: 7 },
      { seriesIndex: 1, labels: ['x', 'y'], value: 3, tsMs: 1e12 },
    ]);
    expect(got.metadata).toEqual([
      { metric: 'a', type: 'counter', help: 'A help', unit: 'seconds' },
      { metric: 'b', type: 'stateset', help: '', unit: '' },
      { metric: 'c', type: 'unknown', help: '', unit: '' },
    ]);
    expect(got.metadataCount).toBe(3);
  });

  it('rejects a truncated exemplar', () => {
    // TimeSeries { Exemplar { value: <4 of 8 bytes> } }
    const bytes = Uint8Array.from([0x0a, 0x07, 0x1a, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00]);
    expect(() => decodeWriteRequest(bytes)).toThrow(/truncated double|past the end/);
  });
});
