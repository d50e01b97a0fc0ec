import { uncompress } from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { decodeWriteRequest } from '../../proto/write-request-decoder.js';
import { buildPayloads, MANIFEST_FORMAT, payloadFiles } from './payloads.js';
import { Workload, type WorkloadOptions } from './workload.js';

const OPTS: WorkloadOptions = {
  seed: 3,
  series: 50,
  samplesPerRequest: 40,
  samplesPerSeries: 2,
  intervalMs: 10_000,
  startMs: 1_700_000_000_000,
  metricPrefix: 'load_',
};

function bytesOf(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('buildPayloads', () => {
  it('encodes each request so that it decodes back to the workload batch', () => {
    const w = new Workload(OPTS);
    const set = buildPayloads(w, { maxRequests: 7, maxBytes: Infinity });
    expect(set.requests).toBe(7);
    // 3 slices per round: requests 0, 3, 6 | 1, 4 | 2, 5.
    expect(set.streams.map((l) => l.length)).toEqual([3, 2, 2]);
    const expected = [[0, 3, 6], [1, 4], [2, 5]];
    let samples = 0;
    let compressed = 0;
    for (let l = 0; l < 3; l++) {
      (set.streams[l] ?? []).forEach((p, i) => {
        const q = expected[l]?.[i] ?? -1;
        const want = w.batch(q);
        const got = decodeWriteRequest(uncompress(p.body));
        expect(got.series).toEqual(want.series);
        expect(got.sampleStart).toEqual(want.sampleStart);
        expect(bytesOf(got.tsMs)).toEqual(bytesOf(want.tsMs));
        expect(bytesOf(got.values)).toEqual(bytesOf(want.values));
        expect(p.samples).toBe(want.tsMs.length);
        samples += p.samples;
        compressed += p.body.length;
      });
    }
    expect(set.samples).toBe(samples);
    expect(set.compressedBytes).toBe(compressed);
    expect(set.rawBytes).toBeGreaterThan(0);
  });

  it('is byte-identical across builds with the same options', () => {
    const a = buildPayloads(new Workload(OPTS), { maxRequests: 4, maxBytes: Infinity });
    const b = buildPayloads(new Workload(OPTS), { maxRequests: 4, maxBytes: Infinity });
    expect(a.streams.flat().map((p) => Buffer.from(p.body).toString('hex'))).toEqual(b.streams.flat().map((p) => Buffer.from(p.body).toString('hex')));
  });

  it.each([
    { name: 'request cap', maxRequests: 3, maxBytes: Infinity, want: 3 },
    { name: 'byte budget stops early', maxRequests: 100, maxBytes: 1, want: 1 },
    { name: 'at least one request', maxRequests: 100, maxBytes: 0, want: 1 },
  ])('bounds the build: $name', ({ maxRequests, maxBytes, want }) => {
    const set = buildPayloads(new Workload(OPTS), { maxRequests, maxBytes });
    expect(set.requests).toBe(want);
  });

  it('makes one stream per slice even when fewer requests are built', () => {
    const w = new Workload(OPTS); // 20 series per request → 3 requests per round
    expect(w.requestsPerRound).toBe(3);
    const set = buildPayloads(w, { maxRequests: 2, maxBytes: Infinity });
    expect(set.streams.map((l) => l.length)).toEqual([1, 1, 0]);
  });
});

describe('payloadFiles', () => {
  it('lays requests out in global send order with their streams', () => {
    const w = new Workload(OPTS);
    const set = buildPayloads(w, { maxRequests: 7, maxBytes: Infinity });
    const { manifest, files } = payloadFiles(set, { seed: 3 });
    expect(manifest.format).toBe(MANIFEST_FORMAT);
    expect(manifest.streams).toBe(3);
    expect(manifest.requests.map((r) => r.stream)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(manifest.requests.map((r) => r.file)).toEqual(['0000000.bin', '0000001.bin', '0000002.bin', '0000003.bin', '0000004.bin', '0000005.bin', '0000006.bin']);
    expect(manifest.samples).toBe(set.samples);
    // File q holds exactly request q of the workload.
    for (let q = 0; q < 7; q++) {
      const body = files.get(manifest.requests[q]?.file ?? '') as Uint8Array;
      const decoded = decodeWriteRequest(uncompress(body));
      expect(bytesOf(decoded.tsMs)).toEqual(bytesOf(w.batch(q).tsMs));
    }
  });
});
