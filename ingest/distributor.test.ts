import { describe, expect, it } from 'vitest';
import { AppError, ErrorKind } from '../common/errors.js';
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
      limitsFor: (t) => (seen.push(t), { maxLabelNamesPerSeries: t === 'strict' ? 1 : 0, maxLabelNameLength: 0, maxLabelValueLength: 0 }),
    });
    const mk = () => batch([['__name__', 'm', 'a', 'b']], [[1]]);
    expect((await d.push('strict', { batch: mk(), histogramCount: 0 })).rejected.map((r) => r.code)).toEqual(['max-label-names']);
    expect((await d.push('loose', { batch: mk(), histogramCount: 0 })).rejected).toEqual([]);
    expect(seen).toEqual(['strict', 'loose']);
    const got = await createLocalStorageClient(backend).select('loose', [{ type: MatchType.EQ, name: '__name__', value: 'm' }], 0, 10);
    expect(got).toHaveLength(1);
  });
});
