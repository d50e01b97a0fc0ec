import { describe, expect, it } from 'vitest';
import type { Labels, SampleBatch } from '../common/types.js';
import { prometheusWriteRequestType } from './index.js';
import { encodeWriteRequest } from './write-request-encoder.js';

// The encoder caches each label array's encoded bytes and has an ASCII fast path; both must give
// exactly the bytes protobufjs's reflection encoder writes (for non-empty strings, which protobufjs
// always writes and we omit as proto3 defaults).

function batchOf(series: Labels[], samplesPerSeries: number): SampleBatch {
  const n = series.length * samplesPerSeries;
  const tsMs = new Float64Array(n);
  const values = new Float64Array(n);
  const sampleStart = new Uint32Array(series.length + 1);
  for (let i = 0; i < series.length; i++) {
    sampleStart[i] = i * samplesPerSeries;
    for (let j = 0; j < samplesPerSeries; j++) {
      tsMs[i * samplesPerSeries + j] = 1_700_000_000_000 + j * 15_000 - i;
      values[i * samplesPerSeries + j] = i * 0.1 + j;
    }
  }
  sampleStart[series.length] = n;
  return { series, sampleStart, tsMs, values };
}

function reference(batch: SampleBatch): Uint8Array {
  const timeseries = batch.series.map((labels, i) => {
    const pairs = [];
    for (let j = 0; j + 1 < labels.length; j += 2) pairs.push({ name: labels[j], value: labels[j + 1] });
    const samples = [];
    for (let k = batch.sampleStart[i] as number; k < (batch.sampleStart[i + 1] as number); k++) samples.push({ value: batch.values[k], timestamp: batch.tsMs[k] });
    return { labels: pairs, samples };
  });
  return prometheusWriteRequestType.encode(prometheusWriteRequestType.fromObject({ timeseries })).finish();
}

describe('encodeWriteRequest', () => {
  it.each([
    { name: 'ascii', labels: ['__name__', 'up', 'job', 'node'] },
    { name: 'two-byte utf-8', labels: ['__name__', 'température', 'pièce', 'séjour'] },
    { name: 'cjk and emoji', labels: ['__name__', 'x', 'city', '東京', 'mood', '🙂'] },
    { name: 'value longer than 127 bytes (2-byte length)', labels: ['__name__', 'x', 'path', '/'.repeat(300)] },
    { name: 'non-ascii longer than 127 bytes', labels: ['__name__', 'x', 'path', 'é'.repeat(100)] },
  ])('matches protobufjs byte for byte: $name', ({ labels }) => {
    const batch = batchOf([labels, [...labels.slice(0, 2), 'z', 'last']], 3);
    expect(Buffer.from(encodeWriteRequest(batch)).toString('hex')).toBe(Buffer.from(reference(batch)).toString('hex'));
  });

  it('gives the same bytes when label arrays are reused across requests (cached label blocks)', () => {
    const shared: Labels[] = [['__name__', 'a', 'job', 'j'], ['__name__', 'b', 'job', 'ü']];
    const first = encodeWriteRequest(batchOf(shared, 2));
    const second = encodeWriteRequest(batchOf(shared, 2));
    const fresh = encodeWriteRequest(batchOf(shared.map((l) => [...l]), 2));
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    expect(Buffer.from(fresh).equals(Buffer.from(first))).toBe(true);
    // Different samples with the same cached labels still change only the sample bytes.
    const other = batchOf(shared, 3);
    expect(Buffer.from(encodeWriteRequest(other)).toString('hex')).toBe(Buffer.from(reference(other)).toString('hex'));
  });
});
