import { describe, expect, it } from 'vitest';
import { ErrorKind } from '../../common/errors.js';
import { MatchType, type Matcher, type SampleBatch } from '../../common/types.js';
import type { Backend } from '../backend/backend.js';
import { MemoryBackend } from '../backend/memory.js';
import { createLocalStorageClient } from './local.js';

const up: Matcher = { type: MatchType.EQ, name: '__name__', value: 'up' };
const opts = { startMs: 0, endMs: 1e12, limit: 0 };

function oneSeries(ts: number[], vs: number[]): SampleBatch {
  return {
    series: [['__name__', 'up', 'job', 'a']],
    sampleStart: Uint32Array.from([0, ts.length]),
    tsMs: Float64Array.from(ts),
    values: Float64Array.from(vs),
  };
}

describe('createLocalStorageClient', () => {
  it('writes, selects (decoded and trimmed) and looks up', async () => {
    const client = createLocalStorageClient(new MemoryBackend());
    const res = await client.write('t', oneSeries([1000, 2000, 3000], [1, 2, 3]));
    expect(res).toEqual({ samplesWritten: 3, rejected: [] });
    const got = await client.select('t', [up], 1500, 3000);
    expect(got.map((s) => [s.labels, Array.from(s.tsMs), Array.from(s.values)])).toEqual([[['__name__', 'up', 'job', 'a'], [2000, 3000], [2, 3]]]);
    expect(await client.labelNames('t', [], opts)).toEqual(['__name__', 'job']);
    expect(await client.labelValues('t', 'job', [up], opts)).toEqual(['a']);
    expect(await client.series('t', [up], opts)).toEqual([['__name__', 'up', 'job', 'a']]);
    expect(await client.ready()).toBe(true);
  });

  it('rejects with canceled when the signal is already aborted', async () => {
    const client = createLocalStorageClient(new MemoryBackend());
    const ac = new AbortController();
    ac.abort();
    await expect(client.select('t', [up], 0, 1, ac.signal)).rejects.toMatchObject({ kind: ErrorKind.Canceled });
  });

  it('turns non-AppErrors into internal AppErrors and reports not ready', async () => {
    const broken = new Proxy({} as Backend, {
      get: () => () => Promise.reject(new Error('disk on fire')),
    });
    const client = createLocalStorageClient(broken);
    await expect(client.labelNames('t', [], opts)).rejects.toMatchObject({ kind: ErrorKind.Internal, message: 'disk on fire' });
    expect(await client.ready()).toBe(false);
  });

  it('passes AppErrors through (closed backend → unavailable)', async () => {
    const be = new MemoryBackend();
    const client = createLocalStorageClient(be);
    await be.close();
    await expect(client.write('t', oneSeries([1], [1]))).rejects.toMatchObject({ kind: ErrorKind.Unavailable, code: 'storage-closed' });
  });
});
