import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../common/limits.js';
import type { Labels, SampleBatch, TenantId, WriteResult } from '../common/types.js';
import { decodeWriteRequest } from '../proto/write-request-decoder.js';
import { encodeWriteRequest } from '../proto/write-request-encoder.js';
import type { StorageClient } from '../storage/client/index.js';
import { Distributor } from './distributor.js';
import type { KnownSeries } from './series-cache.js';
import { metricOfIdentityKey, seriesIdentityKey } from './series-key.js';

/** A one-sample request of `series`, labels written in the given order. */
function body(series: Labels[]): Uint8Array {
  return encodeWriteRequest({
    series,
    sampleStart: Uint32Array.from(series.map((_, i) => i).concat(series.length)),
    tsMs: new Float64Array(series.length).fill(1000),
    values: new Float64Array(series.length).fill(1),
  });
}

const LONG = 'x'.repeat(200); // lengths ≥ 128 take two varint bytes
const CASES: Labels[] = [
  ['__name__', 'up'],
  ['__name__', 'up', 'instance', 'h:1', 'job', 'a'],
  ['A', 'first', '__name__', 'm', 'z', LONG],
  ['__name__', 'caf\u00e9', 'v', '\u{1f600} ok'],
  ['a', 'no metric name'],
];

describe('seriesIdentityKey', () => {
  it('equals the raw label run of a sender that writes sorted labels', () => {
    for (const labels of CASES) {
      const raws: (string | undefined)[] = [];
      decodeWriteRequest(body([labels]), { get: (raw: string) => (raws.push(raw), undefined) });
      expect(raws).toHaveLength(1);
      expect(seriesIdentityKey(labels)).toBe(raws[0]);
    }
  });

  it('gives the metric name back, wherever __name__ sorts', () => {
    expect(CASES.map((l) => metricOfIdentityKey(seriesIdentityKey(l)))).toEqual(['up', 'up', 'm', 'caf\u00e9', '']);
    expect(metricOfIdentityKey('')).toBe('');
  });
});

describe('identity key in the distributor', () => {
  const storage = {
    write: async (_t: TenantId, b: SampleBatch): Promise<WriteResult> => ({ samplesWritten: b.tsMs.length, rejected: [] }),
  } as unknown as StorageClient;

  async function push(d: Distributor, buf: Uint8Array): Promise<KnownSeries[]> {
    const decoded = decodeWriteRequest<KnownSeries>(buf, d.seriesLookup('t'));
    await d.push('t', { batch: decoded, histogramCount: 0, rawLabels: decoded.rawLabels ?? [], known: decoded.known ?? [] });
    return (decoded.known ?? []).filter((k): k is KnownSeries => k !== undefined);
  }

  it('counts a series once whether or not its sender wrote the labels in canonical order', async () => {
    const d = new Distributor({ storage, limits: () => ({ ...DEFAULT_LIMITS, maxSeriesPerTenant: 1 }) });
    await push(d, body([['__name__', 'up', 'job', 'a']]));
    await push(d, body([['job', 'a', '__name__', 'up']]));
    // Both raw runs are now cached (second push: hits), and both point at one active series.
    const [canonical] = await push(d, body([['__name__', 'up', 'job', 'a']]));
    const [unsorted] = await push(d, body([['job', 'a', '__name__', 'up']]));
    expect(d.knownSeries.size('t')).toBe(2);
    expect(d.activeSeries.activeSeries('t')).toBe(1);
    expect(canonical?.key).toBe(canonical?.raw);
    expect(unsorted?.key).toBe(canonical?.raw);
    expect(unsorted?.raw).not.toBe(unsorted?.key);
    // A different series is refused by the limit of one.
    const refused = decodeWriteRequest<KnownSeries>(body([['__name__', 'up', 'job', 'b']]), d.seriesLookup('t'));
    const out = await d.push('t', { batch: refused, histogramCount: 0, rawLabels: refused.rawLabels ?? [], known: refused.known ?? [] });
    expect(out.rejected.map((r) => r.code)).toEqual(['max-series-per-tenant']);
  });

  it('forgets idle series by the metric name in their key', () => {
    let now = 0;
    const d = new Distributor({ storage, clock: { nowMs: () => now }, limits: () => ({ ...DEFAULT_LIMITS, maxSeriesPerMetric: 1, activeSeriesIdleTimeoutMs: 1000 }) });
    return (async () => {
      await push(d, body([['__name__', 'up', 'job', 'a']]));
      now = 5000;
      d.sweep();
      expect(d.activeSeries.activeSeries('t')).toBe(0);
      // The per-metric count went back to 0 too: another series of `up` is accepted.
      const decoded = decodeWriteRequest<KnownSeries>(body([['__name__', 'up', 'job', 'b']]), d.seriesLookup('t'));
      const out = await d.push('t', { batch: decoded, histogramCount: 0, rawLabels: decoded.rawLabels ?? [], known: decoded.known ?? [] });
      expect(out.rejected).toEqual([]);
    })();
  });
});
