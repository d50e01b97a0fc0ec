import { bench, describe } from 'vitest';
import type { SampleBatch } from '../common/types.js';
import { prometheusWriteRequestType } from './index.js';
import { decodeWriteRequest } from './write-request-decoder.js';
import { encodeWriteRequest } from './write-request-encoder.js';

// Fixture built once: 10k series × 1 sample with 6 labels each, like one Prometheus shard flush
// of node-exporter data (max_samples_per_send is 2000 by default; this is 5 such sends).
function fixture(nSeries: number, samplesPerSeries: number): SampleBatch {
  const series: string[][] = [];
  const n = nSeries * samplesPerSeries;
  const tsMs = new Float64Array(n);
  const values = new Float64Array(n);
  const sampleStart = new Uint32Array(nSeries + 1);
  for (let i = 0; i < nSeries; i++) {
    series.push(['__name__', `node_metric_${i % 200}_total`, 'cpu', String(i % 16), 'instance', `host-${i % 50}:9100`, 'job', 'node', 'mode', 'idle', 'region', 'eu-west-1']);
    sampleStart[i + 1] = (i + 1) * samplesPerSeries;
  }
  for (let k = 0; k < n; k++) {
    tsMs[k] = 1_700_000_000_000 + k * 15_000;
    values[k] = k * 1.5;
  }
  return { series, sampleStart, tsMs, values };
}

const batch = fixture(10_000, 1);
const buf = encodeWriteRequest(batch);

describe(`decode 10k-series WriteRequest (${buf.length} bytes)`, () => {
  bench('decodeWriteRequest (fast path)', () => {
    decodeWriteRequest(buf);
  });
  bench('protobufjs reflection decode (baseline)', () => {
    prometheusWriteRequestType.decode(buf);
  });
});

describe('encode 10k-series WriteRequest', () => {
  bench('encodeWriteRequest', () => {
    encodeWriteRequest(batch);
  });
});
