import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../common/errors.js';
import { labelsFromRecord } from '../../../common/labels.js';
import { type Labels, type Matcher, MatchType, wordsOf } from '../../../common/types.js';
import { ChunkEncoding } from '../backend.js';
import { SqliteBackend } from './sqlite-backend.js';
import { chunkSampleCount, decodeSelected as decode, sampleBatch, vals, type TestValue } from '../../../test/helpers/chunks.js';

const STALE: readonly [number, number] = [0x7ff00000, 0x00000002];
type V = TestValue;

const dirs: string[] = [];
const open: SqliteBackend[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'promstore-sqlite-'));
  dirs.push(d);
  return d;
}

function openBackend(dataDir: string, extra: { samplesPerChunk?: number; maxWalBytes?: number; rowChunks?: number } = {}): SqliteBackend {
  const b = SqliteBackend.open({ dataDir, checkpointIntervalMs: 0, ...extra });
  open.push(b);
  return b;
}

afterEach(async () => {
  for (const b of open.splice(0)) await b.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const L = (r: Record<string, string>): Labels => labelsFromRecord(r);

const batch = sampleBatch;

function wordsFor(vs: readonly V[]): number[] {
  return Array.from(wordsOf(vals(vs)));
}

const m = (type: Matcher['type'], name: string, value: string): Matcher => ({ type, name, value });
const ALL = { startMs: -Infinity, endMs: Infinity, limit: 0 };

describe('append and select', () => {
  it('round-trips values bit-exact, including stale markers, NaN, ±Inf and -0', async () => {
    const b = openBackend(tempDir());
    const labels = L({ __name__: 'up', job: 'a' });
    const vs: V[] = [1, STALE, NaN, Infinity, -Infinity, -0, [0x7ff80000, 1], 2.5];
    const ts = vs.map((_, i) => 1_700_000_000_000 + i * 15_000);
    const res = await b.append('t1', batch([labels, ts, vs]));
    expect(res).toEqual({ samplesWritten: vs.length, rejected: [] });
    const sel = await b.select('t1', [m(MatchType.EQ, '__name__', 'up')], 0, Infinity);
    expect(sel.map((s) => s.labels)).toEqual([labels]);
    const got = decode(sel[0]!);
    expect(got.ts).toEqual(ts);
    expect(got.words).toEqual(wordsFor(vs));
  });

  it('cuts chunks at samplesPerChunk and returns them in time order', async () => {
    const b = openBackend(tempDir());
    const labels = L({ __name__: 'c' });
    const ts = Array.from({ length: 250 }, (_, i) => i * 1000);
    await b.append('t', batch([labels, ts, ts.map((t) => t / 7)]));
    let sel = await b.select('t', [m(MatchType.EQ, '__name__', 'c')], 0, 1e9);
    expect(sel[0]!.chunks.map((c) => [c.minTimeMs, c.maxTimeMs])).toEqual([
      [0, 119_000],
      [120_000, 239_000],
      [240_000, 249_000],
    ]);
    expect(decode(sel[0]!).ts).toEqual(ts);
    expect(b.stats().chunksFlushed).toBe(0); // cut chunks are written by the next transaction
    b.checkpoint();
    expect(b.stats().chunksFlushed).toBe(2);
    // The row is not complete (4 chunks by default): a checkpoint keeps its chunks as XOR, and a
    // select returns those overlapping the range.
    sel = await b.select('t', [m(MatchType.EQ, '__name__', 'c')], 130_000, 135_000);
    expect(sel[0]!.chunks.map((c) => [c.minTimeMs, c.maxTimeMs, c.encoding])).toEqual([[120_000, 239_000, ChunkEncoding.XOR]]);
    // An admin flush seals the open row: one compact row [0, 239s], returned whole; range
    // restriction returns the rows overlapping the range, then the head.
    await b.flush();
    expect(b.stats().chunksFlushed).toBe(2);
    sel = await b.select('t', [m(MatchType.EQ, '__name__', 'c')], 130_000, 135_000);
    expect(sel[0]!.chunks.map((c) => [c.minTimeMs, c.maxTimeMs, c.encoding])).toEqual([[0, 239_000, ChunkEncoding.COMPACT]]);
    sel = await b.select('t', [m(MatchType.EQ, '__name__', 'c')], 239_000, 240_000);
    expect(sel[0]!.chunks.map((c) => c.minTimeMs)).toEqual([0, 240_000]);
    expect(decode((await b.select('t', [m(MatchType.EQ, '__name__', 'c')], 0, 1e9))[0]!).ts).toEqual(ts);
    sel = await b.select('t', [m(MatchType.EQ, '__name__', 'c')], 300_000, 400_000);
    expect(sel).toEqual([]);
  });

  it('merges chunks flushed together into rows of at most rowChunks chunks, values bit-exact', async () => {
    const b = openBackend(tempDir(), { samplesPerChunk: 4, rowChunks: 2 });
    const ts = Array.from({ length: 21 }, (_, i) => i * 10);
    const vs: V[] = ts.map((t, i) => (i === 7 ? STALE : i % 5 === 0 ? t / 3 : t));
    await b.append('t', batch([L({ __name__: 'r' }), ts, vs]));
    b.checkpoint();
    let sel = await b.select('t', [m(MatchType.EQ, '__name__', 'r')], 0, 1e9);
    // Five cut chunks of 4 → complete rows of 8 and 8 samples, the fifth chunk as it is in the
    // open row (a checkpoint re-encodes only complete rows), then the 1-sample head.
    expect(sel[0]!.chunks.map((c) => [c.minTimeMs, c.maxTimeMs, chunkSampleCount(c), c.encoding])).toEqual([
      [0, 70, 8, ChunkEncoding.COMPACT],
      [80, 150, 8, ChunkEncoding.COMPACT],
      [160, 190, 4, ChunkEncoding.XOR],
      [200, 200, 1, ChunkEncoding.XOR],
    ]);
    let got = decode(sel[0]!);
    expect(got.ts).toEqual(ts);
    expect(got.words).toEqual(wordsFor(vs));
    // An admin flush re-encodes the open row compact, bit-exact.
    await b.flush();
    sel = await b.select('t', [m(MatchType.EQ, '__name__', 'r')], 0, 1e9);
    expect(sel[0]!.chunks.map((c) => [c.minTimeMs, c.maxTimeMs, chunkSampleCount(c), c.encoding])).toEqual([
      [0, 70, 8, ChunkEncoding.COMPACT],
      [80, 150, 8, ChunkEncoding.COMPACT],
      [160, 190, 4, ChunkEncoding.COMPACT],
      [200, 200, 1, ChunkEncoding.XOR],
    ]);
    got = decode(sel[0]!);
    expect(got.ts).toEqual(ts);
    expect(got.words).toEqual(wordsFor(vs));
  });

  it('honours a custom samplesPerChunk', async () => {
    const b = openBackend(tempDir(), { samplesPerChunk: 4 });
    const ts = Array.from({ length: 10 }, (_, i) => i);
    await b.append('t', batch([L({ __name__: 'x' }), ts, ts]));
    const sel = await b.select('t', [m(MatchType.EQ, '__name__', 'x')], 0, 100);
    expect(sel[0]!.chunks.map((c) => chunkSampleCount(c))).toEqual([4, 4, 2]);
  });
});

describe('sample rules', () => {
  const S = L({ __name__: 'm', job: 'j' });
  it.each([
    { name: 'newer sample appends', ts: [30], vs: [3], written: 1, rejected: [] as [string, number][] },
    { name: 'identical re-send is a no-op counted as written', ts: [20], vs: [2], written: 1, rejected: [] },
    { name: 'same timestamp, other value', ts: [20], vs: [2.5], written: 0, rejected: [['sample-duplicate-timestamp', 1]] },
    { name: 'same timestamp, value differing in the lowest bit', ts: [20], vs: [[0x40000000, 1] as const], written: 0, rejected: [['sample-duplicate-timestamp', 1]] },
    { name: 'older sample', ts: [15], vs: [1], written: 0, rejected: [['sample-out-of-order', 1]] },
    {
      name: 'mixed batch, rules applied in order',
      ts: [5, 20, 20, 25, 24, 25, 25, 26],
      vs: [0, 2, 9, 3, 1, 3, 4, 5],
      written: 4,
      rejected: [
        ['sample-duplicate-timestamp', 2],
        ['sample-out-of-order', 2],
      ],
    },
    { name: 'non-integer timestamp', ts: [30.5, NaN], vs: [1, 1], written: 0, rejected: [['sample-timestamp-invalid', 2]] },
  ])('$name', async ({ ts, vs, written, rejected }) => {
    const b = openBackend(tempDir());
    await b.append('t', batch([S, [10, 20], [1, 2]]));
    const res = await b.append('t', batch([S, ts, vs]));
    expect(res.samplesWritten).toBe(written);
    expect(res.rejected.map((r) => [r.code, r.count])).toEqual(rejected);
    for (const r of res.rejected) {
      expect(r.example).toContain('m{job="j"}');
      expect(r.example).toContain(`[err-${r.code}]`);
    }
    // Rejected samples never reach storage.
    const got = decode((await b.select('t', [m(MatchType.EQ, 'job', 'j')], -Infinity, Infinity))[0]!);
    expect(got.ts).toEqual([...new Set([10, 20, ...ts.filter((t, i) => Number.isInteger(t) && t > 20 && ts.slice(0, i).every((u) => u < t))])]);
  });

  it('judges batches queued into one group commit against each other', async () => {
    const b = openBackend(tempDir());
    const [r1, r2] = await Promise.all([b.append('t', batch([S, [100], [1]])), b.append('t', batch([S, [100, 50], [2, 0]]))]);
    expect(r1).toEqual({ samplesWritten: 1, rejected: [] });
    expect(r2.rejected.map((r) => [r.code, r.count])).toEqual([
      ['sample-duplicate-timestamp', 1],
      ['sample-out-of-order', 1],
    ]);
  });

  it('duplicate check survives a restart (last value restored from a persisted chunk)', async () => {
    const dir = tempDir();
    const b = openBackend(dir, { samplesPerChunk: 2 });
    await b.append('t', batch([S, [1, 2], [1, STALE]]));
    await b.close();
    const b2 = openBackend(dir, { samplesPerChunk: 2 });
    expect(await b2.append('t', batch([S, [2], [STALE]]))).toEqual({ samplesWritten: 1, rejected: [] });
    expect((await b2.append('t', batch([S, [2], [NaN]]))).rejected[0]?.code).toBe('sample-duplicate-timestamp');
    expect((await b2.append('t', batch([S, [1], [1]]))).rejected[0]?.code).toBe('sample-out-of-order');
  });
});

describe('value words with the top bit set', () => {
  // -0.1 and a NaN with a payload: both words ≥ 2^31, kept as int32 in memory, uint32 in the file.
  const NEG: readonly [number, number] = [0xbfb99999, 0x9999999a];
  const PAYLOAD: readonly [number, number] = [0xfff80000, 0x80000001];
  const flipped = (v: readonly [number, number]): readonly [number, number] => [v[0], (v[1] ^ 1) >>> 0];
  const A = L({ __name__: 'w', s: 'a' });
  const B = L({ __name__: 'w', s: 'b' });

  async function judge(b: SqliteBackend): Promise<void> {
    expect(await b.append('t', batch([A, [3], [NEG]], [B, [2], [PAYLOAD]]))).toEqual({ samplesWritten: 2, rejected: [] });
    const dup = await b.append('t', batch([A, [3], [flipped(NEG)]], [B, [2], [flipped(PAYLOAD)]]));
    expect(dup.rejected.map((r) => [r.code, r.count])).toEqual([['sample-duplicate-timestamp', 2]]);
    const newest = await b.select('t', [m(MatchType.EQ, '__name__', 'w')], 1, 10, { newestOnly: true });
    expect(newest.map((x) => decode(x))).toEqual([
      { ts: [3], words: wordsFor([NEG]) },
      { ts: [2], words: wordsFor([PAYLOAD]) },
    ]);
  }

  it('are judged and restored exactly, and stored unsigned', async () => {
    const dir = tempDir();
    const b = openBackend(dir, { samplesPerChunk: 2 });
    await b.append('t', batch([A, [1, 2, 3], [NEG, NEG, NEG]], [B, [1, 2], [PAYLOAD, PAYLOAD]]));
    await judge(b);
    await b.flush();
    await judge(b);
    await b.close();
    const db = new Database(join(dir, 'tenants', 't.db'), { readonly: true });
    const words = db.prepare('SELECT last_lo, last_hi FROM head WHERE last_lo IS NOT NULL').raw().all() as number[][];
    db.close();
    expect(words).toContainEqual([NEG[1], NEG[0]]);
    for (const w of words.flat()) expect(w).toBeGreaterThanOrEqual(0);
    const b2 = openBackend(dir, { samplesPerChunk: 2 });
    await judge(b2);
  });
});

describe('matchers and lookups', () => {
  const series: Labels[] = [
    L({ __name__: 'up', job: 'a', instance: '1' }),
    L({ __name__: 'up', job: 'ab', instance: '2' }),
    L({ __name__: 'up', job: 'b' }),
    L({ __name__: 'other', job: 'a', env: 'prod' }),
  ];
  const names = (ls: readonly Labels[]): string[] => ls.map((l) => l.join(','));

  async function load(): Promise<SqliteBackend> {
    const b = openBackend(tempDir());
    await b.append('t', batch(...series.map((l, i): [Labels, number[], number[]] => [l, [1000 * (i + 1)], [i]])));
    return b;
  }

  it.each([
    { q: [m(MatchType.EQ, 'job', 'a')], want: [3, 0] },
    { q: [m(MatchType.EQ, '__name__', 'up'), m(MatchType.NEQ, 'job', 'a')], want: [0, 1, 2].filter((i) => i !== 0) },
    { q: [m(MatchType.RE, 'job', 'a')], want: [3, 0] }, // anchored: does not match "ab"
    { q: [m(MatchType.RE, 'job', 'a.*')], want: [3, 0, 1] },
    { q: [m(MatchType.RE, 'job', 'a|b')], want: [3, 0, 2] },
    { q: [m(MatchType.RE, 'job', '(?i)A')], want: [3, 0] },
    { q: [m(MatchType.EQ, '__name__', 'up'), m(MatchType.NRE, 'job', 'a.*')], want: [2] },
    { q: [m(MatchType.EQ, '__name__', 'up'), m(MatchType.EQ, 'instance', '')], want: [2] }, // absent label
    { q: [m(MatchType.NEQ, 'instance', '')], want: [0, 1] },
    { q: [m(MatchType.RE, 'instance', '.+')], want: [0, 1] },
    { q: [m(MatchType.RE, 'instance', '1|')], want: [3, 0, 2] }, // matches the empty string
    { q: [m(MatchType.RE, 'nope', '.*')], want: [3, 0, 1, 2] }, // only empty-matching matchers: all series
    { q: [m(MatchType.NEQ, 'job', 'a')], want: [1, 2] },
    { q: [m(MatchType.NRE, 'env', 'prod')], want: [0, 1, 2] },
    { q: [m(MatchType.EQ, 'job', 'zzz')], want: [] },
    { q: [m(MatchType.EQ, 'job', 'a'), m(MatchType.EQ, 'job', 'b')], want: [] },
  ])('select $q.0.name $q.0.type $q.0.value …', async ({ q, want }) => {
    const b = await load();
    const sel = await b.select('t', q, 0, 1e12);
    // Results are sorted by label set: "other" < "up"; within up, job a < ab < b.
    expect(names(sel.map((s) => s.labels))).toEqual(names(want.map((i) => series[i]!)));
  });

  it('rejects an invalid regex with bad_data', async () => {
    const b = await load();
    await expect(b.select('t', [m(MatchType.RE, 'job', '(')], 0, 1)).rejects.toMatchObject({ code: 'invalid-regex' });
  });

  it('answers label names, values and series, with matchers, time range and limit', async () => {
    const b = await load();
    expect(await b.labelNames('t', [], ALL)).toEqual(['__name__', 'env', 'instance', 'job']);
    expect(await b.labelNames('t', [m(MatchType.EQ, '__name__', 'up')], ALL)).toEqual(['__name__', 'instance', 'job']);
    expect(await b.labelNames('t', [], { startMs: 0, endMs: 2500, limit: 0 })).toEqual(['__name__', 'instance', 'job']);
    expect(await b.labelNames('t', [], { ...ALL, limit: 2 })).toEqual(['__name__', 'env']);
    expect(await b.labelValues('t', 'job', [], ALL)).toEqual(['a', 'ab', 'b']);
    expect(await b.labelValues('t', 'job', [m(MatchType.EQ, '__name__', 'up')], { startMs: 1500, endMs: 1e9, limit: 0 })).toEqual(['ab', 'b']);
    expect(await b.labelValues('t', 'job', [], { ...ALL, limit: 1 })).toEqual(['a']);
    expect(await b.labelValues('t', 'missing', [], ALL)).toEqual([]);
    expect(names(await b.series('t', [m(MatchType.EQ, 'job', 'a')], ALL))).toEqual(names([series[3]!, series[0]!]));
    expect(names(await b.series('t', [], { startMs: 3500, endMs: 5000, limit: 0 }))).toEqual(names([series[3]!]));
    expect(await b.series('t', [m(MatchType.RE, 'job', '.+')], { ...ALL, limit: 2 })).toHaveLength(2);
  });

  it('isolates tenants that use the same series names', async () => {
    const b = openBackend(tempDir());
    const l = L({ __name__: 'up', job: 'x' });
    await b.append('alpha', batch([l, [1, 2], [1, 1]]));
    await b.append('beta', batch([l, [5], [7]]));
    const a = await b.select('alpha', [m(MatchType.EQ, 'job', 'x')], 0, 10);
    const bb = await b.select('beta', [m(MatchType.EQ, 'job', 'x')], 0, 10);
    expect(decode(a[0]!).ts).toEqual([1, 2]);
    expect(decode(bb[0]!).ts).toEqual([5]);
    // Same timestamp in another tenant is no duplicate.
    expect(await b.append('beta', batch([l, [2], [9]]))).toMatchObject({ rejected: [{ code: 'sample-out-of-order' }] });
    expect(await b.select('gamma', [m(MatchType.EQ, 'job', 'x')], 0, 10)).toEqual([]);
    expect(await b.labelNames('gamma', [], ALL)).toEqual([]);
  });

  it('rejects unsafe tenant ids', async () => {
    const b = openBackend(tempDir());
    for (const t of ['..', '.', 'a/b', '']) {
      await expect(b.append(t, batch([L({ __name__: 'x' }), [1], [1]]))).rejects.toMatchObject({ code: 'invalid-tenant' });
    }
  });
});

describe('durability', () => {
  const S1 = L({ __name__: 'a', i: '1' });
  const S2 = L({ __name__: 'a', i: '2' });

  async function expectSeries(b: SqliteBackend, want: { labels: Labels; ts: number[]; vs: V[] }[]): Promise<void> {
    const sel = await b.select('t', [m(MatchType.EQ, '__name__', 'a')], -Infinity, Infinity);
    expect(sel.map((s) => s.labels)).toEqual(want.map((w) => w.labels));
    sel.forEach((s, i) => {
      const got = decode(s);
      expect(got.ts).toEqual(want[i]!.ts);
      expect(got.words).toEqual(wordsFor(want[i]!.vs));
    });
  }

  it('recovers everything after close and reopen, and keeps appending', async () => {
    const dir = tempDir();
    const b = openBackend(dir, { samplesPerChunk: 5 });
    const ts = Array.from({ length: 12 }, (_, i) => i * 10);
    const vs: V[] = ts.map((t, i) => (i === 7 ? STALE : t));
    await b.append('t', batch([S1, ts, vs], [S2, [3], [3]]));
    await b.close();
    await expect(b.append('t', batch([S1, [1000], [1]]))).rejects.toMatchObject({ code: 'storage-closed', kind: 'unavailable' });
    await expect(b.select('t', [], 0, 1)).rejects.toBeInstanceOf(AppError);

    const b2 = openBackend(dir, { samplesPerChunk: 5 });
    await expectSeries(b2, [
      { labels: S1, ts, vs },
      { labels: S2, ts: [3], vs: [3] },
    ]);
    expect(b2.stats().walBytes).toBe(0);
    await b2.append('t', batch([S1, [200, 210, 220, 230], [1, 2, 3, 4]]));
    await b2.close();
    const b3 = openBackend(dir, { samplesPerChunk: 5 });
    await expectSeries(b3, [
      { labels: S1, ts: [...ts, 200, 210, 220, 230], vs: [...vs, 1, 2, 3, 4] },
      { labels: S2, ts: [3], vs: [3] },
    ]);
  });

  // Simulates kill -9: the first backend is never closed; a second one opens the same files.
  it.each([
    { name: 'WAL only, no checkpoint', checkpointAfter: -1 },
    { name: 'checkpoint mid-chunk, then more samples', checkpointAfter: 3 },
    { name: 'checkpoint after a cut, then more samples', checkpointAfter: 6 },
    { name: 'checkpoint after everything', checkpointAfter: 9 },
  ])('crash recovery: $name', async ({ checkpointAfter }) => {
    const dir = tempDir();
    const a = openBackend(dir, { samplesPerChunk: 4 });
    const all: number[] = [];
    const vals: V[] = [];
    for (let step = 0; step < 9; step++) {
      const ts = [step * 100, step * 100 + 50];
      const vs: V[] = [step, step === 4 ? STALE : -step];
      await a.append('t', batch([S1, ts, vs], ...(step === 2 ? [[S2, [7], [7]] as [Labels, number[], V[]]] : [])));
      all.push(...ts);
      vals.push(...vs);
      if (step + 1 === checkpointAfter) a.checkpoint();
    }
    const b = openBackend(dir, { samplesPerChunk: 4 });
    await expectSeries(b, [
      { labels: S1, ts: all, vs: vals },
      { labels: S2, ts: [7], vs: [7] },
    ]);
    // The recovered state accepts new samples and rejects stale ones.
    expect(await b.append('t', batch([S1, [850, 2000], [vals.at(-1) as V, 1]]))).toEqual({ samplesWritten: 2, rejected: [] });
  });

  it('deletes every WAL record it covers, also after a checkpoint emptied the table', async () => {
    // SQLite hands out max(id) + 1 for a rowid, so an emptied table would reuse id 1, which the
    // store had already deleted up to: the record was kept, and retention and replay compare ids.
    const dir = tempDir();
    const b = openBackend(dir);
    const walRows = (): number[] => {
      const db = new Database(join(dir, 'tenants', 't.db'), { readonly: true });
      try {
        return db.prepare<[], number>('SELECT id FROM wal ORDER BY id').pluck().all();
      } finally {
        db.close();
      }
    };
    for (let round = 0; round < 3; round++) {
      await b.append('t', batch([S1, [round * 10], [round]]));
      expect(walRows()).toEqual([round + 1]);
      b.checkpoint();
      expect(walRows()).toEqual([]);
    }
  });

  it('checkpoints when the WAL exceeds maxWalBytes', async () => {
    const b = openBackend(tempDir(), { maxWalBytes: 1000 });
    await b.append('t', batch([S1, [1], [1]]));
    expect(b.stats().checkpoints).toBe(0);
    const ts = Array.from({ length: 200 }, (_, i) => 10 + i);
    // Values that share few bits with their neighbours, so the record stays large (~10 bytes each).
    await b.append('t', batch([S1, ts, ts.map(Math.sqrt)]));
    // The checkpoint runs as a background task in bounded steps.
    await b.idle();
    expect(b.stats()).toMatchObject({ checkpoints: 1, walBytes: 0 });
  });
});

describe('select with newestOnly', () => {
  const A = L({ __name__: 'g', i: '1' });
  const B = L({ __name__: 'g', i: '2' });
  const C = L({ __name__: 'g', i: '3' });
  const ts = Array.from({ length: 30 }, (_, i) => 1000 + i * 1000);

  it('answers a query at or after every newest sample with just that sample, bit-exact, from memory', async () => {
    const b = openBackend(tempDir(), { samplesPerChunk: 8 });
    await b.append('t', batch([A, ts, ts.map((t) => t / 3)], [B, [1000, 29_000], [1, STALE]], [C, [2000], [5]]));
    // Persist most of it, so the full answer would have to read chunk rows.
    await b.flush();
    const sel = await b.select('t', [m(MatchType.EQ, '__name__', 'g')], 20_000, 40_000, { newestOnly: true });
    // C's only sample is before the range start: it is left out, as the full select leaves it out.
    expect(sel.map((s) => s.labels)).toEqual([A, B]);
    expect(sel.map((s) => s.chunks.map((c) => [c.encoding, c.minTimeMs, c.maxTimeMs]))).toEqual([
      [[ChunkEncoding.RAW, 30_000, 30_000]],
      [[ChunkEncoding.RAW, 29_000, 29_000]],
    ]);
    expect(decode(sel[0]!)).toEqual({ ts: [30_000], words: wordsFor([30_000 / 3]) });
    expect(decode(sel[1]!)).toEqual({ ts: [29_000], words: [...STALE].reverse() });
  });

  it('falls back to the full chunks when a series has samples after the range end', async () => {
    const b = openBackend(tempDir(), { samplesPerChunk: 8 });
    await b.append('t', batch([A, ts, ts]));
    const sel = await b.select('t', [m(MatchType.EQ, '__name__', 'g')], 10_000, 20_000, { newestOnly: true });
    expect(sel).toHaveLength(1);
    const got = decode(sel[0]!);
    expect(got.ts.filter((t) => t >= 10_000 && t <= 20_000)).toEqual(ts.filter((t) => t >= 10_000 && t <= 20_000));
  });
});

describe('flush', () => {
  const S1 = L({ __name__: 'a', i: '1' });
  const ts = Array.from({ length: 50 }, (_, i) => i * 1000);

  it('checkpoints every tenant and resolves once done; writes during it are accepted', async () => {
    const b = openBackend(tempDir(), { samplesPerChunk: 8 });
    await b.append('t', batch([S1, ts, ts]));
    await b.append('u', batch([S1, [5, 6], [1, 2]]));
    expect(b.stats('t').walBytes).toBeGreaterThan(0);
    expect(b.stats('u').walBytes).toBeGreaterThan(0);
    const flushing = b.flush();
    const during = b.append('t', batch([S1, [100_000], [7]]));
    await flushing;
    expect(await during).toEqual({ samplesWritten: 1, rejected: [] });
    expect(b.stats('u')).toMatchObject({ walBytes: 0, checkpoints: 1 });
    expect(b.stats('t').checkpoints).toBe(1);
    await b.flush();
    expect(b.stats('t')).toMatchObject({ walBytes: 0, checkpoints: 2 });
    const sel = await b.select('t', [m(MatchType.EQ, '__name__', 'a')], -Infinity, Infinity);
    expect(decode(sel[0]!).ts).toEqual([...ts, 100_000]);
  });

  it('waits for a checkpoint already running, then checkpoints what came after it', async () => {
    const b = openBackend(tempDir(), { maxWalBytes: 200 });
    await b.append('t', batch([S1, ts, ts]));
    // The WAL threshold started a background checkpoint; these samples arrive while it runs.
    const more = ts.map((t) => t + 100_000);
    const appended = b.append('t', batch([S1, more, more]));
    await b.flush();
    await appended;
    expect(b.stats('t').walBytes).toBe(0);
    const sel = await b.select('t', [m(MatchType.EQ, '__name__', 'a')], -Infinity, Infinity);
    expect(decode(sel[0]!).ts).toEqual([...ts, ...more]);
  });

  it('rejects with storage-closed after close', async () => {
    const b = openBackend(tempDir());
    await b.close();
    await expect(b.flush()).rejects.toMatchObject({ code: 'storage-closed', kind: 'unavailable' });
  });
});

describe('group commit', () => {
  it('coalesces concurrent appends into few transactions', async () => {
    const b = openBackend(tempDir());
    const n = 50;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => b.append('t', batch([L({ __name__: 'g', i: String(i) }), [1, 2], [i, i]]))),
    );
    expect(results.every((r) => r.samplesWritten === 2)).toBe(true);
    expect(b.stats().transactions).toBe(1);
    expect(b.stats().seriesCount).toBe(n);
    // Sequential appends take one transaction each.
    await b.append('t', batch([L({ __name__: 'g', i: '0' }), [3], [0]]));
    await b.append('t', batch([L({ __name__: 'g', i: '0' }), [4], [0]]));
    expect(b.stats().transactions).toBe(3);
  });

  it('splits very large queues into several transactions', async () => {
    const b = openBackend(tempDir());
    const big = (name: string) => {
      const ts = Array.from({ length: 30_000 }, (_, i) => i);
      return batch([L({ __name__: name }), ts, ts]);
    };
    const res = await Promise.all([b.append('t', big('x')), b.append('t', big('y'))]);
    expect(res.map((r) => r.samplesWritten)).toEqual([30_000, 30_000]);
    expect(b.stats().transactions).toBe(2);
  });
});

describe('write failures', () => {
  it('rejects the callers of a failed transaction and leaves memory unchanged', async () => {
    const dir = tempDir();
    const b = openBackend(dir);
    const S = L({ __name__: 'f' });
    await b.append('t', batch([S, [1], [1]]));
    // Break the schema from a second connection so the next group commit fails inside SQLite.
    const other = new Database(join(dir, 'tenants', 't.db'));
    other.exec('ALTER TABLE wal RENAME TO wal_moved');
    const failed = await Promise.allSettled([b.append('t', batch([S, [2], [2]])), b.append('t', batch([L({ __name__: 'g' }), [5], [5]]))]);
    for (const r of failed) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'storage-write-failed', kind: 'unavailable' });
    }
    expect(await b.labelValues('t', '__name__', [], ALL)).toEqual(['f']);
    expect(decode((await b.select('t', [m(MatchType.EQ, '__name__', 'f')], 0, 10))[0]!).ts).toEqual([1]);
    other.exec('ALTER TABLE wal_moved RENAME TO wal');
    other.close();
    // Same samples again: accepted as new (nothing was applied), and the new series gets created.
    expect(await b.append('t', batch([S, [2], [2]], [L({ __name__: 'g' }), [5], [5]]))).toEqual({ samplesWritten: 2, rejected: [] });
    expect(await b.labelValues('t', '__name__', [], ALL)).toEqual(['f', 'g']);
    await b.close();
    const b2 = openBackend(dir);
    expect(decode((await b2.select('t', [m(MatchType.EQ, '__name__', 'f')], 0, 10))[0]!).ts).toEqual([1, 2]);
  });
});
