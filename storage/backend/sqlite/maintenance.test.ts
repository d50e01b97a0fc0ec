import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { labelsFromKey, labelsFromRecord, seriesKey } from '../../../common/labels.js';
import { type Labels, type Matcher, MatchType, type SampleBatch, wordsOf } from '../../../common/types.js';
import { XorEncoder } from '../../chunk/xor.js';
import { ChunkEncoding, type SelectedSeries } from '../backend.js';
import { ROW_XOR_LIST } from './open-row.js';
import { PAGE_SIZE, SCHEMA_VERSION } from './statements.js';
import { SqliteBackend, type SqliteBackendOptions } from './sqlite-backend.js';
import { labelsHash, TenantStore } from './tenant-store.js';
import { encodeWalRecord } from './wal-record.js';
import { chunkSampleCount, decodeChunk } from '../../../test/helpers/chunks.js';

const dirs: string[] = [];
const opened: { close(): unknown }[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'promstore-maint-'));
  dirs.push(d);
  return d;
}

/** Rows of one chunk each (rowChunks 1), so retention is observable chunk by chunk. */
function openBackend(dataDir: string, extra: Partial<SqliteBackendOptions> = {}): SqliteBackend {
  const b = SqliteBackend.open({ dataDir, checkpointIntervalMs: 0, retentionIntervalMs: 0, rowChunks: 1, ...extra });
  opened.push(b);
  return b;
}

afterEach(async () => {
  for (const b of opened.splice(0)) {
    try {
      await b.close();
    } catch {
      /* already closed */
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const L = (r: Record<string, string>): Labels => labelsFromRecord(r);
const m = (type: Matcher['type'], name: string, value: string): Matcher => ({ type, name, value });
const ALL = { startMs: -Infinity, endMs: Infinity, limit: 0 };

/** One batch: per series its labels and timestamps; value = timestamp / 10. */
function batch(...series: [Labels, readonly number[]][]): SampleBatch {
  const total = series.reduce((n, s) => n + s[1].length, 0);
  const sampleStart = new Uint32Array(series.length + 1);
  const tsMs = new Float64Array(total);
  const values = new Float64Array(total);
  let k = 0;
  series.forEach(([, ts], i) => {
    sampleStart[i] = k;
    for (const t of ts) {
      tsMs[k] = t;
      values[k] = t / 10;
      k++;
    }
  });
  sampleStart[series.length] = k;
  return { series: series.map((s) => s[0]), sampleStart, tsMs, values };
}

function timestamps(s: SelectedSeries): number[] {
  const n = s.chunks.reduce((acc, c) => acc + chunkSampleCount(c), 0);
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  let off = 0;
  for (const c of s.chunks) off += decodeChunk(c, ts, vs, off);
  for (let i = 0; i < n; i++) expect(vs[i]).toBe((ts[i] as number) / 10);
  return Array.from(ts);
}

/** name → timestamps of every series of tenant t. */
async function dump(b: SqliteBackend): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const s of await b.select('t', [m(MatchType.RE, '__name__', '.+')], -Infinity, Infinity)) out[seriesKey(s.labels)] = timestamps(s);
  return out;
}

const range = (from: number, to: number, step: number): number[] => {
  const out: number[] = [];
  for (let t = from; t <= to; t += step) out.push(t);
  return out;
};

/** Rows of the tenant's label_pairs table as `name=value`, sorted (read from the file). */
function pairRows(dir: string): string[] {
  const db = new Database(join(dir, 'tenants', 't.db'), { readonly: true });
  try {
    return db.prepare<[], [string, string]>('SELECT name, value FROM label_pairs').raw().all().map(([n, v]) => `${n}=${v}`).sort();
  } finally {
    db.close();
  }
}

/** The distinct label pairs of series keys as `name=value`, sorted. */
function pairsOf(keys: readonly string[]): string[] {
  const pairs = new Set<string>();
  for (const k of keys) {
    const ls = labelsFromKey(k);
    for (let i = 0; i < ls.length; i += 2) pairs.add(`${ls[i] as string}=${ls[i + 1] as string}`);
  }
  return [...pairs].sort();
}

describe('retention', () => {
  const OLD = L({ __name__: 'old' });
  const MIXED = L({ __name__: 'mixed', job: 'a' });
  const HEAD_ONLY_OLD = L({ __name__: 'stale_head', job: 'b' });
  const NEW = L({ __name__: 'fresh', job: 'a' });

  // samplesPerChunk 4, step 10: chunks of MIXED are [0..30] [40..70] [80..110] [120..150], head 160..170.
  it.each([
    { name: 'cutoff before everything', cutoff: -1, keep: { mixed: range(0, 170, 10), old: range(0, 70, 10), stale: [5, 15] } },
    { name: 'cutoff inside the second chunk', cutoff: 50, keep: { mixed: range(40, 170, 10), old: range(40, 70, 10), stale: [] } },
    { name: 'cutoff after two chunks', cutoff: 71, keep: { mixed: range(80, 170, 10), old: [], stale: [] } },
    { name: 'cutoff after every chunk', cutoff: 155, keep: { mixed: range(160, 170, 10), old: [], stale: [] } },
    { name: 'cutoff after everything', cutoff: 1000, keep: { mixed: [], old: [], stale: [] } },
  ])('$name', async ({ cutoff, keep }) => {
    const dir = tempDir();
    const clock = new ManualClock(0);
    const retentionMs = 1_000_000;
    const b = openBackend(dir, { samplesPerChunk: 4, retentionMs, clock });
    await b.append('t', batch([MIXED, range(0, 170, 10)], [OLD, range(0, 70, 10)], [HEAD_ONLY_OLD, [5, 15]], [NEW, [2000]]));
    b.checkpoint();
    clock.set(cutoff + retentionMs);
    expect(b.enforceRetention()).toBe(cutoff);

    const want: Record<string, number[]> = { [seriesKey(NEW)]: [2000] };
    if (keep.mixed.length > 0) want[seriesKey(MIXED)] = keep.mixed;
    if (keep.old.length > 0) want[seriesKey(OLD)] = keep.old;
    if (keep.stale.length > 0) want[seriesKey(HEAD_ONLY_OLD)] = keep.stale;
    expect(await dump(b)).toEqual(want);
    // Label pairs no series has any more go with their series.
    expect(pairRows(dir)).toEqual(pairsOf(Object.keys(want)));
    // Dropped series leave the index: names and values disappear from lookups.
    const names = Object.keys(want).map((k) => k.split('\xff')[1]).sort();
    expect(await b.labelValues('t', '__name__', [], ALL)).toEqual(names);
    expect((await b.series('t', [], ALL)).length).toBe(names.length);
    expect(await b.labelValues('t', 'job', [], ALL)).toEqual(keep.stale.length > 0 ? ['a', 'b'] : ['a']);

    // The state rows describe what is left: a reopen (also after a crash) sees the same.
    const crashed = openBackend(dir, { samplesPerChunk: 4 });
    expect(await dump(crashed)).toEqual(want);
    await crashed.close();
    await b.close();
    const again = openBackend(dir, { samplesPerChunk: 4 });
    expect(await dump(again)).toEqual(want);
    // Dropped series can come back (as new series) and surviving ones keep appending.
    const more: [Labels, number[]][] = [[MIXED, [180]]];
    if (keep.old.length === 0) more.push([OLD, [3]]);
    expect(await again.append('t', batch(...more))).toEqual({ samplesWritten: more.length, rejected: [] });
  });

  it('retention 0 keeps everything and the timer runs retention in the background', async () => {
    const dir = tempDir();
    const off = openBackend(dir, { samplesPerChunk: 4 });
    await off.append('t', batch([L({ __name__: 'x' }), range(0, 100, 10)]));
    expect(off.enforceRetention()).toBeNull();
    await off.close();

    const clock = new ManualClock(10_000);
    const b = openBackend(dir, { samplesPerChunk: 4, retentionMs: 9_925, retentionIntervalMs: 1, clock });
    await b.append('t', batch([L({ __name__: 'y' }), [9_000]]));
    for (let i = 0; i < 1000 && b.stats().chunksDeleted < 2; i++) await new Promise((r) => setTimeout(r, 2));
    await b.idle();
    expect(b.stats()).toMatchObject({ chunksDeleted: 2 });
    expect(Object.values(await dump(b))).toEqual([range(80, 100, 10), [9_000]]);
  });
});

describe('checkpoint in steps', () => {
  it('bounds each transaction, interleaves writes, and recovers exactly after a crash between steps', async () => {
    const dir = join(tempDir(), 'tenant.db');
    const store = new TenantStore(dir, { samplesPerChunk: 3, rowChunks: 1, stepBudgetMs: 1e-9, keepFreeBytes: 0 });
    opened.push(store);
    const series = Array.from({ length: 200 }, (_, i) => L({ __name__: 'c', i: String(i) }));
    const want = new Map<string, number[]>();
    const write = (ts: number[]): void => {
      store.commit([batch(...series.map((s) => [s, ts] as [Labels, number[]]))]);
      for (const s of series) want.set(seriesKey(s), [...(want.get(seriesKey(s)) ?? []), ...ts]);
    };
    write([1, 2, 3, 4]);
    expect(store.startCheckpoint()).toBe(true);
    expect(store.startCheckpoint()).toBe(false); // one task at a time
    expect(store.step()).toBe(true);
    write([5, 6]);
    expect(store.step()).toBe(true);
    // Crash here: a second store opens the same file while the first never finished.
    const crashed = new TenantStore(dir, { samplesPerChunk: 3, rowChunks: 1, stepBudgetMs: 20, keepFreeBytes: 0 });
    const got = new Map(crashed.select([], -Infinity, Infinity).map((s) => [seriesKey(s.labels), timestamps(s)]));
    crashed.close();
    expect(got).toEqual(want);
    // The first store finishes its checkpoint, many small transactions later.
    let steps = 2;
    while (store.step()) steps++;
    expect(steps).toBeGreaterThan(5);
    expect(store.stats()).toMatchObject({ checkpoints: 1 });
    expect(store.walBytes).toBeGreaterThan(0); // the record written mid-checkpoint stays
    write([7]);
    store.checkpoint();
    expect(store.walBytes).toBe(0);
    store.close();
    const reopened = new TenantStore(dir, { samplesPerChunk: 3, rowChunks: 1, stepBudgetMs: 20, keepFreeBytes: 0 });
    opened.push(reopened);
    expect(new Map(reopened.select([], -Infinity, Infinity).map((s) => [seriesKey(s.labels), timestamps(s)]))).toEqual(want);
  });
});

describe('space', () => {
  function dbBytes(dir: string): number {
    return statSync(join(dir, 'tenants', 't.db')).size;
  }

  it('gives the space of deleted WAL records and expired chunks back', async () => {
    const dir = tempDir();
    const clock = new ManualClock(0);
    const b = openBackend(dir, { retentionMs: 1, clock });
    const series = Array.from({ length: 500 }, (_, i) => L({ __name__: 's', i: String(i) }));
    for (let step = 0; step < 20; step++) {
      const ts = range(step * 100, step * 100 + 99, 1);
      await b.append('t', batch(...series.map((s) => [s, ts] as [Labels, number[]])));
    }
    await b.close();
    const full = dbBytes(dir);
    const db = new Database(join(dir, 'tenants', 't.db'));
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    // A graceful close returns every free page, not only the surplus routine checkpoints give back.
    expect(db.pragma('freelist_count', { simple: true })).toBe(0);
    db.close();
    const b2 = openBackend(dir, { retentionMs: 1, clock });
    await b2.append('t', batch([L({ __name__: 'keep' }), [10_000]]));
    clock.set(5_000);
    b2.enforceRetention();
    expect(b2.stats().seriesDropped).toBe(500);
    await b2.close();
    // What is left: the schema's tables and indexes, a page or so each.
    expect(dbBytes(dir)).toBeLessThan(full / 10 + 16 * PAGE_SIZE);
  });

  it('converts an older database without auto-vacuum at open', async () => {
    const dir = tempDir();
    const b = openBackend(dir);
    await b.append('t', batch([L({ __name__: 'a' }), [1, 2, 3]]));
    await b.close();
    const path = join(dir, 'tenants', 't.db');
    const db = new Database(path);
    db.pragma('auto_vacuum = NONE');
    db.exec('VACUUM');
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(0);
    db.close();
    const b2 = openBackend(dir);
    expect(Object.values(await dump(b2))).toEqual([[1, 2, 3]]);
    await b2.close();
    const db2 = new Database(path);
    expect(db2.pragma('auto_vacuum', { simple: true })).toBe(2);
    db2.close();
  });
});

/** Values of the hand-built chunks: t / 10. */
const valuesOf = (ts: number[]): Float64Array => new Float64Array(ts.map((t) => t / 10));

/** An XOR chunk of samples at `ts` (values t / 10), as older versions stored them. */
function chunk(ts: number[]): Buffer {
  const enc = new XorEncoder();
  const v = wordsOf(valuesOf(ts));
  ts.forEach((t, i) => enc.append(t, v, i));
  return Buffer.from(enc.bytes());
}

/** The tenant file of `dir` created by hand from `ddl` (an older schema); the caller fills and closes it. */
function handBuiltFile(dir: string, ddl: string): Database.Database {
  const path = join(dir, 'tenants', 't.db');
  // Opening and closing a backend creates the tenants directory.
  SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0 }).close().catch(() => undefined);
  rmSync(path, { force: true });
  const db = new Database(path);
  db.exec(ddl);
  return db;
}

describe('schema version 1 files', () => {
  it('recovers chunks, head snapshots and the WAL of a version 1 file, then migrates it', async () => {
    const dir = tempDir();
    const path = join(dir, 'tenants', 't.db');
    const db = handBuiltFile(dir, `CREATE TABLE series (id INTEGER PRIMARY KEY, labels TEXT NOT NULL);
      CREATE TABLE chunks (series_id INTEGER NOT NULL, min_t INTEGER NOT NULL, max_t INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (series_id, min_t)) WITHOUT ROWID;
      CREATE TABLE wal (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
      CREATE TABLE head (series_id INTEGER PRIMARY KEY, data BLOB NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
      PRAGMA user_version = 1;`);
    const A = L({ __name__: 'a' });
    const B = L({ __name__: 'b' });
    db.prepare('INSERT INTO series VALUES (?, ?)').run(1, seriesKey(A));
    db.prepare('INSERT INTO series VALUES (?, ?)').run(2, seriesKey(B));
    db.prepare('INSERT INTO chunks VALUES (?, ?, ?, ?)').run(1, 0, 20, chunk([0, 10, 20]));
    db.prepare('INSERT INTO chunks VALUES (?, ?, ?, ?)').run(1, 30, 50, chunk([30, 40, 50]));
    db.prepare('INSERT INTO head VALUES (?, ?)').run(1, chunk([30, 40])); // stale: a chunk covers it
    db.prepare('INSERT INTO head VALUES (?, ?)').run(2, chunk([5, 6]));
    const ts = new Float64Array([60, 70, 7]);
    const vals = new Float64Array([6, 7, 0.7]);
    db.prepare('INSERT INTO wal (data) VALUES (?)').run(encodeWalRecord([1, 2], [0, 2], 3, ts, wordsOf(vals)));
    db.close();

    const want = { [seriesKey(A)]: [0, 10, 20, 30, 40, 50, 60, 70], [seriesKey(B)]: [5, 6, 7] };
    const b = openBackend(dir);
    expect(await dump(b)).toEqual(want);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    // Version 3 added the encoding column: the old rows are XOR.
    expect(check.prepare('SELECT DISTINCT enc FROM chunks').pluck().all()).toEqual([ChunkEncoding.XOR]);
    expect(check.prepare('SELECT series_id, chunk_min_t, chunk_max_t FROM head ORDER BY series_id').raw().all()).toEqual([
      [1, 0, 50],
      [2, null, null],
    ]);
    check.close();
    await b.close();
    const b2 = openBackend(dir);
    expect(await dump(b2)).toEqual(want);
    expect(await b2.append('t', batch([A, [70, 80]]))).toEqual({ samplesWritten: 2, rejected: [] });
  });
});

describe('schema version 2 files', () => {
  it('rebuilds the chunks table of a version 2 file (rowid, encoding column) and reads its XOR chunks', async () => {
    const dir = tempDir();
    const path = join(dir, 'tenants', 't.db');
    const db = handBuiltFile(dir, `CREATE TABLE series (id INTEGER PRIMARY KEY, labels TEXT NOT NULL);
      CREATE TABLE chunks (series_id INTEGER NOT NULL, min_t INTEGER NOT NULL, max_t INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (series_id, min_t)) WITHOUT ROWID;
      CREATE TABLE wal (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
      CREATE TABLE head (series_id INTEGER PRIMARY KEY, data BLOB NOT NULL, chunk_min_t INTEGER, chunk_max_t INTEGER, last_lo INTEGER, last_hi INTEGER);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
      PRAGMA user_version = 2;`);
    const A = L({ __name__: 'a' });
    db.prepare('INSERT INTO series VALUES (?, ?)').run(1, seriesKey(A));
    db.prepare('INSERT INTO chunks VALUES (?, ?, ?, ?)').run(1, 0, 20, chunk([0, 10, 20]));
    db.prepare('INSERT INTO chunks VALUES (?, ?, ?, ?)').run(1, 30, 50, chunk([30, 40, 50]));
    const last = wordsOf(valuesOf([50]));
    db.prepare('INSERT INTO head VALUES (?, ?, ?, ?, ?, ?)').run(1, chunk([60]), 0, 50, last[0], last[1]);
    db.close();

    const want = { [seriesKey(A)]: [0, 10, 20, 30, 40, 50, 60] };
    const b = openBackend(dir);
    expect(await dump(b)).toEqual(want);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.prepare('SELECT id, series_id, min_t, enc FROM chunks ORDER BY id').raw().all()).toEqual([
      [1, 1, 0, ChunkEncoding.XOR],
      [2, 1, 30, ChunkEncoding.XOR],
    ]);
    check.close();
    expect(await b.append('t', batch([A, [70, 80]]))).toEqual({ samplesWritten: 2, rejected: [] });
    await b.close();
    expect(await dump(openBackend(dir))).toEqual({ [seriesKey(A)]: [0, 10, 20, 30, 40, 50, 60, 70, 80] });
  });
});

describe('label pairs (schema 4)', () => {
  const A = L({ __name__: 'a', job: 'x' });
  const B = L({ __name__: 'b', job: 'x' });
  const C = L({ __name__: 'a', job: 'y' });

  it('stores each distinct pair once, also for series written after a reopen', async () => {
    const dir = tempDir();
    const b = openBackend(dir);
    await b.append('t', batch([A, [1]], [B, [1]]));
    await b.close();
    const b2 = openBackend(dir);
    await b2.append('t', batch([C, [2]]));
    expect(await dump(b2)).toEqual({ [seriesKey(A)]: [1], [seriesKey(B)]: [1], [seriesKey(C)]: [2] });
    expect(pairRows(dir)).toEqual(['__name__=a', '__name__=b', 'job=x', 'job=y']);
    const db = new Database(join(dir, 'tenants', 't.db'), { readonly: true });
    // A series row is its pair ids: one byte each here, not the label text.
    expect(db.prepare('SELECT max(length(labels)) FROM series').pluck().get()).toBe(2);
    expect(db.prepare('SELECT count(*) FROM label_pairs').pluck().get()).toBe(4);
    db.close();
  });

  it('deletes pair rows no series uses at open (a crash after dropping series) and keeps the rest', async () => {
    const dir = tempDir();
    const b = openBackend(dir);
    await b.append('t', batch([A, [1]]));
    await b.close();
    const db = new Database(join(dir, 'tenants', 't.db'));
    db.prepare('INSERT INTO label_pairs (id, name, value) VALUES (?, ?, ?)').run(100, 'orphan', 'v');
    db.close();
    const b2 = openBackend(dir);
    expect(await dump(b2)).toEqual({ [seriesKey(A)]: [1] });
    expect(pairRows(dir)).toEqual(['__name__=a', 'job=x']);
    // New pairs are numbered after every id seen, so they never collide with a row being deleted.
    await b2.append('t', batch([C, [2]]));
    await b2.close();
    expect(await dump(openBackend(dir))).toEqual({ [seriesKey(A)]: [1], [seriesKey(C)]: [2] });
  });

  it.each([
    { name: 'a truncated varint', labels: Buffer.from([0x80]), error: /series 1: truncated pair id/ },
    { name: 'an unknown pair id', labels: Buffer.from([0x7f]), error: /series 1: unknown label pair 127/ },
  ])('refuses to open a file whose series row holds $name', async ({ labels, error }) => {
    const dir = tempDir();
    const b = openBackend(dir);
    await b.append('t', batch([A, [1]]));
    await b.close();
    const db = new Database(join(dir, 'tenants', 't.db'));
    db.prepare('UPDATE series SET labels = ? WHERE id = 1').run(labels);
    db.close();
    await expect(dump(openBackend(dir))).rejects.toThrow(error);
  });
});

describe('schema version 3 files', () => {
  const A = L({ __name__: 'a', job: 'x' });
  const B = L({ __name__: 'b', job: 'x' });
  const C = L({ __name__: 'a', job: 'y' });

  it('converts the label text of a version 3 file into label pairs', async () => {
    const dir = tempDir();
    const path = join(dir, 'tenants', 't.db');
    const db = handBuiltFile(dir, `CREATE TABLE series (id INTEGER PRIMARY KEY, labels TEXT NOT NULL);
      CREATE TABLE chunks (id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, min_t INTEGER NOT NULL, max_t INTEGER NOT NULL, enc INTEGER NOT NULL, data BLOB NOT NULL);
      CREATE UNIQUE INDEX chunks_by_series ON chunks (series_id, min_t);
      CREATE TABLE wal (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
      CREATE TABLE head (series_id INTEGER PRIMARY KEY, data BLOB NOT NULL, chunk_min_t INTEGER, chunk_max_t INTEGER, last_lo INTEGER, last_hi INTEGER);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
      PRAGMA user_version = 3;`);
    db.prepare('INSERT INTO series VALUES (?, ?)').run(1, seriesKey(A));
    db.prepare('INSERT INTO series VALUES (?, ?)').run(2, seriesKey(B));
    db.prepare('INSERT INTO chunks (series_id, min_t, max_t, enc, data) VALUES (?, ?, ?, ?, ?)').run(1, 0, 20, ChunkEncoding.XOR, chunk([0, 10, 20]));
    const last = wordsOf(valuesOf([20]));
    db.prepare('INSERT INTO head VALUES (?, ?, ?, ?, ?, ?)').run(1, chunk([30]), 0, 20, last[0], last[1]);
    db.prepare('INSERT INTO head VALUES (?, ?, ?, ?, ?, ?)').run(2, chunk([5]), null, null, null, null);
    db.close();

    const want = { [seriesKey(A)]: [0, 10, 20, 30], [seriesKey(B)]: [5] };
    const b = openBackend(dir);
    expect(await dump(b)).toEqual(want);
    expect(pairRows(dir)).toEqual(['__name__=a', '__name__=b', 'job=x']);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.prepare('SELECT DISTINCT typeof(labels) FROM series').pluck().all()).toEqual(['blob']);
    expect(check.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'series_before_v4'").pluck().get()).toBe(0);
    check.close();
    expect(await b.append('t', batch([C, [40]]))).toEqual({ samplesWritten: 1, rejected: [] });
    await b.close();
    expect(await dump(openBackend(dir))).toEqual({ ...want, [seriesKey(C)]: [40] });
  });
});

describe('open rows (rows not yet complete)', () => {
  const S = L({ __name__: 's' });
  /** Rows in each table of the tenant file: [complete rows' sample ranges, open row's range]. */
  function rows(dir: string): { complete: number[][]; open: number[][] } {
    const db = new Database(join(dir, 'tenants', 't.db'), { readonly: true });
    try {
      return {
        complete: db.prepare<[], number[]>('SELECT min_t, max_t FROM chunks ORDER BY min_t').raw().all(),
        open: db.prepare<[], number[]>('SELECT min_t, max_t FROM open_rows ORDER BY series_id').raw().all(),
      };
    } finally {
      db.close();
    }
  }

  it('keeps a full head in memory until the next sample needs a new chunk (as Prometheus cuts)', async () => {
    const dir = tempDir();
    const b = openBackend(dir, { samplesPerChunk: 4, rowChunks: 3 });
    await b.append('t', batch([S, range(0, 30, 10)]));
    b.checkpoint();
    expect(rows(dir)).toEqual({ complete: [], open: [] });
    const head = (await b.select('t', [m(MatchType.EQ, '__name__', 's')], 25, 30))[0] as SelectedSeries;
    expect(head.chunks.map((c) => [c.encoding, c.minTimeMs, c.maxTimeMs])).toEqual([[ChunkEncoding.XOR, 0, 30]]);
    await b.append('t', batch([S, [40]]));
    b.checkpoint();
    expect(rows(dir)).toEqual({ complete: [], open: [[0, 30]] });
    expect(await dump(openBackend(dir, { samplesPerChunk: 4, rowChunks: 3 }))).toEqual({ [seriesKey(S)]: range(0, 40, 10) });
  });

  it('grows one open row per flush until it is complete, and reads it back at every step', async () => {
    const dir = tempDir();
    // 4 samples per chunk, 3 chunks per row: a row is complete at 12 samples.
    const b = openBackend(dir, { samplesPerChunk: 4, rowChunks: 3 });
    // A full head is cut when the next sample arrives, so each step ends with one sample in the head.
    const steps = [
      { ts: range(0, 40, 10), complete: [], open: [[0, 30]] },
      { ts: range(50, 80, 10), complete: [], open: [[0, 70]] },
      { ts: range(90, 120, 10), complete: [[0, 110]], open: [] },
      { ts: range(130, 200, 10), complete: [[0, 110]], open: [[120, 190]] },
      // Two chunks at once on top of a 2-chunk open row: one complete row, one open.
      { ts: range(210, 280, 10), complete: [[0, 110], [120, 230]], open: [[240, 270]] },
    ];
    let all: number[] = [];
    for (const step of steps) {
      await b.append('t', batch([S, step.ts]));
      b.checkpoint();
      all = [...all, ...step.ts];
      expect(rows(dir)).toEqual({ complete: step.complete, open: step.open });
      expect(await dump(b)).toEqual({ [seriesKey(S)]: all });
      // A reopen (also after a crash: the first backend is never closed) reads the same.
      expect(await dump(openBackend(dir, { samplesPerChunk: 4, rowChunks: 3 }))).toEqual({ [seriesKey(S)]: all });
    }
    // Ranges that hit only complete rows, only the open row, and both.
    const sel = async (from: number, to: number): Promise<number[]> => timestamps((await b.select('t', [m(MatchType.EQ, '__name__', 's')], from, to))[0] as SelectedSeries);
    expect((await sel(50, 60)).filter((t) => t >= 50 && t <= 60)).toEqual([50, 60]);
    expect(await sel(250, 260)).toEqual(range(240, 270, 10));
    expect((await sel(100, 250)).filter((t) => t >= 100 && t <= 250)).toEqual(range(100, 250, 10));
  });

  it('keeps the open row as XOR chunks until it is complete or an admin flush seals it compact; a close leaves it', async () => {
    const dir = tempDir();
    const opts = { samplesPerChunk: 4, rowChunks: 3 };
    const encOfOpenRow = (): number[] => {
      const db = new Database(join(dir, 'tenants', 't.db'), { readonly: true });
      try {
        return db.prepare<[], number>('SELECT enc FROM open_rows').pluck().all();
      } finally {
        db.close();
      }
    };
    const encodings = async (b: SqliteBackend): Promise<number[]> =>
      ((await b.select('t', [m(MatchType.EQ, '__name__', 's')], -Infinity, Infinity))[0] as SelectedSeries).chunks.map((c) => c.encoding);
    const b = openBackend(dir, opts);
    let all = range(0, 80, 10); // two cut chunks, one sample in the head
    await b.append('t', batch([S, all]));
    b.checkpoint();
    expect(encOfOpenRow()).toEqual([ROW_XOR_LIST]);
    expect(await encodings(b)).toEqual([ChunkEncoding.XOR, ChunkEncoding.XOR, ChunkEncoding.XOR]);
    expect(await dump(openBackend(dir, opts))).toEqual({ [seriesKey(S)]: all });
    // The admin flush re-encodes it compact, though no chunk was cut since the checkpoint.
    await b.flush();
    expect(encOfOpenRow()).toEqual([ChunkEncoding.COMPACT]);
    expect(rows(dir)).toEqual({ complete: [], open: [[0, 70]] });
    expect(await encodings(b)).toEqual([ChunkEncoding.COMPACT, ChunkEncoding.XOR]);
    expect(await dump(b)).toEqual({ [seriesKey(S)]: all });
    // A chunk cut onto a compact open row completes it (decoded and re-encoded once more).
    await b.append('t', batch([S, range(90, 120, 10)]));
    all = [...all, ...range(90, 120, 10)];
    b.checkpoint();
    expect(rows(dir)).toEqual({ complete: [[0, 110]], open: [] });
    // The next chunks start an XOR open row again, which a close leaves as it is (and a reopen reads).
    await b.append('t', batch([S, range(130, 200, 10)]));
    all = [...all, ...range(130, 200, 10)];
    b.checkpoint();
    expect(encOfOpenRow()).toEqual([ROW_XOR_LIST]);
    expect(await dump(b)).toEqual({ [seriesKey(S)]: all });
    await b.close();
    expect(encOfOpenRow()).toEqual([ROW_XOR_LIST]);
    expect(rows(dir)).toEqual({ complete: [[0, 110]], open: [[120, 190]] });
    expect(await dump(openBackend(dir, opts))).toEqual({ [seriesKey(S)]: all });
  });

  it('answers chunk-corrupt for a damaged XOR open row, and goes on serving other series', async () => {
    const dir = tempDir();
    const opts = { samplesPerChunk: 4, rowChunks: 3 };
    const b = openBackend(dir, opts);
    const T = L({ __name__: 't' });
    await b.append('t', batch([S, range(0, 80, 10)], [T, range(0, 80, 10)]));
    b.checkpoint(); // not closed: as after a crash
    const db = new Database(join(dir, 'tenants', 't.db'));
    // Claim a chunk longer than the row: the list no longer parses.
    db.prepare("UPDATE open_rows SET data = substr(data, 1, 30) WHERE series_id = (SELECT min(series_id) FROM open_rows)").run();
    db.close();
    const b2 = openBackend(dir, opts);
    await expect(b2.select('t', [m(MatchType.EQ, '__name__', 's')], -Infinity, Infinity)).rejects.toMatchObject({ code: 'chunk-corrupt' });
    const good = await b2.select('t', [m(MatchType.EQ, '__name__', 't')], -Infinity, Infinity);
    expect(timestamps(good[0] as SelectedSeries)).toEqual(range(0, 80, 10));
  });

  it('retention deletes an expired open row with the complete rows before it', async () => {
    const dir = tempDir();
    const clock = new ManualClock(0);
    const retentionMs = 1_000_000;
    const b = openBackend(dir, { samplesPerChunk: 4, rowChunks: 3, retentionMs, clock });
    await b.append('t', batch([S, range(0, 170, 10)])); // complete row 0..110, open row 120..150, head 160..170
    b.checkpoint();
    expect(rows(dir)).toEqual({ complete: [[0, 110]], open: [[120, 150]] });
    clock.set(115 + retentionMs);
    b.enforceRetention();
    expect(rows(dir)).toEqual({ complete: [], open: [[120, 150]] });
    expect(await dump(b)).toEqual({ [seriesKey(S)]: range(120, 170, 10) });
    clock.set(155 + retentionMs);
    b.enforceRetention();
    expect(rows(dir)).toEqual({ complete: [], open: [] });
    expect(await dump(b)).toEqual({ [seriesKey(S)]: range(160, 170, 10) });
    await b.close();
    expect(await dump(openBackend(dir, { samplesPerChunk: 4, rowChunks: 3 }))).toEqual({ [seriesKey(S)]: range(160, 170, 10) });
  });
});

describe('head snapshots (schema 5)', () => {
  const S = L({ __name__: 's' });
  const TS = [0, 10, 25, 30, 41, 50, 60, 75, 80, 93, 100];
  const chunksOf = async (b: SqliteBackend): Promise<number[][]> => {
    const sel = (await b.select('t', [m(MatchType.EQ, '__name__', 's')], -Infinity, Infinity))[0] as SelectedSeries;
    return sel.chunks.map((c) => [c.encoding, c.minTimeMs, c.maxTimeMs]);
  };

  const headEncodings = (dir: string): unknown[] => {
    const db = new Database(join(dir, 'tenants', 't.db'), { readonly: true });
    try {
      return db.prepare('SELECT DISTINCT head_enc FROM head').pluck().all();
    } finally {
      db.close();
    }
  };

  it('are XOR at routine checkpoints and COMPACT after a graceful close, and both come back', async () => {
    const dir = tempDir();
    const b = openBackend(dir, { samplesPerChunk: 8 });
    await b.append('t', batch([S, TS]));
    b.checkpoint();
    expect(headEncodings(dir)).toEqual([ChunkEncoding.XOR]);
    // Never closed: this one recovers from the files as after kill -9, and resumes the XOR head.
    const crashed = openBackend(dir, { samplesPerChunk: 8 });
    expect(await chunksOf(crashed)).toEqual([
      [ChunkEncoding.COMPACT, 0, 75],
      [ChunkEncoding.XOR, 80, 100],
    ]);
    await b.close();
    expect(headEncodings(dir)).toEqual([ChunkEncoding.COMPACT]);
    // The COMPACT snapshot comes back as a cut chunk, as it is (nothing re-encoded at open).
    const again = openBackend(dir, { samplesPerChunk: 8 });
    expect(await chunksOf(again)).toEqual([
      [ChunkEncoding.COMPACT, 0, 75],
      [ChunkEncoding.COMPACT, 80, 100],
    ]);
    // The duplicate rule still knows the last sample; new samples start a new head.
    expect(await again.append('t', batch([S, [100, 110, 127]]))).toEqual({ samplesWritten: 3, rejected: [] });
    expect(await chunksOf(again)).toEqual([
      [ChunkEncoding.COMPACT, 0, 75],
      [ChunkEncoding.COMPACT, 80, 100],
      [ChunkEncoding.XOR, 110, 127],
    ]);
    again.checkpoint();
    // The restored chunk became a row at that checkpoint (rows of one chunk here).
    const check = new Database(join(dir, 'tenants', 't.db'), { readonly: true });
    expect(check.prepare('SELECT min_t, max_t FROM chunks ORDER BY min_t').raw().all()).toEqual([
      [0, 75],
      [80, 100],
    ]);
    check.close();
    expect(await dump(openBackend(dir, { samplesPerChunk: 8 }))).toEqual({ [seriesKey(S)]: [...TS, 110, 127] });
  });

  it('refuses a file of a newer schema version instead of misreading it', async () => {
    const dir = tempDir();
    const b = openBackend(dir);
    await b.append('t', batch([S, [10]]));
    await b.close();
    const db = new Database(join(dir, 'tenants', 't.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const reopened = openBackend(dir);
    await expect(reopened.append('t', batch([S, [20]]))).rejects.toMatchObject({ code: 'storage-version-newer' });
  });
});

describe('series found by label hash', () => {
  it('keeps series whose labels hash the same apart, also when one of them is dropped', async () => {
    // Two label sets with the same 30-bit hash (birthday search: ~2^15 tries).
    const seen = new Map<number, Labels>();
    let pair: [Labels, Labels] | undefined;
    for (let i = 0; pair === undefined && i < 1_000_000; i++) {
      const ls = L({ __name__: 'c', i: String(i) });
      const h = labelsHash(ls);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, ls];
      else seen.set(h, ls);
    }
    if (pair === undefined) throw new Error('no collision found');
    const [X, Y] = pair;
    const dir = tempDir();
    const clock = new ManualClock(0);
    const b = openBackend(dir, { samplesPerChunk: 4, retentionMs: 1_000, clock });
    // X twice in one commit, after Y: the second X is found behind Y in the commit's new-series chain.
    await b.append('t', batch([X, [10]], [Y, [1_500]], [X, [20]]));
    await b.append('t', batch([X, [30]], [Y, [1_600]]));
    expect(await dump(b)).toEqual({ [seriesKey(X)]: [10, 20, 30], [seriesKey(Y)]: [1_500, 1_600] });
    clock.set(2_000); // X has nothing newer than the cutoff (1,000) and is dropped; Y stays
    b.enforceRetention();
    expect(b.stats().seriesDropped).toBe(1);
    await b.append('t', batch([Y, [1_700]], [X, [1_800]]));
    expect(await dump(b)).toEqual({ [seriesKey(X)]: [1_800], [seriesKey(Y)]: [1_500, 1_600, 1_700] });
    await b.close();
    expect(await dump(openBackend(dir, { samplesPerChunk: 4 }))).toEqual({ [seriesKey(X)]: [1_800], [seriesKey(Y)]: [1_500, 1_600, 1_700] });
  });
});
