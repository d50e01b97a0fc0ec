import { describe, expect, it } from 'vitest';
import { AppError, ErrorKind } from '../common/errors.js';
import { DEFAULT_LIMITS } from '../common/limits.js';
import { ManualClock } from '../common/clock.js';
import { RequestRefusedError } from './limits.js';
import { MatchType, type SampleBatch } from '../common/types.js';
import { MemoryBackend } from '../storage/backend/memory.js';
import { createLocalStorageClient } from '../storage/client/local.js';
import type { StorageClient } from '../storage/client/index.js';
import { Distributor } from './distributor.js';

function batch(series: string[][], ts: number[][]): SampleBatch {
  const starts = [0];
  for (const t of ts) starts.push((starts[starts.length - 1] as number) + t.length);
  const flat = ts.flat();
  return { series, sampleStart: new Uint32Array(starts), tsMs: new Float64Array(flat), values: new Float64Array(flat.length).fill(1) };
}

describe('Distributor', () => {
  it('combines validation and storage rejections, validation first', async () => {
    const backend = new MemoryBackend();
    const d = new Distributor({ storage: createLocalStorageClient(backend) });
    await d.push('t', { batch: batch([['__name__', 'm']], [[10]]), histogramCount: 0 });
    const out = await d.push('t', { batch: batch([['job', 'x'], ['__name__', 'm']], [[1, 2], [5, 20]]), histogramCount: 2 });
    expect(out.samplesWritten).toBe(1);
    expect(out.seriesWritten).toBe(1);
    expect(out.rejected.map((r) => [r.code, r.count])).toEqual([
      ['missing-metric-name', 2],
      ['native-histograms-unsupported', 2],
      ['sample-out-of-order', 1],
    ]);
  });

  it('does not call storage when nothing valid remains', async () => {
    let calls = 0;
    const storage = { write: async () => (calls++, { samplesWritten: 0, rejected: [] }) } as unknown as StorageClient;
    const out = await new Distributor({ storage }).push('t', { batch: batch([['job', 'x']], [[1]]), histogramCount: 0 });
    expect(calls).toBe(0);
    expect(out.samplesWritten).toBe(0);
  });

  it('passes storage failures through unchanged', async () => {
    const err = new AppError(ErrorKind.Unavailable, 'storage-unavailable', 'down');
    const storage = { write: async () => Promise.reject(err) } as unknown as StorageClient;
    await expect(new Distributor({ storage }).push('t', { batch: batch([['__name__', 'm']], [[1]]), histogramCount: 0 })).rejects.toBe(err);
  });

  it('applies per-tenant label limits looked up per request', async () => {
    const backend = new MemoryBackend();
    const seen: string[] = [];
    const d = new Distributor({
      storage: createLocalStorageClient(backend),
      limits: (t) => (seen.push(t), { ...DEFAULT_LIMITS, maxLabelNamesPerSeries: t === 'strict' ? 1 : 0 }),
    });
    const mk = () => batch([['__name__', 'm', 'a', 'b']], [[1]]);
    expect((await d.push('strict', { batch: mk(), histogramCount: 0 })).rejected.map((r) => r.code)).toEqual(['max-label-names']);
    expect((await d.push('loose', { batch: mk(), histogramCount: 0 })).rejected).toEqual([]);
    expect(seen).toEqual(['strict', 'loose']);
    const got = await createLocalStorageClient(backend).select('loose', [{ type: MatchType.EQ, name: '__name__', value: 'm' }], 0, 10);
    expect(got).toHaveLength(1);
  });
});

describe('Distributor limits (limits-and-tenancy.md §3 order)', () => {
  const NOW = 10_000_000_000;
  const setup = (over: Partial<typeof DEFAULT_LIMITS>) => {
    const backend = new MemoryBackend();
    const clock = new ManualClock(NOW);
    const d = new Distributor({ storage: createLocalStorageClient(backend), clock, limits: () => ({ ...DEFAULT_LIMITS, ...over }) });
    return { backend, clock, d };
  };

  it('sample_limit refuses the whole request with 400 before anything is written', async () => {
    const { d } = setup({ sampleLimit: 2 });
    const err = await d.push('t', { batch: batch([['__name__', 'm']], [[NOW, NOW + 1, NOW + 2]]), histogramCount: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestRefusedError);
    expect([(err as RequestRefusedError).kind, (err as RequestRefusedError).code, (err as RequestRefusedError).discarded]).toEqual(['tenant_limit', 'sample-limit', 3]);
  });

  it('drops samples outside the time window one by one and keeps the rest', async () => {
    const { d } = setup({ rejectOldSamples: true, rejectOldSamplesMaxAgeMs: 1000, creationGracePeriodMs: 1000 });
    const out = await d.push('t', { batch: batch([['__name__', 'm']], [[NOW - 2000, NOW, NOW + 500, NOW + 5000]]), histogramCount: 0 });
    expect(out.samplesWritten).toBe(2);
    expect(out.rejected.map((r) => [r.code, r.count])).toEqual([
      ['sample-too-old', 1],
      ['sample-too-far-in-future', 1],
    ]);
  });

  it('rate limit: 429 for the whole request with a Retry-After, counting only valid samples', async () => {
    const { d, clock } = setup({ ingestionRate: 2, ingestionBurstSize: 3 });
    // The invalid series costs nothing: 3 valid samples fit the burst.
    expect((await d.push('t', { batch: batch([['__name__', 'm'], ['job', 'x']], [[1, 2, 3], [1, 2]]), histogramCount: 0 })).samplesWritten).toBe(3);
    const err = (await d.push('t', { batch: batch([['__name__', 'm']], [[4, 5]]), histogramCount: 0 }).catch((e: unknown) => e)) as RequestRefusedError;
    expect([err.kind, err.code, err.retryAfterSeconds]).toEqual(['rate_limited', 'ingestion-rate-limited', 1]);
    clock.advance(1000);
    expect((await d.push('t', { batch: batch([['__name__', 'm']], [[4, 5]]), histogramCount: 0 })).samplesWritten).toBe(2);
  });

  it('stores exemplars and metadata with the tenant bounds; bad ones are dropped without a 400', async () => {
    const { backend, d } = setup({ maxExemplarsPerTenant: 10 });
    const out = await d.push('t', {
      batch: batch([['__name__', 'm', 'job', 'j'], ['bad']], [[NOW], []]),
      histogramCount: 0,
      exemplars: [
        { seriesIndex: 0, labels: ['trace_id', 'abc'], value: 2, tsMs: NOW },
        { seriesIndex: 0, labels: ['trace_id', 'x'.repeat(200)], value: 2, tsMs: NOW - 1 },
        { seriesIndex: 1, labels: ['trace_id', 'y'], value: 2, tsMs: NOW },
      ],
      metadata: [
        { metric: 'm', type: 'counter', help: 'h', unit: '' },
        { metric: '', type: 'gauge', help: '', unit: '' },
      ],
    });
    expect(out.rejected).toEqual([]);
    expect([out.exemplarsWritten, out.metadataWritten]).toEqual([1, 1]);
    expect(out.extrasRejected.map((r) => r.code).sort()).toEqual(['exemplar-labels-too-long', 'exemplar-series-invalid', 'metadata-missing-metric-name']);
    const ex = await backend.exemplars('t', [[{ type: MatchType.EQ, name: '__name__', value: 'm' }]], 0, NOW);
    expect(ex).toEqual([{ seriesLabels: ['__name__', 'm', 'job', 'j'], labels: ['trace_id', 'abc'], value: 2, tsMs: NOW }]);
    expect(await backend.metadata('t', { metric: '', limit: 0, limitPerMetric: 0 })).toEqual([{ metric: 'm', type: 'counter', help: 'h', unit: '' }]);
  });
});
