import { describe, expect, it } from 'vitest';
import { MatchType, type SampleBatch } from '../common/types.js';
import { MemoryBackend } from '../storage/backend/memory.js';
import { createLocalStorageClient } from '../storage/client/local.js';
import { LimitedQueryable, federatedQueryable, selectTenants, withTenantLabel } from './queryable.js';

const one = (labels: string[], t: number, v: number): SampleBatch => ({ series: [labels], sampleStart: Uint32Array.of(0, 1), tsMs: Float64Array.of(t), values: Float64Array.of(v) });
const eq = (name: string, value: string) => ({ type: MatchType.EQ, name, value });

describe('federation', () => {
  it.each<[string, Array<{ type: 0 | 1 | 2 | 3; name: string; value: string }>, string[], number]>([
    ['no tenant matcher', [eq('__name__', 'up')], ['a', 'b'], 1],
    ['equality', [eq('__name__', 'up'), eq('__tenant_id__', 'b')], ['b'], 1],
    ['regex', [eq('__name__', 'up'), { type: MatchType.RE, name: '__tenant_id__', value: 'a|c' }], ['a'], 1],
    ['only a tenant matcher: storage gets match-all', [eq('__tenant_id__', 'a')], ['a'], 1],
  ])('selectTenants: %s', (_name, matchers, tenants, nStorage) => {
    const sel = selectTenants(['a', 'b'], matchers);
    expect(sel.tenants).toEqual(tenants);
    expect(sel.matchers).toHaveLength(nStorage);
    expect(sel.matchers.some((m) => m.name === '__tenant_id__')).toBe(false);
  });

  it('withTenantLabel sorts the label in and keeps an existing one as original___tenant_id__', () => {
    expect(withTenantLabel(['__name__', 'up', 'job', 'x'], 't')).toEqual(['__name__', 'up', '__tenant_id__', 't', 'job', 'x']);
    expect(withTenantLabel(['__name__', 'up', '__tenant_id__', 'old'], 't')).toEqual(['__name__', 'up', '__tenant_id__', 't', 'original___tenant_id__', 'old']);
  });

  it('federatedQueryable labels and merges; one tenant is passed through untouched', async () => {
    const backend = new MemoryBackend();
    await backend.append('a', one(['__name__', 'up'], 1000, 1));
    await backend.append('b', one(['__name__', 'up'], 1000, 2));
    const client = createLocalStorageClient(backend);
    const fed = await federatedQueryable(client, ['a', 'b']).select([eq('__name__', 'up')], 0, 2000);
    expect(fed.map((s) => [s.labels, Array.from(s.values)])).toEqual([
      [['__name__', 'up', '__tenant_id__', 'a'], [1]],
      [['__name__', 'up', '__tenant_id__', 'b'], [2]],
    ]);
    const single = await federatedQueryable(client, ['b']).select([eq('__name__', 'up')], 0, 2000);
    expect(single.map((s) => s.labels)).toEqual([['__name__', 'up']]);
  });

  it('LimitedQueryable fails with 422 over the series or sample budget', async () => {
    const backend = new MemoryBackend();
    await backend.append('a', one(['__name__', 'up', 'i', '1'], 1000, 1));
    await backend.append('a', one(['__name__', 'up', 'i', '2'], 1000, 1));
    const inner = federatedQueryable(createLocalStorageClient(backend), ['a']);
    await expect(new LimitedQueryable(inner, { maxSeries: 1, maxSamples: 0 }, '"a"').select([eq('__name__', 'up')], 0, 2000)).rejects.toMatchObject({
      kind: 'execution',
      code: 'query-too-many-series',
    });
    await expect(new LimitedQueryable(inner, { maxSeries: 0, maxSamples: 1 }, '"a"').select([eq('__name__', 'up')], 0, 2000)).rejects.toMatchObject({
      code: 'query-too-many-samples',
    });
    const ok = new LimitedQueryable(inner, { maxSeries: 2, maxSamples: 2 }, '"a"');
    await ok.select([eq('__name__', 'up')], 0, 2000);
    expect([ok.seriesLoaded, ok.samplesLoaded]).toEqual([2, 2]);
  });
});
