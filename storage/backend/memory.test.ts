import { describe, expect, it } from 'vitest';
import { ErrorKind } from '../../common/errors.js';
import { MatchType, setStaleNaNAt, wordsOf, type Labels, type Matcher, type SampleBatch } from '../../common/types.js';
import { decodeRawChunk, rawChunkSampleCount } from '../chunk/raw.js';
import { ChunkEncoding } from './backend.js';
import { MemoryBackend } from './memory.js';

/** Builds a batch from [labels, [[t, v], …]] rows; `stale` as v writes the staleness marker. */
function batch(rows: Array<[Labels, Array<[number, number | 'stale']>]>): SampleBatch {
  const total = rows.reduce((n, [, s]) => n + s.length, 0);
  const tsMs = new Float64Array(total);
  const values = new Float64Array(total);
  const sampleStart = new Uint32Array(rows.length + 1);
  let k = 0;
  rows.forEach(([, samples], i) => {
    for (const [t, v] of samples) {
      tsMs[k] = t;
      if (v === 'stale') setStaleNaNAt(values, k);
      else values[k] = v;
      k++;
    }
    sampleStart[i + 1] = k;
  });
  return { series: rows.map(([l]) => l), sampleStart, tsMs, values };
}

const eq = (name: string, value: string): Matcher => ({ type: MatchType.EQ, name, value });
const re = (name: string, value: string): Matcher => ({ type: MatchType.RE, name, value });
const all = { startMs: 0, endMs: 1e15, limit: 0 };

const A: Labels = ['__name__', 'up', 'job', 'a'];
const B: Labels = ['__name__', 'up', 'job', 'b'];
const C: Labels = ['__name__', 'x', 'env', 'prod'];

async function read(be: MemoryBackend, tenant: string, matchers: Matcher[], start: number, end: number) {
  const sel = await be.select(tenant, matchers, start, end);
  return sel.map((s) => {
    expect(s.chunks).toHaveLength(1);
    const c = s.chunks[0]!;
    expect(c.encoding).toBe(ChunkEncoding.RAW);
    const n = rawChunkSampleCount(c.data);
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    decodeRawChunk(c.data, ts, vs, 0);
    expect([c.minTimeMs, c.maxTimeMs]).toEqual([ts[0], ts[n - 1]]);
    return { labels: s.labels, ts: Array.from(ts), words: Array.from(wordsOf(vs)), vs: Array.from(vs) };
  });
}

describe('MemoryBackend sample rules', () => {
  it.each([
    { name: 'in order', samples: [[1, 1], [2, 2]], written: 2, rejected: [], kept: [1, 2] },
    { name: 'identical duplicate is a no-op', samples: [[1, 1], [1, 1]], written: 2, rejected: [], kept: [1] },
    { name: 'changed duplicate', samples: [[1, 1], [1, 2]], written: 1, rejected: [['sample-duplicate-timestamp', 1]], kept: [1] },
    { name: 'out of order', samples: [[5, 1], [3, 1], [4, 1], [6, 1]], written: 2, rejected: [['sample-out-of-order', 2]], kept: [5, 6] },
    {
      name: 'both',
      samples: [[5, 1], [5, 2], [3, 1]],
      written: 1,
      rejected: [['sample-duplicate-timestamp', 1], ['sample-out-of-order', 1]],
      kept: [5],
    },
  ] as const)('$name', async ({ samples, written, rejected, kept }) => {
    const be = new MemoryBackend();
    const res = await be.append('t', batch([[A, samples.map(([t, v]) => [t, v] as [number, number])]]));
    expect(res.samplesWritten).toBe(written);
    expect(res.rejected.map((r) => [r.code, r.count])).toEqual(rejected);
    for (const r of res.rejected) expect(r.example).toContain('up{job="a"}');
    const got = await read(be, 't', [eq('__name__', 'up')], 0, 100);
    expect(got[0]?.ts).toEqual(kept);
  });

  it('judges a later batch against earlier ones, and identical stale markers as duplicates', async () => {
    const be = new MemoryBackend();
    await be.append('t', batch([[A, [[10, 1], [20, 'stale']]]]));
    const res = await be.append('t', batch([[A, [[20, 'stale'], [15, 3], [20, Number.NaN]]]]));
    expect(res.samplesWritten).toBe(1);
    expect(res.rejected.map((r) => [r.code, r.count])).toEqual([
      ['sample-duplicate-timestamp', 1],
      ['sample-out-of-order', 1],
    ]);
  });

  it('keeps values bit-exact (stale marker, ±Inf, -0) across growth', async () => {
    const be = new MemoryBackend();
    const samples: Array<[number, number | 'stale']> = [];
    for (let i = 0; i < 100; i++) samples.push([i * 1000, i % 4 === 0 ? 'stale' : i % 4 === 1 ? Infinity : i % 4 === 2 ? -Infinity : -0]);
    const b = batch([[A, samples]]);
    await be.append('t', b);
    const [got] = await read(be, 't', [eq('job', 'a')], 0, 1e9);
    expect(got?.words).toEqual(Array.from(wordsOf(b.values)));
  });
});

describe('MemoryBackend queries', () => {
  async function fixture(): Promise<MemoryBackend> {
    const be = new MemoryBackend();
    await be.append('t1', batch([[B, [[100, 1], [200, 2], [300, 3]]], [A, [[100, 1]]], [C, [[500, 5]]]]));
    await be.append('t2', batch([[A, [[100, 9]]]]));
    return be;
  }

  it.each([
    { name: 'by name, sorted', m: [eq('__name__', 'up')], start: 0, end: 1000, want: [[A, [100]], [B, [100, 200, 300]]] },
    { name: 'trimmed to range', m: [eq('__name__', 'up')], start: 150, end: 300, want: [[B, [200, 300]]] },
    { name: 'regex', m: [re('job', 'b|c')], start: 0, end: 1000, want: [[B, [100, 200, 300]]] },
    { name: 'empty-matching matcher plus another', m: [eq('env', ''), eq('__name__', 'up'), eq('job', 'a')], start: 0, end: 1000, want: [[A, [100]]] },
    { name: 'no overlap', m: [eq('__name__', 'x')], start: 0, end: 499, want: [] },
  ])('select $name', async ({ m, start, end, want }) => {
    const be = await fixture();
    const got = await read(be, 't1', m, start, end);
    expect(got.map((g) => [g.labels, g.ts])).toEqual(want);
  });

  it('isolates tenants', async () => {
    const be = await fixture();
    const got = await read(be, 't2', [eq('__name__', 'up')], 0, 1000);
    expect(got.map((g) => [g.labels, g.vs])).toEqual([[A, [9]]]);
    expect(await be.labelNames('nobody', [], all)).toEqual([]);
  });

  it('rejects a selector whose matchers all match the empty string', async () => {
    const be = await fixture();
    await expect(be.select('t1', [re('job', '.*')], 0, 10)).rejects.toMatchObject({ kind: ErrorKind.BadData, code: 'selector-matches-empty' });
  });

  it.each([
    { name: 'all', m: [], opts: all, want: ['__name__', 'env', 'job'] },
    { name: 'limit', m: [], opts: { ...all, limit: 2 }, want: ['__name__', 'env'] },
    { name: 'matchers', m: [eq('__name__', 'up')], opts: all, want: ['__name__', 'job'] },
    { name: 'time range', m: [], opts: { startMs: 400, endMs: 600, limit: 0 }, want: ['__name__', 'env'] },
  ])('labelNames $name', async ({ m, opts, want }) => {
    expect(await (await fixture()).labelNames('t1', m, opts)).toEqual(want);
  });

  it.each([
    { name: 'name', label: '__name__', m: [], opts: all, want: ['up', 'x'] },
    { name: 'absent label skipped', label: 'job', m: [], opts: all, want: ['a', 'b'] },
    { name: 'limit', label: 'job', m: [], opts: { ...all, limit: 1 }, want: ['a'] },
    { name: 'range', label: 'job', m: [], opts: { startMs: 150, endMs: 250, limit: 0 }, want: ['b'] },
  ])('labelValues $name', async ({ label, m, opts, want }) => {
    expect(await (await fixture()).labelValues('t1', label, m, opts)).toEqual(want);
  });

  it.each([
    { name: 'all', m: [re('__name__', '.+')], opts: all, want: [A, B, C] },
    { name: 'limit', m: [re('__name__', '.+')], opts: { ...all, limit: 1 }, want: [A] },
  ])('series $name', async ({ m, opts, want }) => {
    expect(await (await fixture()).series('t1', m, opts)).toEqual(want);
  });

  it('fails with unavailable after close', async () => {
    const be = await fixture();
    await be.close();
    await expect(be.labelNames('t1', [], all)).rejects.toMatchObject({ kind: ErrorKind.Unavailable });
  });
});
